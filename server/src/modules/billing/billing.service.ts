import type Stripe from 'stripe';
import type { Config, LimitKind, Plan } from '../../config/index.ts';
import { FREE_PLAN, LEGACY_PLAN, LIMIT_KINDS } from '../../config/index.ts';
import type { JobProducer } from '../../jobs/producer.ts';
import { AppError, badRequest, conflict, notFound, unauthorized } from '../../lib/errors.ts';
import type { Logger } from '../../logger.ts';
import type { Entitlements } from '../entitlements/index.ts';
import type { BillingRepository, BillingState, SubscriptionState } from './billing.repository.ts';
import { customerIdOf, subscriptionIdOf } from './stripe.ts';

/** The events that change what an organization may do; others are acknowledged and ignored. */
export const HANDLED_EVENTS = [
  'checkout.session.completed',
  'customer.subscription.created',
  'customer.subscription.updated',
  'customer.subscription.deleted',
  'invoice.paid',
  'invoice.payment_failed',
] as const;

/** Stripe signs `t=…,v1=…` over the raw body; older than this many seconds is refused (a replay). */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

const KEEPS_PLAN = new Set(['active', 'trialing']);
const PAST_DUE = new Set(['past_due', 'unpaid']);
const ENDED = new Set(['canceled', 'incomplete_expired']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

type BillingConfig = Pick<Config, 'PLANS' | 'BILLING_GRACE_DAYS' | 'ADMIN_APP_URL' | 'STRIPE_WEBHOOK_SECRET'>;

export function createBillingService(deps: {
  config: BillingConfig;
  repository: BillingRepository;
  entitlements: Pick<Entitlements, 'usage'>;
  stripe: Stripe;
  producer: JobProducer;
  logger: Logger;
}) {
  const { config, repository: repo, stripe, logger } = deps;
  const planById = (id: string): Plan | undefined => config.PLANS.find((p) => p.id === id);
  const planByPrice = (price: string): Plan | undefined => config.PLANS.find((p) => p.stripe_price_id === price);
  const returnUrl = (query: string) => `${config.ADMIN_APP_URL.replace(/\/$/, '')}/billing${query}`;

  async function stateOf(organizationId: string): Promise<BillingState> {
    const state = await repo.state(organizationId);
    if (!state) throw notFound('organization');
    return state;
  }

  /** The organization's Stripe customer, created once (an idempotency key keeps a retried create single). */
  async function customerOf(state: BillingState, email: string): Promise<string> {
    if (state.stripe_customer_id) return state.stripe_customer_id;
    const customer = await stripe.customers
      .create(
        { name: state.name, email: state.billing_email ?? email, metadata: { organization_id: state.id } },
        { idempotencyKey: `subscribe-flow-customer-${state.id}` },
      )
      .catch(stripeFailure);
    // Two checkouts at once both create with the same key (one customer); whichever links first wins.
    return (await repo.linkCustomer(state.id, customer.id)) ?? customer.id;
  }

  /** What Stripe says the subscription is, as the organization's plan and status. */
  function subscriptionState(subscription: Stripe.Subscription, current: BillingState): SubscriptionState {
    const item = subscription.items.data[0];
    const price = item?.price.id;
    const pricePlan = price ? planByPrice(price) : undefined;
    if (price && !pricePlan)
      logger.error({ price, subscription: subscription.id }, 'a Stripe subscription has a price no plan in BILLING_PLANS names; the plan is left as it is');
    const paidPlan = pricePlan?.id ?? current.plan;
    const status = subscription.status;
    // Newer API versions carry the period on the item, older ones on the subscription.
    const legacy = subscription as unknown as { current_period_start?: number; current_period_end?: number };
    const periodStart = item?.current_period_start ?? legacy.current_period_start;
    const periodEnd = item?.current_period_end ?? legacy.current_period_end;
    return {
      plan: KEEPS_PLAN.has(status) || PAST_DUE.has(status) ? paidPlan : FREE_PLAN,
      stripe_subscription_id: subscription.id,
      subscription_status: status,
      current_period_start: typeof periodStart === 'number' ? new Date(periodStart * 1000) : null,
      current_period_end: typeof periodEnd === 'number' ? new Date(periodEnd * 1000) : null,
      past_due: PAST_DUE.has(status),
    };
  }

  return {
    /** Plan, status, period end, usage against every limit, and the plans on offer. */
    async overview(organizationId: string) {
      const state = await stateOf(organizationId);
      const usage = await deps.entitlements.usage(organizationId);
      if (!usage) throw notFound('organization');
      const graceEndsAt = state.past_due_since ? new Date(state.past_due_since.getTime() + config.BILLING_GRACE_DAYS * 86_400_000) : null;
      const plan = planById(usage.plan) ?? planById(FREE_PLAN)!;
      return {
        plan: { id: plan.id, name: plan.name },
        subscribed_plan: state.plan === usage.plan ? null : { id: state.plan, name: planById(state.plan)?.name ?? state.plan },
        status: state.subscription_status,
        current_period_end: state.current_period_end,
        usage_period: { start: usage.period_start, end: usage.period_end, basis: usage.period_basis },
        past_due: state.past_due_since !== null,
        grace_ends_at: graceEndsAt,
        has_billing_account: state.stripe_customer_id !== null,
        usage: LIMIT_KINDS.map((kind) => ({ limit: kind, used: usage.used[kind], max: usage.limits[kind] })),
        // The legacy plan is never offered: organizations are only put on it (see BILLING_EXISTING_ORGANIZATIONS_PLAN).
        plans: config.PLANS.filter((p) => p.id !== LEGACY_PLAN).map((p) => ({
          id: p.id,
          name: p.name,
          purchasable: p.stripe_price_id !== null,
          limits: Object.fromEntries(LIMIT_KINDS.map((kind) => [kind, p.limits[kind]])) as Record<LimitKind, number | null>,
        })),
      };
    },

    /** Whether the subscription is past due and until when its plan is kept (no usage counted: cheap, for every page). */
    async status(organizationId: string) {
      const state = await stateOf(organizationId);
      const graceEndsAt = state.past_due_since ? new Date(state.past_due_since.getTime() + config.BILLING_GRACE_DAYS * 86_400_000) : null;
      return { past_due: graceEndsAt !== null, grace_ends_at: graceEndsAt, grace_over: graceEndsAt !== null && graceEndsAt.getTime() <= Date.now() };
    },

    /** A Stripe Checkout URL for `planId`, for an organization without a running subscription. */
    async checkout(organizationId: string, planId: string, callerEmail: string): Promise<{ url: string }> {
      const plan = planById(planId);
      if (!plan)
        throw badRequest('unknown_plan', `There is no plan "${planId}"`, [{ field: 'plan', message: `one of ${config.PLANS.map((p) => p.id).join(', ')}` }]);
      if (!plan.stripe_price_id)
        throw badRequest('plan_not_purchasable', `The ${plan.name} plan cannot be bought`, [{ field: 'plan', message: 'this plan has no Stripe price' }]);
      const state = await stateOf(organizationId);
      if (state.stripe_subscription_id && state.subscription_status && !ENDED.has(state.subscription_status) && state.subscription_status !== 'incomplete') {
        throw conflict('subscription_exists', 'The organization already has a subscription; change its plan in the billing portal');
      }
      const customer = await customerOf(state, callerEmail);
      const session = await stripe.checkout.sessions
        .create({
          mode: 'subscription',
          customer,
          client_reference_id: organizationId,
          line_items: [{ price: plan.stripe_price_id, quantity: 1 }],
          metadata: { organization_id: organizationId, plan: plan.id },
          subscription_data: { metadata: { organization_id: organizationId } },
          success_url: returnUrl('?checkout=success'),
          cancel_url: returnUrl('?checkout=cancelled'),
        })
        .catch(stripeFailure);
      if (!session.url) throw new AppError(502, 'stripe_unavailable', 'Stripe did not return a checkout page; try again');
      return { url: session.url };
    },

    /** A Stripe Customer Portal URL (invoices, payment method, plan changes, cancellation). */
    async portal(organizationId: string): Promise<{ url: string }> {
      const state = await stateOf(organizationId);
      if (!state.stripe_customer_id) throw conflict('no_billing_account', 'The organization has no billing account yet; choose a plan first');
      const session = await stripe.billingPortal.sessions.create({ customer: state.stripe_customer_id, return_url: returnUrl('') }).catch(stripeFailure);
      return { url: session.url };
    },

    /**
     * Verifies a webhook on its raw body, records the event id (a redelivery is acknowledged and dropped),
     * and leaves the work to the billing.sync job. Answering 5xx when the job cannot be enqueued (after
     * forgetting the id) makes Stripe deliver again later.
     */
    async receive(raw: string, signature: string | undefined): Promise<string> {
      let event: Stripe.Event;
      try {
        if (!signature) throw new Error('no signature');
        event = stripe.webhooks.constructEvent(raw, signature, config.STRIPE_WEBHOOK_SECRET!, SIGNATURE_TOLERANCE_SECONDS);
      } catch {
        throw unauthorized('invalid_signature', 'The Stripe signature is missing, wrong or too old');
      }
      if (!(HANDLED_EVENTS as readonly string[]).includes(event.type)) return 'ignored';
      const object = event.data.object as unknown as Record<string, unknown>;
      const metadata = (object.metadata ?? {}) as Record<string, unknown>;
      const reference = [object.client_reference_id, metadata.organization_id].find((v): v is string => typeof v === 'string' && UUID.test(v)) ?? null;
      const recorded = await repo
        .recordEvent({
          id: event.id,
          type: event.type,
          organization_id: reference,
          customer_id: customerIdOf(object),
          subscription_id: subscriptionIdOf(object),
        })
        .catch(async (error: unknown) => {
          throw new AppError(500, 'event_not_recorded', 'The event could not be recorded; it will be retried', { cause: error });
        });
      if (!recorded) return 'duplicate';
      try {
        await deps.producer.enqueue('billing.sync', { event_id: event.id });
      } catch (error) {
        await repo.forgetEvent(event.id).catch(() => undefined);
        throw new AppError(503, 'event_not_queued', 'The event could not be queued; it will be retried', { cause: error });
      }
      return 'queued';
    },

    /**
     * The billing.sync job: finds the organization (the checkout's reference, else the customer), re-reads
     * the subscription from Stripe and writes its state now. Running it twice, or for an older event after
     * a newer one, writes the same current state; an ended subscription never overwrites a newer running one.
     */
    async sync(eventId: string): Promise<string> {
      const event = await repo.event(eventId);
      if (!event) return 'unknown_event';
      let organization = event.organization_id ? await repo.state(event.organization_id) : undefined;
      if (organization && event.customer_id && !organization.stripe_customer_id) {
        await repo.linkCustomer(organization.id, event.customer_id);
        organization = await repo.state(organization.id);
      }
      if (!organization && event.customer_id) organization = await repo.organizationOfCustomer(event.customer_id);
      if (!organization) {
        logger.warn({ event: event.id, type: event.type }, 'a Stripe event names no organization of ours; ignored');
        await repo.markApplied(event.id);
        return 'no_organization';
      }
      const subscriptionId = event.subscription_id ?? organization.stripe_subscription_id;
      if (!subscriptionId) {
        await repo.markApplied(event.id);
        return 'no_subscription';
      }
      const subscription = await stripe.subscriptions.retrieve(subscriptionId).catch((error: unknown) => {
        if ((error as { statusCode?: number }).statusCode === 404) return null;
        throw error;
      });
      if (!subscription) {
        logger.warn({ event: event.id, subscription: subscriptionId }, 'Stripe does not know the subscription an event names; ignored');
        await repo.markApplied(event.id);
        return 'missing_subscription';
      }
      const customer = typeof subscription.customer === 'string' ? subscription.customer : subscription.customer.id;
      if (customer !== organization.stripe_customer_id) {
        logger.warn({ event: event.id, subscription: subscription.id }, 'a Stripe subscription belongs to another customer than the organization; ignored');
        await repo.markApplied(event.id);
        return 'other_customer';
      }
      const current = organization.stripe_subscription_id;
      if (
        current &&
        current !== subscription.id &&
        ENDED.has(subscription.status) &&
        organization.subscription_status &&
        !ENDED.has(organization.subscription_status)
      ) {
        await repo.markApplied(event.id);
        return 'stale_subscription';
      }
      const state = subscriptionState(subscription, organization);
      await repo.applySubscription(organization.id, state);
      await repo.markApplied(event.id);
      return `${state.plan}:${state.subscription_status}`;
    },
  };
}

/** Stripe errors become a 502 in plain words; the cause is logged by the error handler. */
function stripeFailure(error: unknown): never {
  throw new AppError(502, 'stripe_unavailable', 'Stripe could not be reached or refused the request; try again shortly', { cause: error });
}

export type BillingService = ReturnType<typeof createBillingService>;
