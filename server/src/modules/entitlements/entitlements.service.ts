import type { Executor } from '../../db/client.ts';
import { AppError, notFound } from '../../lib/errors.ts';
import type { EntitlementsRepository } from './entitlements.repository.ts';

const number = (n: number) => n.toLocaleString('en-US');

/** 402 naming the limit, what is used, and the plan, so a person knows what to change. */
function limitExceeded(limit: 'subscribers' | 'emails_per_month', max: number, used: number, adding: number, plan: string): AppError {
  const message = limit === 'subscribers'
    ? `The organization's ${plan} plan allows ${number(max)} subscribers; it has ${number(used)}, so ${number(adding)} more would exceed it`
    : `The organization has sent ${number(used)} of the ${number(max)} emails its ${plan} plan allows this month; ${number(adding)} more would exceed it`;
  return new AppError(402, 'plan_limit_exceeded', message, { details: [{ limit, max, used, requested: adding, plan, message }] });
}

/**
 * The one place that answers "may this organization do X now". Limits are the organization's own
 * (`max_subscribers`, `max_emails_per_month`; null means unlimited): set by an operator today, by the
 * plan once billing exists. Usage is reserved in bulk: one statement for a whole batch or campaign.
 */
export function createEntitlementsService(deps: { repository: EntitlementsRepository }) {
  const repo = deps.repository;
  return {
    /** Reserves `count` emails of this month's quota (inside the caller's transaction) or throws 402. */
    async reserveEmails(executor: Executor, organizationId: string, count: number): Promise<void> {
      if (count <= 0) return;
      if (await repo.reserveEmails(executor, organizationId, count)) return;
      const limits = await repo.limits(organizationId, executor);
      if (!limits) throw notFound('organization');
      throw limitExceeded('emails_per_month', limits.max_emails_per_month ?? 0, limits.emails_sent_this_month, count, limits.plan);
    },

    /**
     * Refuses (402) adding `adding` subscribers beyond the organization's limit; free when it has none.
     * A check before the write: requests racing at the boundary can each pass it, so the limit holds
     * exactly for sequential writes and within the number of concurrent ones otherwise.
     */
    async assertSubscriberCapacity(organizationId: string, adding: number): Promise<void> {
      if (adding <= 0) return;
      const limits = await repo.limits(organizationId);
      if (!limits || limits.max_subscribers === null) return;
      const used = await repo.subscriberCount(organizationId);
      if (used + adding > limits.max_subscribers) throw limitExceeded('subscribers', limits.max_subscribers, used, adding, limits.plan);
    },

    /** As assertSubscriberCapacity, for an upsert of these addresses: only the ones not there yet count. */
    async assertCapacityForAddresses(organizationId: string, emails: readonly string[]): Promise<void> {
      const limits = await repo.limits(organizationId);
      if (!limits || limits.max_subscribers === null || emails.length === 0) return;
      const adding = await repo.newAddressCount(organizationId, emails);
      if (adding === 0) return;
      const used = await repo.subscriberCount(organizationId);
      if (used + adding > limits.max_subscribers) throw limitExceeded('subscribers', limits.max_subscribers, used, adding, limits.plan);
    },
  };
}

export type Entitlements = ReturnType<typeof createEntitlementsService>;
