import { uuidv7Floor } from '../../lib/ids.ts';
import { sql, type Kysely } from 'kysely';
import type { DB } from '../../db/types.ts';
import type { SubscriberStatus } from '../subscribers/index.ts';

// Subscriber ids are UUIDv7 created just before the row, so a time range is an id range on the
// (organization_id, id) index (lib/ids.ts uuidv7Floor): older rows are skipped without an index on created_at.

export interface ConsentEventRow {
  id: string;
  action: string;
  source: string;
  created_at: Date;
  subscriber_id: string;
  subscriber_email: string | null;
  tag_id: string | null;
  tag_name: string | null;
  tag_slug: string | null;
  details: unknown;
}

/** Read-only aggregates for the dashboard; every query is filtered by the caller's organization. */
export function createStatsRepository(db: Kysely<DB>) {
  return {
    /** One row per status that has subscribers: an index-only scan of (organization_id, status, id). */
    async countByStatus(organizationId: string): Promise<Partial<Record<SubscriberStatus, number>>> {
      const rows = await db
        .selectFrom('subscribers')
        .select(['status', sql<number>`count(*)::int`.as('count')])
        .where('organization_id', '=', organizationId)
        .groupBy('status')
        .execute();
      return Object.fromEntries(rows.map((r) => [r.status, r.count]));
    },

    /**
     * Subscribers created per UTC day: one id range per day, counted on the (organization_id, id) index
     * alone (UUIDv7 ids carry their creation time, to the millisecond), so the heap is never read.
     */
    async createdPerDay(organizationId: string, days: { day: string; from: Date; to: Date }[]): Promise<Map<string, number>> {
      const rows = await sql<{ day: string; count: number }>`
        select d.day, count(s.id)::int as count
        from unnest(${days.map((d) => d.day)}::text[], ${days.map((d) => uuidv7Floor(d.from))}::uuid[], ${days.map((d) => uuidv7Floor(d.to))}::uuid[]) as d(day, lo, hi)
        left join subscribers s on s.organization_id = ${organizationId} and s.id >= d.lo and s.id < d.hi
        group by d.day
      `.execute(db);
      return new Map(rows.rows.map((r) => [r.day, r.count]));
    },

    /** Subscribers whose unsubscription happened per UTC day since `since` (and who are still unsubscribed). */
    async unsubscribedPerDay(organizationId: string, since: Date): Promise<Map<string, number>> {
      const rows = await sql<{ day: string; count: number }>`
        select to_char((unsubscribed_at at time zone 'UTC')::date, 'YYYY-MM-DD') as day, count(*)::int as count
        from subscribers
        where organization_id = ${organizationId} and unsubscribed_at >= ${since}
        group by 1
      `.execute(db);
      return new Map(rows.rows.map((r) => [r.day, r.count]));
    },

    /** The newest consent-history entries of the organization, with the subscriber's address and the tag. */
    async latestConsentEvents(organizationId: string, limit: number): Promise<ConsentEventRow[]> {
      return db
        .selectFrom('subscription_history as h')
        .leftJoin('subscribers as s', (join) => join.onRef('s.id', '=', 'h.subscriber_id').on('s.organization_id', '=', organizationId))
        .leftJoin('tags as t', (join) => join.onRef('t.id', '=', 'h.tag_id').on('t.organization_id', '=', organizationId))
        .select([
          'h.id',
          'h.action',
          'h.source',
          'h.created_at',
          'h.subscriber_id',
          'h.details',
          's.email as subscriber_email',
          't.id as tag_id',
          't.name as tag_name',
          't.slug as tag_slug',
        ])
        .where('h.organization_id', '=', organizationId)
        .orderBy('h.id', 'desc')
        .limit(limit)
        .execute() as Promise<ConsentEventRow[]>;
    },
  };
}

export type StatsRepository = ReturnType<typeof createStatsRepository>;
