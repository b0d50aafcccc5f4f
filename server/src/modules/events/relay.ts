import type { Transaction } from 'kysely';
import type { DB } from '../../db/types.ts';
import type { JobHandler } from '../../jobs/context.ts';
import type { JobProducer } from '../../jobs/producer.ts';
import type { JobRequest } from '../../jobs/registry.ts';
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

/**
 * The one place outbox events leave the database. Each batch is locked (SKIP LOCKED, so parallel relays
 * split the work), handed to every consumer, and marked relayed in the same transaction; follow-up jobs
 * are enqueued after commit. An event whose batch fails stays unrelayed and is retried by the next run.
 */
export function createRelayHandler(deps: { eventsRepository: EventsRepository; producer: JobProducer; consumers: readonly EventConsumer[] }): JobHandler<'events.relay'> {
  const { eventsRepository: repo, producer, consumers } = deps;
  return async (_payload, context) => {
    let relayed = 0;
    for (let batch = 0; batch < MAX_BATCHES && !context.signal.aborted; batch += 1) {
      const { count, jobs } = await repo.transaction(async (trx) => {
        const events = await repo.lockUnrelayed(trx, BATCH);
        const followUps: JobRequest[] = [];
        for (const consumer of consumers) followUps.push(...((await consumer.handle(trx, events)) ?? []));
        await repo.markRelayed(trx, events.map((e) => e.id));
        return { count: events.length, jobs: followUps };
      });
      if (jobs.length > 0) await producer.enqueueMany(jobs);
      relayed += count;
      if (count < BATCH) return { relayed };
    }
    // Stopped by shutdown with events left: another worker takes the job over at once.
    if (context.signal.aborted) return context.giveBack();
    return { relayed };
  };
}
