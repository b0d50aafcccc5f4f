import { DelayedError, UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import type { Config } from '../config/index.ts';
import type { ErrorReporter } from '../error-reporting.ts';
import type { Logger } from '../logger.ts';
import type { Queues } from './queues.ts';
import type { Metrics } from '../metrics/registry.ts';
import type { WorkerLoop } from '../modules/module.ts';
import { GATE_WINDOW_MS } from '../modules/email/index.ts';
import type { JobContext, JobHandlers } from './context.ts';
import { closeConnection, createWorkerConnection } from './queues.ts';
import { runWithLogContext } from '../lib/log-context.ts';
import { fromJobData, isJobName, isValidPayload, QUEUE_NAMES, type JobName, type QueueName } from './registry.ts';

// BullMQ's limiter paces email jobs at the provider's rate (global across worker processes); the request
// gate in front of the provider (modules/email/providers/rate-gate.ts) makes the per-second count exact.
const LIMITER_WINDOW_MS = GATE_WINDOW_MS;
// No limit configured: still set a limiter, because a manual rate limit (after a 429) only holds when one exists.
const UNLIMITED = 1_000_000;
const CONCURRENCY: Record<Exclude<QueueName, 'email'>, number> = { webhook: 10, sync: 2, maintenance: 1 };

export interface WorkerRuntimeOptions {
  /** Queues to work on (default all). */
  queues?: readonly QueueName[];
  /** Jobs started by shutdown are given this long to finish before they are aborted and returned. */
  shutdownGraceMs?: number;
}

/**
 * The worker process's core, also run in-process by tests and the benchmark: one BullMQ Worker per queue
 * sharing one connection, the registry's payload checks, metrics, and graceful shutdown. The email
 * queue's limiter is the provider's request rate shared by every worker process (BullMQ keeps its
 * counter in Redis).
 */
/** What the worker runtime needs from the composition root. */
export interface WorkerDeps {
  config: Pick<Config, 'REDIS_URL' | 'REDIS_PREFIX' | 'WORKER_CONCURRENCY' | 'WORKER_LOCK_DURATION_MS'>;
  logger: Logger;
  queues: Queues;
  errors: Pick<ErrorReporter, 'capture'>;
  /** Provider requests per second across all workers; 0 = unlimited. */
  providerRateLimitPerSecond: number;
  /** Loops run beside the queues they belong to (started with the workers, stopped before them). */
  workerLoops?: readonly WorkerLoop[];
}

export function createWorkerRuntime(deps: WorkerDeps, handlers: JobHandlers, metrics: Metrics, options: WorkerRuntimeOptions = {}) {
  const { config, logger } = deps;
  const connection = createWorkerConnection(config.REDIS_URL);
  connection.on('error', (error) => logger.warn({ err: error }, 'worker Redis connection error'));
  const rate = deps.providerRateLimitPerSecond;
  let closing = false;

  function contextFor(job: Job, queue: QueueName, token: string | undefined, signal: AbortSignal): JobContext {
    return {
      jobId: job.id ?? '',
      attemptsMade: job.attemptsMade,
      attempt: Math.max(job.attemptsStarted, 1),
      lastAttempt: job.attemptsMade + 1 >= (job.opts.attempts ?? 1),
      signal,
      // The job's name, id and request id come with every line (the log context set around the handler).
      log: logger,
      async rateLimited(ms) {
        await deps.queues.get(queue).rateLimit(ms);
        throw Worker.RateLimitError();
      },
      unrecoverable: (message) => new UnrecoverableError(message),
      async giveBack() {
        await job.moveToWait(token);
        throw new WaitingError();
      },
      async postpone(ms) {
        await job.moveToDelayed(Date.now() + ms, token);
        throw new DelayedError();
      },
    };
  }

  const workers = (options.queues ?? QUEUE_NAMES).map((queue) => {
    const worker = new Worker(
      queue,
      async (job: Job, token?: string, signal?: AbortSignal) => {
        const name = job.name;
        const { payload, requestId } = fromJobData(job.data);
        if (!isJobName(name) || !isValidPayload(name, payload)) throw new UnrecoverableError(`unknown job "${name}" or invalid payload`);
        return runWithLogContext({ ...(requestId ? { request_id: requestId } : {}), job: name, job_id: job.id ?? '' }, async () => {
          const stop = metrics.jobSeconds.startTimer({ queue, name });
          try {
            const handler = handlers[name] as (payload: unknown, context: JobContext) => Promise<unknown>;
            const result = await handler(payload, contextFor(job, queue, token, signal ?? new AbortController().signal));
            metrics.jobs.inc({ queue, name, outcome: 'completed' });
            return result;
          } catch (error) {
            const outcome =
              error instanceof UnrecoverableError
                ? 'failed'
                : (error as Error).name === 'RateLimitError'
                  ? 'rate_limited'
                  : (error as Error).name === 'WaitingError'
                    ? 'returned'
                    : error instanceof DelayedError
                      ? 'postponed'
                      : 'retried';
            metrics.jobs.inc({ queue, name, outcome });
            throw error;
          } finally {
            stop();
          }
        });
      },
      {
        connection,
        prefix: config.REDIS_PREFIX,
        autorun: false,
        concurrency: queue === 'email' ? config.WORKER_CONCURRENCY : CONCURRENCY[queue],
        lockDuration: config.WORKER_LOCK_DURATION_MS,
        stalledInterval: config.WORKER_LOCK_DURATION_MS,
        maxStalledCount: 2,
        ...(queue === 'email' ? { limiter: rate > 0 ? { max: rate, duration: LIMITER_WINDOW_MS } : { max: UNLIMITED, duration: 1000 } } : {}),
      },
    );
    worker.on('error', (error) => logger.error({ err: error, queue }, 'worker error'));
    worker.on('failed', (job, error) => {
      if (job && (error instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1))) {
        const { requestId } = fromJobData(job.data);
        const context = { job: job.name, job_id: job.id ?? '', ...(requestId ? { request_id: requestId } : {}) };
        logger.warn({ err: error, ...context }, 'job failed for good');
        deps.errors.capture(error, context);
      }
    });
    return worker;
  });

  const queuesRun = options.queues ?? QUEUE_NAMES;
  const loops = (deps.workerLoops ?? []).filter((loop) => queuesRun.includes(loop.queue)).map((loop) => ({ name: loop.name, instance: loop.create() }));

  return {
    workers,
    get running(): boolean {
      return !closing && workers.every((worker) => worker.isRunning());
    },

    /** Starts fetching jobs; resolves once every worker is connected. */
    async start(): Promise<void> {
      for (const worker of workers) void worker.run().catch((error: unknown) => logger.error({ err: error }, 'worker stopped'));
      await Promise.all(workers.map((worker) => worker.waitUntilReady()));
      for (const loop of loops)
        await loop.instance.start().catch((error: unknown) => logger.error({ err: error, loop: loop.name }, 'worker loop did not start'));
    },

    /**
     * Stops fetching, lets running jobs finish for the grace period, then aborts the rest: handlers that
     * watch their signal put their job back, and any other is retried once its lock lapses.
     */
    async close(): Promise<void> {
      if (closing) return;
      closing = true;
      const grace = options.shutdownGraceMs ?? 6000;
      const timer = setTimeout(() => {
        for (const worker of workers) worker.cancelAllJobs('shutdown');
      }, grace);
      timer.unref();
      await Promise.allSettled(loops.map((loop) => loop.instance.stop()));
      try {
        await Promise.all(workers.map((worker) => worker.close()));
      } finally {
        clearTimeout(timer);
        await closeConnection(connection);
      }
    },
  };
}

export type WorkerRuntime = ReturnType<typeof createWorkerRuntime>;
export type { JobName };
