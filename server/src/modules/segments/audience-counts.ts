import { sql, type Kysely } from 'kysely';
import type { DB } from '../../db/types.ts';
import type { Executor } from '../../db/client.ts';
import type { SegmentFilter } from './filter.ts';

/**
 * Exact audience counts from the counters the database keeps (migration 20261210T0500): subscribers per
 * organization × status, and topic rows per organization × tag × subscriber status × subscription
 * status. The counters are append-only ledgers of differences; a read sums a key's rows.
 *
 * A filter is answered from the counters when it is, in effect, an AND of conditions on `status` and at
 * most one `tags` condition naming one tag (`any`/`all`: subscribed to it, `none`: not subscribed to
 * it), including the empty filter (every subscriber). Any other shape is counted by SQL.
 */
export const SUBSCRIBER_STATUSES = ['pending', 'active', 'unsubscribed', 'bounced', 'complained'] as const;
export type SubscriberStatus = (typeof SUBSCRIBER_STATUSES)[number];

export interface CounterShape {
  /** The subscriber statuses the filter lets through. */
  statuses: SubscriberStatus[];
  /** One tag the subscriber must (`with`) or must not (`without`) be subscribed to. */
  tag?: { id: string; mode: 'with' | 'without' };
}

type Node = { field: string; op: string; value?: unknown; type?: string } | { match: 'all' | 'any'; conditions: Node[] };

