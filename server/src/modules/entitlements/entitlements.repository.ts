import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Config, LimitKind } from '../../config/index.ts';
import { FREE_PLAN } from '../../config/index.ts';
import type { Executor } from '../../db/client.ts';
import type { DB } from '../../db/types.ts';

// The month the quota counts, in UTC; a stored month older than this one counts as zero used.
const MONTH = sql`(date_trunc('month', now() at time zone 'UTC'))::date`;
const USED_THIS_MONTH = sql<number>`(case when usage_period_start < ${MONTH} then 0 else emails_sent_this_month end)`;

/** The organization's own column for each limit: an operator's override, null when the plan decides. */
export const OVERRIDE_COLUMNS = {
  subscribers: 'max_subscribers',
  emails_per_month: 'max_emails_per_month',
  webhook_endpoints: 'max_webhook_endpoints',
  custom_domains: 'max_custom_domains',
} as const satisfies Record<LimitKind, string>;

export interface OrganizationLimits {
  /** The plan whose limits apply now: the free plan once a past-due subscription's grace period is over. */
  plan: string;
  limits: Record<LimitKind, number | null>;
  emails_sent_this_month: number;
}

export type PlanConfig = Pick<Config, 'BILLING_ENABLED' | 'PLANS' | 'BILLING_GRACE_DAYS'>;

/**
 * SQL for the limits in force, computed in the statement that uses them so a plan change, a config change
 * or the end of a grace period applies at once without a job rewriting rows: an operator's override
 * (the organization's own column) wins; otherwise the plan's limit from configuration, the free plan's
 * once a past-due subscription has been past due longer than the grace period. Billing off: no plan limits.
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
  const limit = (kind: LimitKind): RawBuilder<number | null> => sql<number | null>`coalesce(${sql.ref(OVERRIDE_COLUMNS[kind])}, ${planLimit(kind)})`;
  return { effectivePlan, limit };
}

export function createEntitlementsRepository(db: Kysely<DB>, config: PlanConfig) {
  const { effectivePlan, limit } = limitSql(config);
  const emailLimit = limit('emails_per_month');
  return {
    async limits(organizationId: string, executor: Executor = db): Promise<OrganizationLimits | undefined> {
      const row = await executor
        .selectFrom('organizations')
        .select([
          effectivePlan.as('plan'),
          USED_THIS_MONTH.as('emails_sent_this_month'),
          limit('subscribers').as('subscribers'),
          emailLimit.as('emails_per_month'),
          limit('webhook_endpoints').as('webhook_endpoints'),
          limit('custom_domains').as('custom_domains'),
        ])
        .where('id', '=', organizationId)
        .executeTakeFirst();
      if (!row) return undefined;
      const { plan, emails_sent_this_month, ...limits } = row;
      return { plan, emails_sent_this_month: Number(emails_sent_this_month), limits };
    },

    /**
     * Counts `count` emails against the month's quota in one statement, starting a new month first if the
     * stored one is over (so a missed cron reset never blocks sending). False, and nothing counted, when
     * fewer than `count` remain.
     */
    async reserveEmails(executor: Executor, organizationId: string, count: number): Promise<boolean> {
      const result = await executor
        .updateTable('organizations')
        .set({ emails_sent_this_month: sql<number>`${USED_THIS_MONTH} + ${count}`, usage_period_start: sql<string>`${MONTH}` })
        .where('id', '=', organizationId)
        .where((eb) => eb.or([eb(emailLimit, 'is', null), eb(sql`${USED_THIS_MONTH} + ${count}`, '<=', emailLimit)]))
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

    /** Sets (a number) or clears (null: the plan decides) an operator's override of some limits. */
    async setOverrides(organizationId: string, overrides: Partial<Record<LimitKind, number | null>>): Promise<boolean> {
      const values: Record<string, number | null> = {};
      for (const [kind, value] of Object.entries(overrides)) values[OVERRIDE_COLUMNS[kind as LimitKind]] = value;
      if (Object.keys(values).length === 0) return true;
      const result = await db
        .updateTable('organizations')
        .set({ ...values, updated_at: sql`now()` })
        .where('id', '=', organizationId)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    /**
     * Organizations past 80 % or 100 % of their monthly emails that have not been told at that level this
     * month (at most `limit`, the most used first), with the level reached.
     */
    async dueQuotaNotices(limit: number): Promise<{ id: string; name: string; plan: string; used: number; max: number; level: 80 | 100 }[]> {
      const result = await sql<{ id: string; name: string; plan: string; used: number; max: number; level: 80 | 100 }>`
        select id, name, plan, used, max, level from (
          select id, name, ${effectivePlan} as plan, ${USED_THIS_MONTH} as used, ${emailLimit} as max, quota_notice_period, quota_notice_percent,
            case when ${USED_THIS_MONTH} >= ${emailLimit} then 100 when ${USED_THIS_MONTH} * 100 >= ${emailLimit}::bigint * 80 then 80 else 0 end as level
          from organizations where deleted_at is null and status = 'active'
        ) o
        where max > 0 and level > 0 and (quota_notice_period is distinct from ${MONTH} or quota_notice_percent < level)
        order by used::float / max desc limit ${limit}`.execute(db);
      return result.rows;
    },

    /** Records that the organization was told at `level` this month; false when it already was (another run). */
    async markQuotaNoticed(organizationId: string, level: number): Promise<boolean> {
      const result = await db
        .updateTable('organizations')
        .set({ quota_notice_period: sql<string>`${MONTH}`, quota_notice_percent: level })
        .where('id', '=', organizationId)
        .where(sql<boolean>`(quota_notice_period is distinct from ${MONTH} or quota_notice_percent < ${level})`)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
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

    /** Starts `period` (first day of a month) for every organization still counting an earlier month. */
    async resetMonthlyUsage(period: string): Promise<number> {
      const result = await db
        .updateTable('organizations')
        .set({ emails_sent_this_month: 0, usage_period_start: period })
        .where('usage_period_start', '<', sql<Date>`${period}::date`)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
  };
}

export type EntitlementsRepository = ReturnType<typeof createEntitlementsRepository>;
