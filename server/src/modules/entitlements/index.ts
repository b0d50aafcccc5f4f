import type { Kysely } from 'kysely';
import type { Config } from '../../config/index.ts';
import type { DB } from '../../db/types.ts';
import type { Schedule } from '../../jobs/cron.ts';
import { defineModule } from '../module.ts';
import { createEntitlementsRepository } from './entitlements.repository.ts';
import { createEntitlementsService } from './entitlements.service.ts';

export type { Entitlements } from './entitlements.service.ts';
export type { OrganizationLimits } from './entitlements.repository.ts';

const pad = (n: number) => String(n).padStart(2, '0');

/** A new usage month starts on the 1st at 00:00 UTC. */
export const schedules: readonly Schedule[] = [
  { name: 'usage-reset', expression: '0 0 1 * *', job: (tick) => ({ name: 'usage.reset', payload: { period: `${tick.getUTCFullYear()}-${pad(tick.getUTCMonth() + 1)}-01` } }) },
];

/** Plan limits and usage: subscribers, emails per month, webhook endpoints, custom domains; emails reserved in bulk, reset monthly. */
export function createEntitlementsModule(deps: { db: Kysely<DB>; config: Pick<Config, 'BILLING_ENABLED' | 'PLANS' | 'BILLING_GRACE_DAYS'> }) {
  const repository = createEntitlementsRepository(deps.db, deps.config);
  const entitlements = createEntitlementsService({ repository });
  return defineModule({
    name: 'entitlements',
    services: { entitlements },
    jobs: () => ({ 'usage.reset': async ({ period }) => ({ organizations: await repository.resetMonthlyUsage(period) }) }),
  });
}
