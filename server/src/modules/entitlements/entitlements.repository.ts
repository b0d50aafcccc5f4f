import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Config, LimitKind } from '../../config/index.ts';
import { FREE_PLAN } from '../../config/index.ts';
import type { Executor } from '../../db/client.ts';
import type { DB } from '../../db/types.ts';

// The calendar month in UTC, as moments: the usage period of an organization without a subscription.
const MONTH_START = sql<Date>`(date_trunc('month', now() at time zone 'UTC') at time zone 'UTC')`;
const MONTH_END = sql<Date>`((date_trunc('month', now() at time zone 'UTC') + interval '1 month') at time zone 'UTC')`;

/** Where the usage period comes from: the Stripe subscription's billing period, or the calendar month (UTC). */
export type PeriodBasis = 'subscription' | 'calendar_month';

/** Subscription statuses whose Stripe billing period is the usage period (the plan is kept in them). */
export const PERIOD_STATUSES = ['active', 'trialing', 'past_due', 'unpaid'] as const;

/**
 * SQL for the usage period an organization's email quota counts now. With billing on and a subscription
 * whose period Stripe reported, the Stripe billing period; once that period is over and no renewal has
 * been reported yet, the next one is taken to start at the old end (a month long), so usage starts again
 * on time. Otherwise (no subscription, a cancelled one, billing off) the calendar month in UTC.
 */
export function periodSql(config: Pick<Config, 'BILLING_ENABLED'>) {
  if (!config.BILLING_ENABLED) return { start: MONTH_START, end: MONTH_END, basis: sql<PeriodBasis>`'calendar_month'` };
  const statuses = sql.join(PERIOD_STATUSES.map((s) => sql`${s}`));
  const billed = sql`(subscription_status in (${statuses}) and current_period_start is not null and current_period_end is not null and current_period_end > current_period_start)`;
  const start = sql<Date>`(case when ${billed} then (case when now() < current_period_end then current_period_start else current_period_end end) else ${MONTH_START} end)`;
  const end = sql<Date>`(case when ${billed} then (case when now() < current_period_end then current_period_end else current_period_end + interval '1 month' end) else ${MONTH_END} end)`;
  const basis = sql<PeriodBasis>`(case when ${billed} then 'subscription' else 'calendar_month' end)`;
  return { start, end, basis };
}

/** The organization's own column for each limit: an operator's number, null when the plan decides (or unlimited is set). */
export const OVERRIDE_COLUMNS = {
  subscribers: 'max_subscribers',
  emails_per_month: 'max_emails_per_month',
  webhook_endpoints: 'max_webhook_endpoints',
  custom_domains: 'max_custom_domains',
} as const satisfies Record<LimitKind, string>;

/** An operator's override of one limit: a number, unlimited, or back to the plan's ("plan"). */
export type LimitOverride = number | 'unlimited' | 'plan';

export interface OrganizationLimits {
  /** The plan whose limits apply now: the free plan once a past-due subscription's grace period is over. */
  plan: string;
  limits: Record<LimitKind, number | null>;
  /** Emails counted in the usage period now (zero when the stored count belongs to an earlier period). */
  emails_sent_this_month: number;
  /** The usage period the email quota counts: the Stripe billing period, else the calendar month (UTC). */
  period_start: Date;
  period_end: Date;
  period_basis: PeriodBasis;
}

export interface QuotaNotice {
  id: string;
  name: string;
  plan: string;
  limit: 'subscribers' | 'emails_per_month';
  used: number;
  max: number;
  threshold: 80 | 100;
  period_start: Date;
  period_end: Date;
}

export type PlanConfig = Pick<Config, 'BILLING_ENABLED' | 'PLANS' | 'BILLING_GRACE_DAYS'>;

/**
 * SQL for the limits in force, computed in the statement that uses them so a plan change, a config change
 * or the end of a grace period applies at once without a job rewriting rows: an operator's "unlimited"
 * or number (the organization's own columns) wins; otherwise the plan's limit from configuration, the
 * free plan's once a past-due subscription has been past due longer than the grace period. Billing off:
 * no plan limits.
 */
export function limitSql(config: PlanConfig) {
  const free = config.PLANS.find((p) => p.id === FREE_PLAN)!;
  const graceOver = sql`(past_due_since is not null and past_due_since < now() - make_interval(days => ${config.BILLING_GRACE_DAYS}))`;
  const effectivePlan: RawBuilder<string> = config.BILLING_ENABLED
    ? sql<string>`(case when ${graceOver} then ${FREE_PLAN}::text else plan end)`
    : sql<string>`plan`;
  const planLimit = (kind: LimitKind): RawBuilder<number | null> => {
    if (!config.BILLING_ENABLED) return sql<number | null>`null::int`;
    const branches = config.PLANS.filter((p) => p.id !== FREE_PLAN).map((p) => sql`when plan = ${p.id} then ${p.limits[kind]}::int`);
    const freeLimit = sql`${free.limits[kind]}::int`;
    return branches.length === 0
      ? sql<number | null>`${freeLimit}`
      : sql<number | null>`(case when ${graceOver} then ${freeLimit} ${sql.join(branches, sql` `)} else ${freeLimit} end)`;
  };
  const limit = (kind: LimitKind): RawBuilder<number | null> =>
    sql<number | null>`(case when ${kind} = any(unlimited_limits) then null::int else coalesce(${sql.ref(OVERRIDE_COLUMNS[kind])}, ${planLimit(kind)}) end)`;
  return { effectivePlan, limit };
}

