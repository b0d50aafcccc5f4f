import { Type } from 'typebox';
import { NullableTimestamp, StringEnum, Timestamp } from '../common.schemas.ts';

const LimitName = StringEnum(['subscribers', 'emails_per_month', 'webhook_endpoints', 'custom_domains'] as const);
const Max = Type.Union([Type.Integer(), Type.Null()], { description: 'null: unlimited' });

const PlanRef = Type.Object({ id: Type.String(), name: Type.String() });

export const BillingOverview = Type.Object(
  {
    plan: Type.Object({ id: Type.String(), name: Type.String() }, { description: 'The plan whose limits apply now' }),
    subscribed_plan: Type.Union([PlanRef, Type.Null()], { description: 'The paid plan, when its limits no longer apply (past due beyond the grace period)' }),
    status: Type.Union([Type.String(), Type.Null()], {
      description: 'The Stripe subscription status (active, past_due, canceled, …); null without a subscription',
    }),
    current_period_end: NullableTimestamp,
    usage_period: Type.Object(
      {
        start: Timestamp,
        end: Timestamp,
        basis: StringEnum(['subscription', 'calendar_month'] as const, {
          description: 'subscription: the Stripe billing period; calendar_month: the month in UTC (no running subscription)',
        }),
      },
      { description: 'The period the email quota counts (usage of emails_per_month is within it)' },
    ),
    past_due: Type.Boolean(),
    grace_ends_at: Type.Union([NullableTimestamp], { description: 'When a past-due subscription falls back to the free plan' }),
    has_billing_account: Type.Boolean({ description: 'Whether the organization has a Stripe customer (the billing portal needs one)' }),
    usage: Type.Array(Type.Object({ limit: LimitName, used: Type.Integer(), max: Max })),
    plans: Type.Array(
      Type.Object({
        id: Type.String(),
        name: Type.String(),
        purchasable: Type.Boolean(),
        limits: Type.Object({ subscribers: Max, emails_per_month: Max, webhook_endpoints: Max, custom_domains: Max }),
      }),
    ),
  },
  { $id: 'BillingOverview' },
);

export const BillingStatus = Type.Object(
  {
    past_due: Type.Boolean({ description: 'A payment failed and Stripe has not been paid since' }),
    grace_ends_at: Type.Union([NullableTimestamp], { description: 'When a past-due subscription falls back to the free plan' }),
    grace_over: Type.Boolean({ description: "The grace period is over: the free plan's limits apply until the subscription is paid" }),
  },
  { $id: 'BillingStatus' },
);

export const CheckoutBody = Type.Object(
  {
    plan: Type.String({ minLength: 1, maxLength: 32, pattern: '^[a-z][a-z0-9_-]*$', description: 'The plan to buy (its id)' }),
  },
  { additionalProperties: false },
);

export const RedirectUrl = Type.Object({ url: Type.String({ format: 'uri' }) }, { $id: 'BillingRedirect' });
