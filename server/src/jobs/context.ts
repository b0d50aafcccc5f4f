import type { Logger } from '../logger.ts';
import type { JobName, JobPayload } from './registry.ts';

/** What a job handler may know and do besides its payload; the BullMQ details stay in jobs/worker.ts. */
export interface JobContext {
  jobId: string;
  /** Attempts made before this one. */
  attemptsMade: number;
  /** Which start this is, counting every time a worker took the job (retries, stalls, rate-limit returns). */
  attempt: number;
  /** Whether a failure now would be final (no retry left). */
  lastAttempt: boolean;
  /** Aborted when the worker shuts down; long handlers stop at the next safe point. */
  signal: AbortSignal;
  log: Logger;
  /** Pauses the whole queue (every worker) for `ms`, puts this job back and ends the handler. */
  rateLimited(ms: number): Promise<never>;
  /** An error that fails the job at once, without retries. */
  unrecoverable(message: string): Error;
  /** Puts this job back in the queue untouched, for another worker (used on shutdown). */
  giveBack(): Promise<never>;
  /** Puts this job back to run again in `ms`, without counting an attempt (e.g. a per-target cap is full). */
  postpone(ms: number): Promise<never>;
}

export type JobHandler<N extends JobName> = (payload: JobPayload<N>, context: JobContext) => Promise<unknown>;
export type JobHandlers = { [N in JobName]: JobHandler<N> };
