import type { Queues } from './queues.ts';
import { isValidPayload, JOBS, type JobName, type JobPayload, type JobRequest } from './registry.ts';

/**
 * Enqueues registered jobs with their default options and deterministic ids. Call it only after the
 * transaction that made the work necessary has committed, never inside it.
 */
export function createJobProducer(queues: Queues) {
  function toBulk(request: JobRequest) {
    const job = JOBS[request.name];
    if (!isValidPayload(request.name, request.payload)) throw new TypeError(`invalid payload for job ${request.name}`);
    const jobId = (job.jobId as (payload: unknown) => string)(request.payload);
    return { name: request.name, data: request.payload, opts: { ...job.options, jobId, ...(request.delayMs ? { delay: request.delayMs } : {}) } };
  }

  return {
    async enqueue<N extends JobName>(name: N, payload: JobPayload<N>, options: { delayMs?: number } = {}): Promise<void> {
      const { data, opts } = toBulk({ name, payload, ...options } as JobRequest);
      await queues.get(JOBS[name].queue).add(name, data, opts);
    },

    /** Enqueues many jobs with one round trip per queue. */
    async enqueueMany(requests: readonly JobRequest[]): Promise<void> {
      const byQueue = new Map<string, ReturnType<typeof toBulk>[]>();
      for (const request of requests) {
        const queue = JOBS[request.name].queue;
        const list = byQueue.get(queue) ?? [];
        list.push(toBulk(request));
        byQueue.set(queue, list);
      }
      await Promise.all([...byQueue].map(([queue, jobs]) => queues.get(queue as never).addBulk(jobs)));
    },
  };
}

export type JobProducer = ReturnType<typeof createJobProducer>;
