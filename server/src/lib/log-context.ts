import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What every log line written while handling one request or running one job carries, whichever logger
 * writes it: the request id (also inside jobs that request caused) and the job. The logger adds these
 * fields itself (a pino mixin, logger.ts), so code deep inside a module — a provider, a repository's
 * failure — needs no logger handed down to be traceable to the request.
 *
 * This is the one piece of module-level state besides the config schema: an AsyncLocalStorage holds
 * nothing between requests; each request and each job runs with its own store.
 */
export interface LogContext {
  request_id?: string;
  job?: string;
  job_id?: string;
}

/** The shape of request ids accepted from callers and carried into jobs. */
export const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

const storage = new AsyncLocalStorage<LogContext>();

/** Runs `work` (and everything it starts) with `context` attached to its log lines. */
export function runWithLogContext<T>(context: LogContext, work: () => T): T {
  return storage.run(context, work);
}

export function currentLogContext(): LogContext | undefined {
  return storage.getStore();
}

/** The id of the request being handled, or of the request that caused the job being run. */
export function currentRequestId(): string | undefined {
  return storage.getStore()?.request_id;
}
