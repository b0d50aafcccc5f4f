import type { Kysely } from 'kysely';
import type { Config } from '../../config/index.ts';
import type { DB } from '../../db/types.ts';
import { minuteTick, type Schedule } from '../../jobs/cron.ts';
import type { Logger } from '../../logger.ts';
import type { SystemMailer } from '../email/index.ts';
import { defineModule } from '../module.ts';
import { createEntitlementsRepository } from './entitlements.repository.ts';
import { createEntitlementsService } from './entitlements.service.ts';
import { createQuotaNotices } from './quota-notices.ts';

export type { Entitlements } from './entitlements.service.ts';
export type { LimitOverride, OrganizationLimits } from './entitlements.repository.ts';
export { parseLimitOverride } from './entitlements.service.ts';

const pad = (n: number) => String(n).padStart(2, '0');

/**
 * Stored usage is set back on the 1st at 00:00 UTC (the calendar month of organizations without a
 * subscription; a billing period is also read as new the moment it starts, reset or not); quota notices go
 * out every ten minutes.
 */
export const schedules: readonly Schedule[] = [
  {
    name: 'usage-reset',
    expression: '0 0 1 * *',
    job: (tick) => ({ name: 'usage.reset', payload: { period: `${tick.getUTCFullYear()}-${pad(tick.getUTCMonth() + 1)}-01` } }),
  },
  { name: 'usage-notices', expression: '*/10 * * * *', job: (tick) => ({ name: 'usage.notices', payload: { tick: minuteTick(tick, 10) } }) },
];

/**
 * Plan limits and usage: subscribers, emails per month, webhook endpoints, custom domains; emails reserved
 * in bulk per usage period (the Stripe billing period, else the calendar month), owners told at 80 % and
 * 100 % of the email quota and the subscriber limit.
 */
export function createEntitlementsModule(deps: {
  db: Kysely<DB>;
  config: Pick<Config, 'BILLING_ENABLED' | 'PLANS' | 'BILLING_GRACE_DAYS' | 'ADMIN_APP_URL'>;
  /** The email module's suppression-checked system mail (built after this module, so called per send). */
  mailer: Pick<SystemMailer, 'send'>;
  logger: Logger;
}) {
  const repository = createEntitlementsRepository(deps.db, deps.config);
  const entitlements = createEntitlementsService({ repository, plans: deps.config.PLANS });
  const sendQuotaNotices = createQuotaNotices({ repository, mailer: deps.mailer, config: deps.config, logger: deps.logger });
  return defineModule({
    name: 'entitlements',
    services: { entitlements },
    jobs: () => ({
      // The payload's month names the run (its job id); each organization starts its own current period.
      'usage.reset': async () => ({ organizations: await repository.resetUsage() }),
      'usage.notices': async () => sendQuotaNotices(),
    }),
  });
}
