import type { Gauge } from 'prom-client';
import type { Queues } from '../jobs/queues.ts';
import { QUEUE_NAMES } from '../jobs/registry.ts';

const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed', 'prioritized'] as const;

/** Reads every queue's job counts into the gauge: one small Redis pipeline per queue. */
export async function collectQueueDepth(queues: Queues, gauge: Gauge<'queue' | 'state'>): Promise<void> {
  await Promise.all(
    QUEUE_NAMES.map(async (name) => {
      const counts = await queues.get(name).getJobCounts(...QUEUE_STATES);
      for (const [state, count] of Object.entries(counts)) gauge.set({ queue: name, state }, count);
    }),
  );
}

/**
 * Bounds what scrapes cost, whoever scrapes and however often: concurrent scrapes share one collection,
 * and a scrape within `minIntervalMs` of the last collection serves the values it left in the gauges.
 */
export function throttleCollection(collect: () => Promise<void>, minIntervalMs: number): () => Promise<void> {
  let inFlight: Promise<void> | undefined;
  let lastFinished = 0;
  return () => {
    if (inFlight) return inFlight;
    if (Date.now() - lastFinished < minIntervalMs) return Promise.resolve();
    inFlight = collect().finally(() => {
      lastFinished = Date.now();
      inFlight = undefined;
    });
    return inFlight;
  };
}
