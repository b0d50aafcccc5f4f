import type { Kysely } from 'kysely';
import type { Config } from '../../config/index.ts';
import type { DB } from '../../db/types.ts';
import { minuteTick, type Schedule } from '../../jobs/cron.ts';
import type { JobProducer } from '../../jobs/producer.ts';
import type { Logger } from '../../logger.ts';
import { defineModule } from '../module.ts';
import { createEventsRepository } from './events.repository.ts';
import { createRelay, createRelayHandler, createRelayListener, type EventConsumer } from './relay.ts';

export {
  EVENT_CATALOGUE,
  EVENT_TYPES,
  eventCatalogueJson,
  isEventType,
  isValidEventPayload,
  type EventPayload,
  type EventType,
  type OutboxEvent,
} from './catalogue.ts';
export { insertEvents, type RelayedEvent } from './events.repository.ts';
export type { EventConsumer } from './relay.ts';

/**
 * The relay runs in every worker right after each commit that wrote events (LISTEN/NOTIFY); the cron's
 * relay job each minute is the sweep behind it, for events whose notification was lost.
 */
export const schedules: readonly Schedule[] = [
  { name: 'events-relay', expression: '* * * * *', job: (tick) => ({ name: 'events.relay', payload: { tick: minuteTick(tick) } }) },
];

/**
 * The outbox: every change others must hear about writes an `events` row in its own transaction
 * (`insertEvents`), and the relay hands unrelayed rows to the consumers other modules register (webhook
 * deliveries, automations), marking them relayed in the same transaction.
 */
export function createEventsModule(deps: {
  db: Kysely<DB>;
  producer: JobProducer;
  config: Pick<Config, 'RETENTION_EVENTS_DAYS' | 'DATABASE_URL'>;
  logger: Logger;
  /** Consumers of relayed events: the composition root fills this list with every module's consumers. */
  consumers: readonly EventConsumer[];
}) {
  const repository = createEventsRepository(deps.db);
  const relay = createRelay({ eventsRepository: repository, producer: deps.producer, consumers: deps.consumers });
  return defineModule({
    name: 'events',
    services: {
      /** Age in seconds of the oldest event not yet relayed (the outbox-lag metric). */
      outboxLagSeconds: repository.outboxLagSeconds,
    },
    jobs: () => ({ 'events.relay': createRelayHandler(relay) }),
    // Relays after every commit, in each worker that delivers webhooks.
    workerLoops: [
      {
        name: 'events-relay-listener',
        queue: 'webhook',
        create: () => createRelayListener({ databaseUrl: deps.config.DATABASE_URL, relay, logger: deps.logger }),
      },
    ],
    retention: [{ name: 'events', days: deps.config.RETENTION_EVENTS_DAYS, run: repository.deleteRelayedBefore }],
  });
}

export type EventsModule = ReturnType<typeof createEventsModule>;
