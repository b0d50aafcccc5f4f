import type { Logger } from '../logger.ts';

/**
 * Work that runs after the response has gone out (sending a login link, writing an audit entry, purging a
 * deleted organization). Failures are logged, never thrown at a caller who has already been answered.
 * `drain` lets shutdown, and the tests, wait until every started task has finished.
 */
export function createBackgroundTasks(logger: Logger) {
  const pending = new Set<Promise<void>>();
  return {
    run(name: string, task: () => Promise<unknown>): void {
      const promise = (async () => {
        try {
          await task();
        } catch (error) {
          logger.error({ err: error, task: name }, 'background task failed');
        }
      })();
      pending.add(promise);
      void promise.finally(() => pending.delete(promise));
    },

    async drain(): Promise<void> {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
  };
}

export type BackgroundTasks = ReturnType<typeof createBackgroundTasks>;
