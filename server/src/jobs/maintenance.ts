import type { Config } from '../config/index.ts';
import type { JobHandler } from './context.ts';
import type { MaintenanceRepository } from './maintenance.repository.ts';

type RetentionConfig = Pick<Config, 'RETENTION_DEV_MAILBOX_DAYS' | 'RETENTION_EVENTS_DAYS' | 'RETENTION_PROVIDER_EVENTS_DAYS' | 'RETENTION_EXPIRED_TOKENS_DAYS'>;

const DAY_MS = 86_400_000;

export function createUsageResetHandler(deps: { maintenanceRepository: MaintenanceRepository }): JobHandler<'usage.reset'> {
  return async ({ period }) => ({ organizations: await deps.maintenanceRepository.resetMonthlyUsage(period) });
}

/**
 * The daily cleanup. Each task deletes what is older than its configured period, in chunks, and stops
 * early on shutdown; the job is idempotent, so the rest happens on the next run. Modules with data to
 * expire (e.g. webhook delivery logs) add a task here.
 */
export function createRetentionHandler(deps: { config: RetentionConfig; maintenanceRepository: MaintenanceRepository; now?: () => number }): JobHandler<'retention.cleanup'> {
  const { config, maintenanceRepository: repo } = deps;
  const now = deps.now ?? Date.now;
  const tasks: { name: string; days: number; run: (cutoff: Date, signal: AbortSignal) => Promise<number> }[] = [
    { name: 'dev_mailbox', days: config.RETENTION_DEV_MAILBOX_DAYS, run: repo.deleteDevMailboxBefore },
    { name: 'events', days: config.RETENTION_EVENTS_DAYS, run: repo.deleteRelayedEventsBefore },
    { name: 'provider_events', days: config.RETENTION_PROVIDER_EVENTS_DAYS, run: repo.deleteProviderEventsBefore },
    { name: 'magic_link_tokens', days: config.RETENTION_EXPIRED_TOKENS_DAYS, run: repo.deleteMagicLinkTokensExpiredBefore },
  ];
  return async (_payload, context) => {
    const deleted: Record<string, number> = {};
    for (const task of tasks) {
      if (context.signal.aborted) break;
      deleted[task.name] = await task.run(new Date(now() - task.days * DAY_MS), context.signal);
    }
    // Interrupted by shutdown: back to the queue, so the rest is deleted now rather than tomorrow.
    if (context.signal.aborted) return context.giveBack();
    context.log.info({ deleted }, 'retention cleanup finished');
    return deleted;
  };
}
