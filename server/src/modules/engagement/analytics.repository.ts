import { sql, type Kysely } from 'kysely';
import type { DB } from '../../db/types.ts';

export interface Counts {
  total: number;
  unique: number;
}
export interface HumanMachine {
  human: Counts;
  machine: Counts;
}

const empty = (): HumanMachine => ({ human: { total: 0, unique: 0 }, machine: { total: 0, unique: 0 } });

/** Organization-wide series: each is one grouped statement over an indexed range. */
export const ORG_METRICS = [
  'opens',
  'clicks',
  'sends',
  'delivered',
  'bounces',
  'complaints',
  'delivery_rate',
  'bounce_rate',
  'complaint_rate',
  'new_subscribers',
  'unsubscribes',
  'net_subscribers',
] as const;
export type OrgMetric = (typeof ORG_METRICS)[number];
export const INTERVALS = ['hour', 'day', 'week'] as const;
export type Interval = (typeof INTERVALS)[number];

/** Reads of the engagement rollups (never the raw events): a campaign's totals, links and series. */
export function createAnalyticsRepository(db: Kysely<DB>) {
  return {
    /** Opens and clicks of the campaign as a whole (url ''), human and machine apart. */
    async totals(organizationId: string, campaignId: string): Promise<{ opens: HumanMachine; clicks: HumanMachine }> {
      const rows = await sql<{ kind: string; machine: boolean; total: string; uniques: string }>`
        select kind, machine, sum(total)::text as total, sum(uniques)::text as uniques from engagement_rollups
        where organization_id = ${organizationId} and campaign_id = ${campaignId} and url = '' group by kind, machine`.execute(db);
      const result = { opens: empty(), clicks: empty() };
      for (const row of rows.rows) {
        const target = result[row.kind === 'open' ? 'opens' : 'clicks'][row.machine ? 'machine' : 'human'];
        target.total = Number(row.total);
        target.unique = Number(row.uniques);
      }
      return result;
    },

    /** Clicks per link, most human clicks first. */
    async links(organizationId: string, campaignId: string, limit: number) {
      const rows = await sql<{ url: string; human_total: string; human_unique: string; machine_total: string; machine_unique: string }>`
        select url,
               coalesce(sum(total) filter (where not machine), 0)::text as human_total, coalesce(sum(uniques) filter (where not machine), 0)::text as human_unique,
               coalesce(sum(total) filter (where machine), 0)::text as machine_total, coalesce(sum(uniques) filter (where machine), 0)::text as machine_unique
        from engagement_rollups
        where organization_id = ${organizationId} and campaign_id = ${campaignId} and kind = 'click' and url <> ''
        group by url order by sum(total) filter (where not machine) desc nulls last, url limit ${limit}`.execute(db);
      return rows.rows.map((r) => ({
        url: r.url,
        human: { total: Number(r.human_total), unique: Number(r.human_unique) },
        machine: { total: Number(r.machine_total), unique: Number(r.machine_unique) },
      }));
    },

    /** Opens and clicks over time: by hour for the first 48 hours from `start`, then by day. */
    async series(organizationId: string, campaignId: string, start: Date) {
      const rows = await sql<{ at: Date; step: 'hour' | 'day'; kind: string; machine: boolean; total: string; uniques: string }>`
        select case when bucket < ${start}::timestamptz + interval '48 hours' then bucket else date_trunc('day', bucket, 'UTC') end as at,
               case when bucket < ${start}::timestamptz + interval '48 hours' then 'hour' else 'day' end as step,
               kind, machine, sum(total)::text as total, sum(uniques)::text as uniques
        from engagement_rollups
        where organization_id = ${organizationId} and campaign_id = ${campaignId} and url = ''
        group by 1, 2, 3, 4 order by 1`.execute(db);
      const points = new Map<string, { at: Date; interval: 'hour' | 'day'; opens: HumanMachine; clicks: HumanMachine }>();
      for (const row of rows.rows) {
        const key = `${row.step}/${row.at.toISOString()}`;
        const point = points.get(key) ?? { at: row.at, interval: row.step, opens: empty(), clicks: empty() };
        points.set(key, point);
        const target = point[row.kind === 'open' ? 'opens' : 'clicks'][row.machine ? 'machine' : 'human'];
        target.total = Number(row.total);
        target.unique = Number(row.uniques);
      }
      return [...points.values()];
    },

    /**
     * One organization metric per bucket from `from` to `to`, every bucket present (zero when empty).
     * Opens and clicks come from the rollups (human and machine); sends and outcomes from the messages'
     * timestamps; subscriber growth from the subscribers' own timestamps.
     */
    async orgSeries(organizationId: string, metric: OrgMetric, from: Date, to: Date, interval: Interval) {
      const step = sql.raw(`'1 ${interval}'::interval`);
      const unit = sql.lit(interval);
      const buckets = sql`select generate_series(date_trunc(${unit}, ${from}::timestamptz, 'UTC'), ${to}::timestamptz, ${step}) as at`;
      const messages = (column: string) => sql`
        select date_trunc(${unit}, ${sql.ref(column)}, 'UTC') as at, count(*)::float8 as value, null::float8 as machine from email_messages
        where organization_id = ${organizationId} and ${sql.ref(column)} >= ${from} and ${sql.ref(column)} < ${to} group by 1`;
      const rollup = (kind: string) => sql`
        select date_trunc(${unit}, bucket, 'UTC') as at, coalesce(sum(total) filter (where not machine), 0)::float8 as value,
               coalesce(sum(total) filter (where machine), 0)::float8 as machine
        from engagement_rollups where organization_id = ${organizationId} and kind = ${kind} and url = '' and bucket >= ${from} and bucket < ${to} group by 1`;
      const created = sql`select date_trunc(${unit}, created_at, 'UTC') as at, count(*)::float8 as value from subscribers
        where organization_id = ${organizationId} and created_at >= ${from} and created_at < ${to} group by 1`;
      const left = sql`select date_trunc(${unit}, unsubscribed_at, 'UTC') as at, count(*)::float8 as value from subscribers
        where organization_id = ${organizationId} and unsubscribed_at >= ${from} and unsubscribed_at < ${to} group by 1`;
      const ratio = (column: string) => sql`
        select date_trunc(${unit}, sent_at, 'UTC') as at,
               (count(*) filter (where ${sql.ref(column)} is not null))::float8 / greatest(count(*), 1) as value, null::float8 as machine
        from email_messages where organization_id = ${organizationId} and sent_at >= ${from} and sent_at < ${to} group by 1`;
      const source = {
        opens: rollup('open'),
        clicks: rollup('click'),
        sends: messages('sent_at'),
        delivered: messages('delivered_at'),
        bounces: messages('bounced_at'),
        complaints: messages('complained_at'),
        delivery_rate: ratio('delivered_at'),
        bounce_rate: ratio('bounced_at'),
        complaint_rate: ratio('complained_at'),
        new_subscribers: sql`select at, value, null::float8 as machine from (${created}) c`,
        unsubscribes: sql`select at, value, null::float8 as machine from (${left}) l`,
        net_subscribers: sql`select coalesce(c.at, l.at) as at, coalesce(c.value, 0) - coalesce(l.value, 0) as value, null::float8 as machine
          from (${created}) c full join (${left}) l on l.at = c.at`,
      }[metric];
      const rows = await sql<{ at: Date; value: number; machine: number | null }>`
        select b.at, coalesce(s.value, 0) as value, s.machine from (${buckets}) b left join (${source}) s on s.at = b.at
        where b.at < ${to} order by b.at`.execute(db);
      return rows.rows;
    },
  };
}

export type AnalyticsRepository = ReturnType<typeof createAnalyticsRepository>;
