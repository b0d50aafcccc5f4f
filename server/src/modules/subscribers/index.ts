import type { Kysely } from 'kysely';
import type pg from 'pg';
import type { Config } from '../../config/index.ts';
import type { DB } from '../../db/types.ts';
import type { TagRepository } from '../tags/index.ts';
import { defineModule, mount } from '../module.ts';
import { createSubscriberRepository } from './subscribers.repository.ts';
import { subscriberRoutes } from './subscribers.routes.ts';
import { createSubscriberService, type SubscriberLimits } from './subscribers.service.ts';

export type { CreateOneInput, HistoryInsert, Origin, SubscriberRepository, SubscriberRow } from './subscribers.repository.ts';
export { SUBSCRIBER_STATUSES, Subscriber, SubscriberTag, type SubscriberDto, type SubscriberStatus } from './subscribers.schemas.ts';
export { historyRow, MAX_NEW_TAGS_PER_REQUEST, tagEvent, type Author, type SubscriberService } from './subscribers.service.ts';
export { decideStatusChange, type StatusChannel, type StatusChangeRequest, type StatusDecision } from './status-rule.ts';

/** Subscribers: create (in one statement with tags, history and outbox rows), read, update, erase, tags, history, notes, batch upsert. */
export function createSubscribersModule(deps: {
  db: Kysely<DB>;
  /** The pool under `db`, for the one named prepared statement (GET /subscribers/{id}). */
  pool: pg.Pool;
  config: Pick<Config, 'TRUST_CF_CONNECTING_IP'>;
  tagRepository: TagRepository;
  entitlements: SubscriberLimits;
}) {
  const subscriberRepository = createSubscriberRepository(deps.db, deps.pool);
  const subscribers = createSubscriberService({ db: deps.db, subscriberRepository, tagRepository: deps.tagRepository, entitlements: deps.entitlements });
  return defineModule({
    name: 'subscribers',
    services: { subscribers, subscriberRepository },
    routes: mount(subscriberRoutes, { config: deps.config, subscribers }),
  });
}
