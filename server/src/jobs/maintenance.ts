import type { RetentionTask } from '../modules/module.ts';
import type { JobHandler } from './context.ts';

const DAY_MS = 86_400_000;

/**
 * The daily cleanup. Each module names what it expires (its `retention` tasks); each task deletes what is
 * older than its configured period, in chunks, and stops early on shutdown. The job is idempotent, so
 * the rest happens on the next run.
 */
export function createRetentionHandler(deps: { tasks: readonly RetentionTask[]; now?: () => number }): JobHandler<'retention.cleanup'> {
  const now = deps.now ?? Date.now;
  return async (_payload, context) => {
    const deleted: Record<string, number> = {};
    for (const task of deps.tasks) {
      if (context.signal.aborted) break;
      deleted[task.name] = await task.run(new Date(now() - task.days * DAY_MS), context.signal);
    }
    // Interrupted by shutdown: back to the queue, so the rest is deleted now rather than tomorrow.
    if (context.signal.aborted) return context.giveBack();
    context.log.info({ deleted }, 'retention cleanup finished');
    return deleted;
  };
}