const list = (value: unknown): unknown[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/**
 * The counter shape of a compiled (so already valid) filter, or null when the counters cannot answer
 * it exactly. `tagIds` maps the filter's tag references to the organization's tag ids.
 */
export function counterShape(filter: SegmentFilter, tagIds: ReadonlyMap<string, string>): CounterShape | null {
  let statuses = new Set<SubscriberStatus>(SUBSCRIBER_STATUSES);
  let tag: CounterShape['tag'];
  const visit = (node: Node): boolean => {
    if ('match' in node) {
      // An empty "any" group matches nobody; an "any" of one condition is that condition.
      if (node.conditions.length === 0) {
        if (node.match === 'any') statuses = new Set();
        return true;
      }
      if (node.match === 'any' && node.conditions.length > 1) return false;
      return node.conditions.every(visit);
    }
    if (node.field === 'status') {
      const values = new Set(list(node.value).map(String));
      const keep = (status: SubscriberStatus) => (node.op === 'eq' || node.op === 'in' ? values.has(status) : !values.has(status));
      if (!['eq', 'in', 'neq', 'not_in'].includes(node.op)) return false;
      statuses = new Set([...statuses].filter(keep));
      return true;
    }
    if (node.field === 'tags') {
      const ids = new Set(list(node.value).map((ref) => tagIds.get(String(ref))));
      if (tag || ids.size !== 1 || !['any', 'all', 'none'].includes(node.op)) return false;
      const id = [...ids][0];
      if (!id) return false;
      tag = { id, mode: node.op === 'none' ? 'without' : 'with' };
      return true;
    }
    return false;
  };
  if (!visit(filter as Node)) return null;
  return { statuses: SUBSCRIBER_STATUSES.filter((s) => statuses.has(s)), ...(tag ? { tag } : {}) };
}

/** One organization's topic rows of one tag: count by subscriber status and subscription status. */
export interface TagAudience {
  subscribed: Record<SubscriberStatus, number>;
  unsubscribed: Record<SubscriberStatus, number>;
}

const zero = (): Record<SubscriberStatus, number> => ({ pending: 0, active: 0, unsubscribed: 0, bounced: 0, complained: 0 });

export function createAudienceCounts(db: Kysely<DB>) {
  return {
    /** How many of the organization's subscribers a filter of this shape matches: one statement. */
    async count(executor: Executor, organizationId: string, shape: CounterShape): Promise<number> {
      if (shape.statuses.length === 0) return 0;
      const all = sql`(select coalesce(sum(n), 0) from subscriber_counts where organization_id = ${organizationId} and status = any(${shape.statuses}::text[]))`;
      const tagged = shape.tag
        ? sql`(select coalesce(sum(n), 0) from subscriber_tag_counts where organization_id = ${organizationId} and tag_id = ${shape.tag.id}
              and tag_status = 'subscribed' and subscriber_status = any(${shape.statuses}::text[]))`
        : sql`0`;
      const expression = !shape.tag ? all : shape.tag.mode === 'with' ? tagged : sql`${all} - ${tagged}`;
      const row = (await sql<{ count: string }>`select (${expression})::bigint as count`.execute(executor)).rows[0]!;
      return Number(row.count);
    },

    /** The topic rows of one tag by subscriber status and subscription status, as a SQL fragment's source. */
    tagAudienceQuery(organizationId: string, tagId: string) {
      return sql<{ subscriber_status: SubscriberStatus; tag_status: 'subscribed' | 'unsubscribed'; n: string }>`
        select subscriber_status, tag_status, sum(n) as n from subscriber_tag_counts
        where organization_id = ${organizationId} and tag_id = ${tagId} group by 1, 2`;
    },

    toTagAudience(rows: { subscriber_status: string; tag_status: string; n: string | number }[]): TagAudience {
      const audience: TagAudience = { subscribed: zero(), unsubscribed: zero() };
      for (const row of rows) {
        const side = row.tag_status === 'subscribed' ? audience.subscribed : audience.unsubscribed;
        if ((SUBSCRIBER_STATUSES as readonly string[]).includes(row.subscriber_status)) side[row.subscriber_status as SubscriberStatus] += Number(row.n);
      }
      return audience;
    },

    /**
     * Folds each key's difference rows into one (keys that sum to 0 disappear). Exact under concurrent
     * writes: it deletes only rows its snapshot sees and writes back their sum in the same statement;
     * rows added meanwhile stay as they are. One compaction at a time (a transaction-level advisory lock).
     * Returns how many rows it folded.
     */
    async compact(): Promise<number> {
      return db.transaction().execute(async (trx) => {
        const locked = (await sql<{ ok: boolean }>`select pg_try_advisory_xact_lock(hashtext('audience-counts.compact')) as ok`.execute(trx)).rows[0]!;
        if (!locked.ok) return 0;
        const subscribers = await sql<{ folded: string }>`
          with keys as (select organization_id, status from subscriber_counts group by 1, 2 having count(*) > 1 or sum(n) = 0),
          gone as (
            delete from subscriber_counts c using keys k where c.organization_id = k.organization_id and c.status = k.status
            returning c.organization_id, c.status, c.n
          ),
          kept as (
            insert into subscriber_counts (organization_id, status, n)
            select organization_id, status, sum(n) from gone group by 1, 2 having sum(n) <> 0 returning 1
          )
          select (select count(*) from gone) as folded`.execute(trx);
        const tags = await sql<{ folded: string }>`
          with keys as (
            select organization_id, tag_id, subscriber_status, tag_status from subscriber_tag_counts group by 1, 2, 3, 4 having count(*) > 1 or sum(n) = 0
          ),
          gone as (
            delete from subscriber_tag_counts c using keys k
            where c.organization_id = k.organization_id and c.tag_id = k.tag_id and c.subscriber_status = k.subscriber_status and c.tag_status = k.tag_status
            returning c.organization_id, c.tag_id, c.subscriber_status, c.tag_status, c.n
          ),
          kept as (
            insert into subscriber_tag_counts (organization_id, tag_id, subscriber_status, tag_status, n)
            select organization_id, tag_id, subscriber_status, tag_status, sum(n) from gone group by 1, 2, 3, 4 having sum(n) <> 0 returning 1
          )
          select (select count(*) from gone) as folded`.execute(trx);
        return Number(subscribers.rows[0]!.folded) + Number(tags.rows[0]!.folded);
      });
    },

    /**
     * Recounts every counter from the tables in ONE snapshot (repeatable read) and adds the difference
     * where a key is off, so it is exact while others write (their differences are theirs, committed
     * after the snapshot). Returns how many keys were off: 0 means the triggers kept every count right.
     * `organizationId` limits it to one organization. One verification at a time: a second one while the
     * first runs answers null (a session lock taken BEFORE the snapshot, so no two corrections overlap).
     */
    async verify(organizationId?: string): Promise<{ subscriberKeys: number; tagKeys: number } | null> {
      return db.connection().execute(async (connection) => {
        const locked = (await sql<{ ok: boolean }>`select pg_try_advisory_lock(hashtext('audience-counts.verify')) as ok`.execute(connection)).rows[0]!;
        if (!locked.ok) return null;
        try {
          return await connection
            .transaction()
            .setIsolationLevel('repeatable read')
            .execute(async (trx) => {
              const org = organizationId ? sql`organization_id = ${organizationId}` : sql`true`;
              const stOrg = organizationId ? sql`st.organization_id = ${organizationId}` : sql`true`;
              const subscribers = await sql<{ keys: string }>`
            with truth as (select organization_id, status, count(*) as n from subscribers where ${org} group by 1, 2),
            kept as (select organization_id, status, sum(n) as n from subscriber_counts where ${org} group by 1, 2),
            off as (
              select coalesce(t.organization_id, k.organization_id) as organization_id, coalesce(t.status, k.status) as status,
                coalesce(t.n, 0) - coalesce(k.n, 0) as n
              from truth t full join kept k on k.organization_id = t.organization_id and k.status = t.status
              where coalesce(t.n, 0) <> coalesce(k.n, 0)
            ),
            fixed as (
              insert into subscriber_counts (organization_id, status, n)
              select organization_id, status, n from off where exists (select 1 from organizations o where o.id = off.organization_id) returning 1
            )
            select (select count(*) from off) as keys`.execute(trx);
              const tags = await sql<{ keys: string }>`
            with truth as (
              select st.organization_id, st.tag_id, s.status as subscriber_status, st.status as tag_status, count(*) as n
              from subscriber_tags st join subscribers s on s.id = st.subscriber_id where ${stOrg} group by 1, 2, 3, 4
            ),
            kept as (
              select organization_id, tag_id, subscriber_status, tag_status, sum(n) as n from subscriber_tag_counts where ${org} group by 1, 2, 3, 4
            ),
            off as (
              select coalesce(t.organization_id, k.organization_id) as organization_id, coalesce(t.tag_id, k.tag_id) as tag_id,
                coalesce(t.subscriber_status, k.subscriber_status) as subscriber_status, coalesce(t.tag_status, k.tag_status) as tag_status,
                coalesce(t.n, 0) - coalesce(k.n, 0) as n
              from truth t full join kept k
                on k.organization_id = t.organization_id and k.tag_id = t.tag_id and k.subscriber_status = t.subscriber_status and k.tag_status = t.tag_status
              where coalesce(t.n, 0) <> coalesce(k.n, 0)
            ),
            fixed as (
              insert into subscriber_tag_counts (organization_id, tag_id, subscriber_status, tag_status, n)
              select organization_id, tag_id, subscriber_status, tag_status, n from off where exists (select 1 from tags t where t.id = off.tag_id) returning 1
            )
            select (select count(*) from off) as keys`.execute(trx);
              return { subscriberKeys: Number(subscribers.rows[0]!.keys), tagKeys: Number(tags.rows[0]!.keys) };
            });
        } finally {
          await sql`select pg_advisory_unlock(hashtext('audience-counts.verify'))`.execute(connection);
        }
      });
    },
  };
}

export type AudienceCounts = ReturnType<typeof createAudienceCounts>;
