import { sql, type Kysely, type RawBuilder, type SqlBool, type Transaction } from 'kysely';
import type { DB } from '../../db/types.ts';
import { AppError } from '../../lib/errors.ts';
import { createAudienceCounts, type CounterShape } from './audience-counts.ts';
import type { SegmentFilter } from './filter.ts';

const columns = ['id', 'name', 'description', 'filter', 'created_at', 'updated_at'] as const;

export interface SegmentRow {
  id: string;
  name: string;
  description: string | null;
  filter: SegmentFilter;
  created_at: Date;
  updated_at: Date;
}

export interface SegmentMember {
  id: string;
  email: string;
  status: string;
  first_name: string | null;
  last_name: string | null;
  created_at: Date;
}

// Every query over a compiled filter runs under this bound: a slow filter answers 503, never holds a
// connection for minutes.
const FILTER_TIMEOUT_MS = 10_000;

/**
 * Runs `work` in a transaction whose statements stop after the filter timeout (set_config is local to
 * the transaction). PostgreSQL's "canceling statement due to statement timeout" becomes a clear 503.
 */
export async function withFilterTimeout<T>(db: Kysely<DB>, work: (trx: Transaction<DB>) => Promise<T>, timeoutMs = FILTER_TIMEOUT_MS): Promise<T> {
  try {
    return await db.transaction().execute(async (trx) => {
      await sql`select set_config('statement_timeout', ${String(timeoutMs)}, true)`.execute(trx);
      return work(trx);
    });
  } catch (error) {
    if ((error as { code?: string }).code === '57014') {
      throw new AppError(503, 'filter_timeout', 'The filter took too long to evaluate; narrow it or try again later', { cause: error });
    }
    throw error;
  }
}

/** Every query is filtered by the organization; a compiled filter is only ever AND-ed onto that. */
export function createSegmentRepository(db: Kysely<DB>) {
  const counters = createAudienceCounts(db);
  return {
    /** How many subscribers a filter of this shape matches, from the counters (one short statement). */
    async countFromCounters(organizationId: string, shape: CounterShape): Promise<number> {
      return withFilterTimeout(db, (trx) => counters.count(trx, organizationId, shape));
    },

    async list(organizationId: string, options: { limit: number; beforeId?: string }): Promise<SegmentRow[]> {
      let query = db.selectFrom('segments').select(columns).where('organization_id', '=', organizationId);
      if (options.beforeId) query = query.where('id', '<', options.beforeId);
      return (await query
        .orderBy('id', 'desc')
        .limit(options.limit + 1)
        .execute()) as SegmentRow[];
    },

    async find(organizationId: string, id: string): Promise<SegmentRow | undefined> {
      return (await db.selectFrom('segments').select(columns).where('organization_id', '=', organizationId).where('id', '=', id).executeTakeFirst()) as
        SegmentRow | undefined;
    },

    async insert(organizationId: string, segment: { id: string; name: string; description: string | null; filter: SegmentFilter }): Promise<SegmentRow> {
      return (await db
        .insertInto('segments')
        .values({ ...segment, organization_id: organizationId, filter: JSON.stringify(segment.filter) })
        .returning(columns)
        .executeTakeFirstOrThrow()) as SegmentRow;
    },

    async update(
      organizationId: string,
      id: string,
      changes: { name?: string; description?: string | null; filter?: SegmentFilter },
    ): Promise<SegmentRow | undefined> {
      const { filter, ...rest } = changes;
      return (await db
        .updateTable('segments')
        .set({ ...rest, ...(filter ? { filter: JSON.stringify(filter) } : {}), updated_at: new Date() })
        .where('organization_id', '=', organizationId)
        .where('id', '=', id)
        .returning(columns)
        .executeTakeFirst()) as SegmentRow | undefined;
    },

    async remove(organizationId: string, id: string): Promise<boolean> {
      const result = await db.deleteFrom('segments').where('organization_id', '=', organizationId).where('id', '=', id).executeTakeFirst();
      return result.numDeletedRows > 0n;
    },

    /** The organization's tags named by these ids or slugs: reference → tag id. */
    async resolveTags(organizationId: string, refs: { ids: string[]; slugs: string[] }): Promise<Map<string, string>> {
      if (refs.ids.length === 0 && refs.slugs.length === 0) return new Map();
      const rows = await db
        .selectFrom('tags')
        .select(['id', 'slug'])
        .where('organization_id', '=', organizationId)
        .where(sql<SqlBool>`(id = any(${refs.ids}::uuid[]) or slug = any(${refs.slugs}::text[]))`)
        .execute();
      const map = new Map<string, string>();
      for (const row of rows) {
        map.set(row.id, row.id);
        map.set(row.slug, row.id);
      }
      return map;
    },

    /** How many of the organization's subscribers match. */
    async count(organizationId: string, predicate: RawBuilder<SqlBool>): Promise<number> {
      return withFilterTimeout(db, async (trx) => {
        const row = await trx
          .selectFrom('subscribers as s')
          .select((eb) => eb.fn.countAll<number>().as('count'))
          .where('s.organization_id', '=', organizationId)
          .where(predicate)
          .executeTakeFirstOrThrow();
        return Number(row.count);
      });
    },

    /** The first matching subscribers, newest first. */
    async members(organizationId: string, predicate: RawBuilder<SqlBool>, limit: number): Promise<SegmentMember[]> {
      return withFilterTimeout(db, (trx) =>
        trx
          .selectFrom('subscribers as s')
          .select(['s.id', 's.email', 's.status', 's.first_name', 's.last_name', 's.created_at'])
          .where('s.organization_id', '=', organizationId)
          .where(predicate)
          .orderBy('s.id', 'desc')
          .limit(limit)
          .execute(),
      );
    },
  };
}

export type SegmentRepository = ReturnType<typeof createSegmentRepository>;
