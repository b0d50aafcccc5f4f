import type { Kysely } from 'kysely';
import type pg from 'pg';
import type { Config } from '../../config/index.ts';
import type { DB } from '../../db/types.ts';
import type { JobProducer } from '../../jobs/producer.ts';
import type { TagRepository } from '../tags/index.ts';
import { createBulkActionRepository } from './bulk-actions.repository.ts';
import { bulkActionRoutes } from './bulk-actions.routes.ts';
import { createBulkActionService } from './bulk-actions.service.ts';
import { defineModule } from '../module.ts';
import { createSubscriberRepository } from './subscribers.repository.ts';
import { subscriberRoutes } from './subscribers.routes.ts';
import { createSubscriberService, type SubscriberLimits } from './subscribers.service.ts';

export type { CreateOneInput, HistoryInsert, Origin, SubscriberRepository, SubscriberRow } from './subscribers.repository.ts';
export { SUBSCRIBER_STATUSES, Subscriber, SubscriberTag, type SubscriberDto, type SubscriberStatus } from './subscribers.schemas.ts';
export { historyRow, MAX_NEW_TAGS_PER_REQUEST, tagEvent, type Author, type SubscriberService } from './subscribers.service.ts';
export { isFiltered, ListFilterFields, normalizeFilter, type ListFilterInput } from './list-query.ts';
export { decideStatusChange, type StatusChannel, type StatusChangeRequest, type StatusDecision } from './status-rule.ts';

/** Subscribers: create (in one statement with tags, history and outbox rows), read, update, erase, tags, history, notes, batch upsert, bulk actions over a filter. */
export function createSubscribersModule(deps: {
  db: Kysely<DB>;
  /** The pool under `db`, for the one named prepared statement (GET /subscribers/{id}). */
  pool: pg.Pool;
  config: Pick<Config, 'TRUST_CF_CONNECTING_IP'>;
  tagRepository: TagRepository;
  entitlements: SubscriberLimits;
  /** Starts the background job of a bulk action. */
  producer: Pick<JobProducer, 'enqueue'>;
}) {
  const subscriberRepository = createSubscriberRepository(deps.db, deps.pool);
  const subscribers = createSubscriberService({ db: deps.db, subscriberRepository, tagRepository: deps.tagRepository, entitlements: deps.entitlements });
  const bulkActions = createBulkActionService({
    db: deps.db,
    repository: createBulkActionRepository(deps.db),
    subscriberRepository,
    tagRepository: deps.tagRepository,
    producer: deps.producer,
  });
  return defineModule({
    name: 'subscribers',
    services: { subscribers, subscriberRepository, bulkActions },
    routes: async (app) => {
      await app.register(subscriberRoutes, { config: deps.config, subscribers });
      await app.register(bulkActionRoutes, { bulkActions });
    },
    jobs: () => ({ 'subscribers.bulk-action': bulkActions.job() }),
  });
}
