import pg from 'pg';
import type { Transaction } from 'kysely';
import type { DB } from '../../db/types.ts';
import type { JobHandler } from '../../jobs/context.ts';
import type { JobProducer } from '../../jobs/producer.ts';
import type { JobRequest } from '../../jobs/registry.ts';
import type { Logger } from '../../logger.ts';
import type { EventsRepository, RelayedEvent } from './events.repository.ts';

/**
 * A consumer of outbox events (webhook deliveries, automations). `handle` runs inside the relay's
 * transaction, so rows it writes (e.g. one delivery per endpoint) commit together with marking the
 * events relayed; the jobs it returns are enqueued after that commit. It must not call the network.
 */
export interface EventConsumer {
  name: string;
  handle(trx: Transaction<DB>, events: readonly RelayedEvent[]): Promise<JobRequest[] | void>;
}

const BATCH = 500;
const MAX_BATCHES = 50;

/** The channel the outbox trigger notifies after every commit that wrote events (migration 20261208T0450). */
export const OUTBOX_CHANNEL = 'events_outbox';

/**
 * The one place outbox events leave the database. Each batch is locked (SKIP LOCKED, so parallel relays
 * split the work), handed to every consumer, and marked relayed in the same transaction; follow-up jobs
 * are enqueued after commit. An event whose batch fails stays unrelayed and is retried by the next run.
 * `drain` runs batches until the outbox is empty, `MAX_BATCHES` are done or `signal` is aborted.
 */
export function createRelay(deps: { eventsRepository: EventsRepository; producer: JobProducer; consumers: readonly EventConsumer[] }) {
  const { eventsRepository: repo, producer, consumers } = deps;
  return {
    async drain(signal: AbortSignal): Promise<{ relayed: number; more: boolean }> {
      let relayed = 0;
      for (let batch = 0; batch < MAX_BATCHES && !signal.aborted; batch += 1) {
        const { count, jobs } = await repo.transaction(async (trx) => {
          const events = await repo.lockUnrelayed(trx, BATCH);
          const followUps: JobRequest[] = [];
          for (const consumer of consumers) followUps.push(...((await consumer.handle(trx, events)) ?? []));
          await repo.markRelayed(
            trx,
            events.map((e) => e.id),
          );
          return { count: events.length, jobs: followUps };
        });
        if (jobs.length > 0) await producer.enqueueMany(jobs);
        relayed += count;
        if (count < BATCH) return { relayed, more: false };
      }
      return { relayed, more: true };
    },
  };
}

export type Relay = ReturnType<typeof createRelay>;

/** The cron's relay job: the safety sweep behind the listening relay (and the only relay when none listens). */
export function createRelayHandler(relay: Relay): JobHandler<'events.relay'> {
  return async (_payload, context) => {
    const { relayed, more } = await relay.drain(context.signal);
    // Stopped by shutdown with events left: another worker takes the job over at once.
    if (more && context.signal.aborted) return context.giveBack();
    return { relayed };
  };
}

// A burst of commits is relayed together: the relay waits this long after the first notification.
const COALESCE_MS = 5;
const RECONNECT_MS = 1000;

/**
 * The relay as it runs in every worker process that works the webhook queue: a dedicated connection
 * LISTENs on the outbox channel, and each notification (sent by PostgreSQL when a transaction that
 * wrote events commits) wakes one drain; notifications that arrive during a drain cause one more.
 * Several processes may listen at once: the relay's SKIP LOCKED batches split the work between them.
 * After a lost connection it reconnects and drains once (notifications sent meanwhile are lost, the
 * events are not); the cron's relay job each minute remains the sweep behind it.
 */
export function createRelayListener(deps: { databaseUrl: string; relay: Relay; logger: Logger }) {
  const { relay, logger } = deps;
  const stopping = new AbortController();
  let client: pg.Client | null = null;
  let wanted = false;
  let running: Promise<void> | null = null;
  let reconnectTimer: NodeJS.Timeout | null = null;

  function wake(): void {
    wanted = true;
    if (running || stopping.signal.aborted) return;
    running = (async () => {
      await new Promise((resolve) => setTimeout(resolve, COALESCE_MS));
      while (wanted && !stopping.signal.aborted) {
        wanted = false;
        try {
          const { more } = await relay.drain(stopping.signal);
          if (more) wanted = true;
        } catch (error) {
          // The events stay unrelayed; the next notification or the cron's sweep relays them.
          logger.warn({ err: error }, 'outbox relay failed');
          break;
        }
      }
    })().finally(() => {
      running = null;
    });
  }

  async function connect(): Promise<void> {
    if (stopping.signal.aborted) return;
    const next = new pg.Client({ connectionString: deps.databaseUrl, application_name: 'subscribe-flow-relay' });
    const lost = (error?: Error) => {
      if (client !== next) return;
      client = null;
      next.removeAllListeners('notification');
      next.end().catch(() => undefined);
      if (stopping.signal.aborted) return;
      logger.warn({ err: error }, 'outbox listener lost its connection; reconnecting');
      reconnectTimer = setTimeout(() => void connect(), RECONNECT_MS);
    };
    next.on('error', lost);
    next.on('end', () => lost());
    next.on('notification', wake);
    client = next;
    try {
      await next.connect();
      await next.query(`LISTEN ${OUTBOX_CHANNEL}`);
      // Whatever was committed before the LISTEN (or while disconnected) is relayed now.
      wake();
    } catch (error) {
      lost(error as Error);
    }
  }

  return {
    start: connect,
    /** Stops listening and waits for a drain in progress (aborted between batches). */
    async stop(): Promise<void> {
      stopping.abort();
      if (reconnectTimer) clearTimeout(reconnectTimer);
      const current = client;
      client = null;
      await current?.end().catch(() => undefined);
      await running;
    },
  };
}
