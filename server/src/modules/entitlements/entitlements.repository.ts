import { sql, type Kysely } from 'kysely';
import type { Executor } from '../../db/client.ts';
import type { DB } from '../../db/types.ts';

// The month the quota counts, in UTC; a stored month older than this one counts as zero used.
const MONTH = sql`(date_trunc('month', now() at time zone 'UTC'))::date`;
const USED_THIS_MONTH = sql<number>`(case when usage_period_start < ${MONTH} then 0 else emails_sent_this_month end)`;

export interface OrganizationLimits {
  plan: string;
  max_subscribers: number | null;
  max_emails_per_month: number | null;
  emails_sent_this_month: number;
}

export function createEntitlementsRepository(db: Kysely<DB>) {
  return {
    async limits(organizationId: string, executor: Executor = db): Promise<OrganizationLimits | undefined> {
      return executor.selectFrom('organizations')
        .select(['plan', 'max_subscribers', 'max_emails_per_month', USED_THIS_MONTH.as('emails_sent_this_month')])
        .where('id', '=', organizationId).executeTakeFirst();
    },

    /**
     * Counts `count` emails against the month's quota in one statement, starting a new month first if the
     * stored one is over (so a missed cron reset never blocks sending). False, and nothing counted, when
     * fewer than `count` remain.
     */
    async reserveEmails(executor: Executor, organizationId: string, count: number): Promise<boolean> {
      const result = await executor.updateTable('organizations')
        .set({ emails_sent_this_month: sql<number>`${USED_THIS_MONTH} + ${count}`, usage_period_start: sql<string>`${MONTH}` })
        .where('id', '=', organizationId)
        .where((eb) => eb.or([eb('max_emails_per_month', 'is', null), eb(sql`${USED_THIS_MONTH} + ${count}`, '<=', eb.ref('max_emails_per_month'))]))
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    /** Subscribers the organization holds now (only counted when it has a limit). */
    async subscriberCount(organizationId: string, executor: Executor = db): Promise<number> {
      const row = await executor.selectFrom('subscribers').select((eb) => eb.fn.countAll<number>().as('count'))
        .where('organization_id', '=', organizationId).executeTakeFirstOrThrow();
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

    /** Starts `period` (first day of a month) for every organization still counting an earlier month. */
    async resetMonthlyUsage(period: string): Promise<number> {
      const result = await db.updateTable('organizations').set({ emails_sent_this_month: 0, usage_period_start: period })
        .where('usage_period_start', '<', sql<Date>`${period}::date`).executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
  };
}

export type EntitlementsRepository = ReturnType<typeof createEntitlementsRepository>;
