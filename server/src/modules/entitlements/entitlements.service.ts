import type { LimitKind } from '../../config/index.ts';
import type { Executor } from '../../db/client.ts';
import { AppError, notFound } from '../../lib/errors.ts';
import type { EntitlementsRepository, LimitOverride } from './entitlements.repository.ts';

const number = (n: number) => n.toLocaleString('en-US');

/** 402 naming the limit, what is used, and the plan, so a person knows what to change. */
function limitExceeded(limit: 'subscribers' | 'emails_per_month', max: number, used: number, adding: number, plan: string): AppError {
  const message =
    limit === 'subscribers'
      ? `The organization's ${plan} plan allows ${number(max)} subscribers; it has ${number(used)}, so ${number(adding)} more would exceed it`
      : `The organization has sent ${number(used)} of the ${number(max)} emails its ${plan} plan allows this billing period; ${number(adding)} more would exceed it`;
  return new AppError(402, 'plan_limit_exceeded', message, { details: [{ limit, max, used, requested: adding, plan, message }] });
}

const COUNTED = { webhook_endpoints: 'webhook endpoints', custom_domains: 'custom sending domains' } as const;

/**
 * The one place that answers "may this organization do X now". The limits in force are an operator's
 * override where one is set, otherwise the plan's (from configuration; none with billing off). Usage is
 * reserved in bulk: one statement for a whole batch or campaign.
 */
/**
 * An operator's value for one limit: a whole number (0 to 2,000,000,000), "unlimited", or "plan" (the
 * plan decides again); undefined for anything else.
 */
export function parseLimitOverride(input: string): LimitOverride | undefined {
  const value = input.trim().toLowerCase();
  if (value === 'unlimited' || value === 'plan') return value;
  if (/^\d{1,10}$/.test(value) && Number(value) <= 2_000_000_000) return Number(value);
  return undefined;
}

export function createEntitlementsService(deps: { repository: EntitlementsRepository; plans: readonly { id: string }[] }) {
  const repo = deps.repository;
  return {
    /** The plan and limits in force, the usage period and its emails (one query), or undefined for an unknown organization. */
    limits: (organizationId: string) => repo.limits(organizationId),

    /** The plan and limits in force and what is used against each, or undefined for an unknown organization. */
    async usage(organizationId: string) {
      const limits = await repo.limits(organizationId);
      if (!limits) return undefined;
      const [subscribers, webhookEndpoints, customDomains] = await Promise.all([
        repo.subscriberCount(organizationId),
        repo.webhookEndpointCount(organizationId),
        repo.domainCount(organizationId),
      ]);
      const used: Record<LimitKind, number> = {
        subscribers,
        emails_per_month: limits.emails_sent_this_month,
        webhook_endpoints: webhookEndpoints,
        custom_domains: customDomains,
      };
      return {
        plan: limits.plan,
        limits: limits.limits,
        used,
        period_start: limits.period_start,
        period_end: limits.period_end,
        period_basis: limits.period_basis,
      };
    },

    /** Reserves `count` emails of the usage period's quota (inside the caller's transaction) or throws 402. */
    async reserveEmails(executor: Executor, organizationId: string, count: number): Promise<void> {
      if (count <= 0) return;
      if (await repo.reserveEmails(executor, organizationId, count)) return;
      const limits = await repo.limits(organizationId, executor);
      if (!limits) throw notFound('organization');
      throw limitExceeded('emails_per_month', limits.limits.emails_per_month ?? 0, limits.emails_sent_this_month, count, limits.plan);
    },

    /**
     * Refuses (402) adding `adding` subscribers beyond the organization's limit; free when it has none.
     * A check before the write: requests racing at the boundary can each pass it, so the limit holds
     * exactly for sequential writes and within the number of concurrent ones otherwise.
     */
    async assertSubscriberCapacity(organizationId: string, adding: number): Promise<void> {
      if (adding <= 0) return;
      const limits = await repo.limits(organizationId);
      const max = limits?.limits.subscribers;
      if (!limits || max === null || max === undefined) return;
      const used = await repo.subscriberCount(organizationId);
      if (used + adding > max) throw limitExceeded('subscribers', max, used, adding, limits.plan);
    },

    /** As assertSubscriberCapacity, for an upsert of these addresses: only the ones not there yet count. */
    async assertCapacityForAddresses(organizationId: string, emails: readonly string[]): Promise<void> {
      const limits = await repo.limits(organizationId);
      const max = limits?.limits.subscribers;
      if (!limits || max === null || max === undefined || emails.length === 0) return;
      const adding = await repo.newAddressCount(organizationId, emails);
      if (adding === 0) return;
      const used = await repo.subscriberCount(organizationId);
      if (used + adding > max) throw limitExceeded('subscribers', max, used, adding, limits.plan);
    },

    /**
     * Refuses (403 limit_exceeded) one more webhook endpoint or custom domain beyond the plan. `ceiling` is
     * the module's own technical maximum, which applies when the plan allows any number.
     */
    async assertCanAdd(organizationId: string, kind: keyof typeof COUNTED, ceiling: number = Number.POSITIVE_INFINITY): Promise<void> {
      const limits = await repo.limits(organizationId);
      if (!limits) throw notFound('organization');
      const max = Math.min(limits.limits[kind] ?? Number.POSITIVE_INFINITY, ceiling);
      if (max === Number.POSITIVE_INFINITY) return;
      const used = kind === 'webhook_endpoints' ? await repo.webhookEndpointCount(organizationId) : await repo.domainCount(organizationId);
      if (used < max) return;
      const byPlan = limits.limits[kind] !== null && limits.limits[kind]! <= ceiling;
      const message = byPlan
        ? max === 0
          ? `The organization's ${limits.plan} plan does not include ${COUNTED[kind]}`
          : `The organization's ${limits.plan} plan allows ${number(max)} ${COUNTED[kind]}; it has ${number(used)}`
        : `An organization can have at most ${number(max)} ${COUNTED[kind]}`;
      throw new AppError(403, 'limit_exceeded', message, { details: [{ limit: kind, max, used, requested: 1, plan: limits.plan, message }] });
    },

    /** An operator's override of some limits (a number or unlimited), or back to the plan's ("plan"). False: no such organization. */
    setOverrides: (organizationId: string, overrides: Partial<Record<LimitKind, LimitOverride>>) => repo.setOverrides(organizationId, overrides),

    /**
     * An operator puts an organization on a plan (e.g. from legacy to free). Refused for an unknown plan
     * and while a Stripe subscription decides the plan.
     */
    async setPlan(organizationId: string, plan: string): Promise<'updated' | 'unknown_plan' | 'subscribed'> {
      if (!deps.plans.some((p) => p.id === plan)) return 'unknown_plan';
      return (await repo.setPlan(organizationId, plan)) ? 'updated' : 'subscribed';
    },
  };
}

export type Entitlements = ReturnType<typeof createEntitlementsService>;
