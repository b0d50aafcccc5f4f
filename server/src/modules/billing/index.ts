import type { Kysely } from 'kysely';
import type { Config } from '../../config/index.ts';
import type { DB } from '../../db/types.ts';
import type { JobProducer } from '../../jobs/producer.ts';
import type { Logger } from '../../logger.ts';
import type { Entitlements } from '../entitlements/index.ts';
import { defineModule, mount } from '../module.ts';
import { createBillingRepository } from './billing.repository.ts';
import { billingRoutes, stripeHookRoutes } from './billing.routes.ts';
import { createBillingService } from './billing.service.ts';
import { createStripeClient } from './stripe.ts';

export type { BillingService } from './billing.service.ts';

type BillingConfig = Pick<
  Config,
  | 'BILLING_ENABLED'
  | 'PLANS'
  | 'BILLING_GRACE_DAYS'
  | 'ADMIN_APP_URL'
  | 'STRIPE_SECRET_KEY'
  | 'STRIPE_WEBHOOK_SECRET'
  | 'STRIPE_API_URL'
  | 'RETENTION_PROVIDER_EVENTS_DAYS'
  | 'BILLING_EXISTING_ORGANIZATIONS_PLAN'
>;

/**
 * Plans sold through Stripe: checkout, the customer portal, and the webhook whose events a job applies by
 * re-reading the subscription. With billing off (no Stripe keys) the module has no routes at all (404) and
 * its job does nothing; the limits stay with entitlements, where billing off means no plan limits.
 */
export function createBillingModule(deps: { db: Kysely<DB>; config: BillingConfig; producer: JobProducer; logger: Logger; entitlements: Entitlements }) {
  const { config } = deps;
  const repository = createBillingRepository(deps.db);
  if (!config.BILLING_ENABLED) {
    return defineModule({ name: 'billing', services: { billing: null }, jobs: () => ({ 'billing.sync': async () => ({ result: 'billing_off' }) }) });
  }
  const stripe = createStripeClient(config);
  const billing = createBillingService({ config, repository, entitlements: deps.entitlements, stripe, producer: deps.producer, logger: deps.logger });
  return defineModule({
    name: 'billing',
    services: { billing },
    // Turning billing on must not drop the organizations already there to the free plan unnoticed: the
    // first start with billing on puts them on BILLING_EXISTING_ORGANIZATIONS_PLAN (legacy by default), once.
    start: async () => {
      const activated = await repository.activate(config.BILLING_EXISTING_ORGANIZATIONS_PLAN);
      if (activated?.billedBefore) deps.logger.info('billing was in use before: organizations keep their plans');
      else if (activated)
        deps.logger.warn(
          { plan: config.BILLING_EXISTING_ORGANIZATIONS_PLAN, organizations: activated.organizations },
          'billing turned on for the first time: the organizations that existed were put on this plan',
        );
    },
    routes: mount(billingRoutes, { billing }),
    rootRoutes: mount(stripeHookRoutes, { billing }),
    jobs: () => ({ 'billing.sync': async ({ event_id }) => ({ result: await billing.sync(event_id) }) }),
    retention: [
      {
        name: 'stripe-events',
        days: config.RETENTION_PROVIDER_EVENTS_DAYS,
        run: (cutoff, signal) => repository.deleteEventsBefore(cutoff, signal),
      },
    ],
  });
}
