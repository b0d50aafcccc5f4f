import { currentRequestId } from '../lib/log-context.ts';
import { failAfter } from '../lib/unavailable.ts';
import type { Queues } from './queues.ts';
import { isValidPayload, JOBS, toJobData, type JobName, type JobPayload, type JobRequest } from './registry.ts';

/**
 * How long an enqueue may wait. BullMQ waits for a connection that was never ready (Redis down since the
 * process started) without limit; callers must learn within about a second that the job is not queued.
 */
export const ENQUEUE_TIMEOUT_MS = 1000;

/**
 * Enqueues registered jobs with their default options and deterministic ids. Call it only after the
 * transaction that made the work necessary has committed, never inside it. A job enqueued while a request
 * (or another job) is handled carries that request's id for the worker's logs (lib/log-context.ts).
 */
export function createJobProducer(queues: Queues) {
  function toBulk(request: JobRequest) {
    const job = JOBS[request.name];
    if (!isValidPayload(request.name, request.payload)) throw new TypeError(`invalid payload for job ${request.name}`);
    const jobId = (job.jobId as (payload: unknown) => string)(request.payload);
    return {
      name: request.name,
      data: toJobData(request.payload, currentRequestId()),
      opts: { ...job.options, jobId, ...(request.delayMs ? { delay: request.delayMs } : {}), ...(request.priority ? { priority: request.priority } : {}) },
    };
  }

  return {
    async enqueue<N extends JobName>(name: N, payload: JobPayload<N>, options: { delayMs?: number } = {}): Promise<void> {
      const { data, opts } = toBulk({ name, payload, ...options } as JobRequest);
      await failAfter(queues.get(JOBS[name].queue).add(name, data, opts), ENQUEUE_TIMEOUT_MS, 'the job queue is unavailable');
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
      const added = Promise.all([...byQueue].map(([queue, jobs]) => queues.get(queue as never).addBulk(jobs)));
      await failAfter(added, ENQUEUE_TIMEOUT_MS, 'the job queue is unavailable');
    },

    /**
     * For sweeps: enqueues each job, and runs again one that had failed for good (its id would otherwise
     * block the new one), e.g. because the database was down through all its attempts.
     */
    async requeue(requests: readonly JobRequest[]): Promise<{ added: number; retried: number }> {
      let retried = 0;
      for (const request of requests) {
        const { name, data, opts } = toBulk(request);
        const queue = queues.get(JOBS[request.name].queue);
        const existing = await queue.getJob(opts.jobId);
        if (existing && (await existing.isFailed())) {
          await existing.retry('failed');
          retried += 1;
        } else if (!existing) {
          await queue.add(name, data, opts);
        }
      }
      return { added: requests.length - retried, retried };
    },
  };
}

export type JobProducer = ReturnType<typeof createJobProducer>;