export function createEntitlementsRepository(db: Kysely<DB>, config: PlanConfig) {
  const { effectivePlan, limit } = limitSql(config);
  const period = periodSql(config);
  // Emails counted in the period now: a stored count of an earlier period counts as zero.
  const used = sql<number>`(case when usage_period_start < ${period.start} then 0 else emails_sent_this_month end)`;
  const emailLimit = limit('emails_per_month');
  const subscriberLimit = limit('subscribers');
  return {
    async limits(organizationId: string, executor: Executor = db): Promise<OrganizationLimits | undefined> {
      const row = await executor
        .selectFrom('organizations')
        .select([
          effectivePlan.as('plan'),
          used.as('emails_sent_this_month'),
          period.start.as('period_start'),
          period.end.as('period_end'),
          period.basis.as('period_basis'),
          subscriberLimit.as('subscribers'),
          emailLimit.as('emails_per_month'),
          limit('webhook_endpoints').as('webhook_endpoints'),
          limit('custom_domains').as('custom_domains'),
        ])
        .where('id', '=', organizationId)
        .executeTakeFirst();
      if (!row) return undefined;
      const { plan, emails_sent_this_month, period_start, period_end, period_basis, ...limits } = row;
      return { plan, emails_sent_this_month: Number(emails_sent_this_month), period_start, period_end, period_basis, limits };
    },

    /**
     * Counts `count` emails against the period's quota in one statement, starting a new period first if
     * the stored one is over (so a missed reset never blocks sending). False, and nothing counted, when
     * fewer than `count` remain.
     */
    async reserveEmails(executor: Executor, organizationId: string, count: number): Promise<boolean> {
      const result = await executor
        .updateTable('organizations')
        .set({ emails_sent_this_month: sql<number>`${used} + ${count}`, usage_period_start: sql<Date>`greatest(usage_period_start, ${period.start})` })
        .where('id', '=', organizationId)
        .where((eb) => eb.or([eb(emailLimit, 'is', null), eb(sql`${used} + ${count}`, '<=', emailLimit)]))
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
    /** Subscribers the organization holds now (only counted when it has a limit). */
    async subscriberCount(organizationId: string, executor: Executor = db): Promise<number> {
      const row = await executor
        .selectFrom('subscribers')
        .select((eb) => eb.fn.countAll<number>().as('count'))
        .where('organization_id', '=', organizationId)
        .executeTakeFirstOrThrow();
      return Number(row.count);
    },

    /** Of these addresses, how many the organization does not have yet (those an upsert would create). */
    async newAddressCount(organizationId: string, emails: readonly string[], executor: Executor = db): Promise<number> {
      if (emails.length === 0) return 0;
      const result = await sql<{ count: number }>`
        select count(*)::int as count from (select distinct lower(e) as email from unnest(${emails as string[]}::text[]) as e) input
        where not exists (select 1 from subscribers s where s.organization_id = ${organizationId} and lower(s.email) = input.email)`.execute(executor);
      return result.rows[0]?.count ?? 0;
    },

    /** Custom sending domains the organization has. */
    async domainCount(organizationId: string): Promise<number> {
      const row = await db
        .selectFrom('domains')
        .select((eb) => eb.fn.countAll<number>().as('count'))
        .where('organization_id', '=', organizationId)
        .executeTakeFirstOrThrow();
      return Number(row.count);
    },

    /** Webhook endpoints the organization has. */
    async webhookEndpointCount(organizationId: string): Promise<number> {
      const row = await db
        .selectFrom('webhook_endpoints')
        .select((eb) => eb.fn.countAll<number>().as('count'))
        .where('organization_id', '=', organizationId)
        .executeTakeFirstOrThrow();
      return Number(row.count);
    },

    /** Sets an operator's override of some limits: a number, unlimited, or back to the plan's. False: no such organization. */
    async setOverrides(organizationId: string, overrides: Partial<Record<LimitKind, LimitOverride>>): Promise<boolean> {
      const values: Record<string, number | null> = {};
      const unlimited: LimitKind[] = [];
      const cleared: LimitKind[] = [];
      for (const [kind, value] of Object.entries(overrides) as [LimitKind, LimitOverride][]) {
        values[OVERRIDE_COLUMNS[kind]] = typeof value === 'number' ? value : null;
        (value === 'unlimited' ? unlimited : cleared).push(kind);
      }
      if (Object.keys(values).length === 0) return (await this.limits(organizationId)) !== undefined;
      const result = await db
        .updateTable('organizations')
        .set({
          ...values,
          unlimited_limits: sql<
            string[]
          >`array(select distinct k from unnest(array_cat(unlimited_limits, ${unlimited}::text[])) k where k <> all(${cleared}::text[]) order by k)`,
          updated_at: sql`now()`,
        })
        .where('id', '=', organizationId)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    /**
     * Puts an organization on `plan` unless a Stripe subscription decides its plan (one in a status that
     * keeps the plan). False when it has such a subscription (or does not exist).
     */
    async setPlan(organizationId: string, plan: string): Promise<boolean> {
      const result = await db
        .updateTable('organizations')
        .set({ plan, past_due_since: null, updated_at: sql`now()` })
        .where('id', '=', organizationId)
        .where((eb) => eb.or([eb('subscription_status', 'is', null), eb('subscription_status', 'not in', [...PERIOD_STATUSES])]))
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    /**
     * Organizations past 80 % or 100 % of their email quota (this period) or their subscriber limit that
     * were not told at that level (or a higher one) in this period, at most `limit`, the fullest first. A
     * claim that was released (the mail failed) or went stale does not count as told.
     */
    async dueQuotaNotices(limit: number, staleAfterSeconds: number): Promise<QuotaNotice[]> {
      const result = await sql<QuotaNotice>`
        with o as (
          select id, name, ${effectivePlan} as plan, ${period.start} as period_start, ${period.end} as period_end,
            ${used} as emails_used, ${emailLimit} as emails_max, ${subscriberLimit} as subscribers_max
          from organizations where deleted_at is null and status = 'active'
        ),
        usage as (
          select id, name, plan, period_start, period_end, 'emails_per_month'::text as "limit", emails_used::bigint as used, emails_max as max from o where emails_max > 0
          union all
          select o.id, o.name, o.plan, o.period_start, o.period_end, 'subscribers', (select count(*) from subscribers s where s.organization_id = o.id), o.subscribers_max
          from o where o.subscribers_max > 0
        ),
        levels as (
          select *, case when used >= max then 100 when used * 100 >= max::bigint * 80 then 80 else 0 end as threshold from usage
        )
        select id, name, plan, "limit", used::int as used, max, threshold, period_start, period_end from levels l
        where threshold > 0 and not exists (
          select 1 from quota_notices q
          where q.organization_id = l.id and q.limit_kind = l."limit" and q.period_start = l.period_start and q.threshold >= l.threshold
            and (q.sent_at is not null or q.claimed_at > now() - make_interval(secs => ${staleAfterSeconds})))
        order by used::float / max desc limit ${limit}`.execute(db);
      return result.rows;
    },

    /**
     * Claims telling one organization about one threshold in one period: true for exactly one caller (the
     * unique row), also when several workers run at once; a claim whose mail was never confirmed is
     * taken over after `staleAfterSeconds`.
     */
    async claimQuotaNotice(notice: Pick<QuotaNotice, 'id' | 'limit' | 'threshold' | 'period_start'>, staleAfterSeconds: number): Promise<boolean> {
      const result = await db
        .insertInto('quota_notices')
        .values({ organization_id: notice.id, limit_kind: notice.limit, threshold: notice.threshold, period_start: notice.period_start })
        .onConflict((oc) =>
          oc
            .columns(['organization_id', 'limit_kind', 'threshold', 'period_start'])
            .doUpdateSet({ claimed_at: sql`now()` })
            .where('quota_notices.sent_at', 'is', null)
            .where('quota_notices.claimed_at', '<', sql<Date>`now() - make_interval(secs => ${staleAfterSeconds})`),
        )
        .executeTakeFirst();
      return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
    },

    /** Confirms a claimed notice as sent (never claimed again), or releases it for the next run. */
    async settleQuotaNotice(notice: Pick<QuotaNotice, 'id' | 'limit' | 'threshold' | 'period_start'>, sent: boolean): Promise<void> {
      await db
        .updateTable('quota_notices')
        .set(sent ? { sent_at: sql`now()` } : { claimed_at: sql`'-infinity'::timestamptz` })
        .where('organization_id', '=', notice.id)
        .where('limit_kind', '=', notice.limit)
        .where('threshold', '=', notice.threshold)
        .where('period_start', '=', notice.period_start)
        .execute();
    },

    /** The owners' addresses (at most 20). */
    async ownerEmails(organizationId: string): Promise<string[]> {
      const rows = await db
        .selectFrom('organization_members as m')
        .innerJoin('users as u', 'u.id', 'm.user_id')
        .select('u.email')
        .where('m.organization_id', '=', organizationId)
        .where('m.role', '=', 'owner')
        .orderBy('u.email')
        .limit(20)
        .execute();
      return rows.map((r) => r.email);
    },

    /** Starts the current usage period for every organization still counting an earlier one. */
    async resetUsage(): Promise<number> {
      const result = await db
        .updateTable('organizations')
        .set({ emails_sent_this_month: 0, usage_period_start: sql<Date>`${period.start}` })
        .where('usage_period_start', '<', period.start)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
  };
}

export type EntitlementsRepository = ReturnType<typeof createEntitlementsRepository>;
