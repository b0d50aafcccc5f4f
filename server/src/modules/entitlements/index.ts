import type { Kysely } from 'kysely';
import type { Config } from '../../config/index.ts';
import type { DB } from '../../db/types.ts';
import { minuteTick, type Schedule } from '../../jobs/cron.ts';
import type { Logger } from '../../logger.ts';
import type { EmailProvider } from '../email/index.ts';
import { defineModule } from '../module.ts';
import { createEntitlementsRepository } from './entitlements.repository.ts';
import { createEntitlementsService } from './entitlements.service.ts';
import { createQuotaNotices } from './quota-notices.ts';

export type { Entitlements } from './entitlements.service.ts';
export type { OrganizationLimits } from './entitlements.repository.ts';

const pad = (n: number) => String(n).padStart(2, '0');

/** A new usage month starts on the 1st at 00:00 UTC; quota notices go out every ten minutes. */
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
 * in bulk, reset monthly, owners told at 80 % and 100 %.
 */
export function createEntitlementsModule(deps: {
  db: Kysely<DB>;
  config: Pick<Config, 'BILLING_ENABLED' | 'PLANS' | 'BILLING_GRACE_DAYS' | 'AUTH_EMAIL_FROM' | 'ADMIN_APP_URL'>;
  emailProvider: EmailProvider;
  logger: Logger;
}) {
  const repository = createEntitlementsRepository(deps.db, deps.config);
  const entitlements = createEntitlementsService({ repository });
  const sendQuotaNotices = createQuotaNotices({ repository, emailProvider: deps.emailProvider, config: deps.config, logger: deps.logger });
  return defineModule({
    name: 'entitlements',
    services: { entitlements },
    jobs: () => ({
      'usage.reset': async ({ period }) => ({ organizations: await repository.resetMonthlyUsage(period) }),
      'usage.notices': async () => sendQuotaNotices(),
    }),
  });
}
