import { sql, type Kysely } from 'kysely';
import type { Row } from '../../db/client.ts';
import type { DB } from '../../db/types.ts';
import { newId } from '../../lib/ids.ts';

export const SUPPRESSION_REASONS = ['hard_bounce', 'soft_bounce', 'complaint', 'manual'] as const;
export type SuppressionReason = (typeof SUPPRESSION_REASONS)[number];

const columns = ['id', 'email', 'reason', 'email_message_id', 'created_at'] as const;

export type SuppressionRow = Row<'suppressions', (typeof columns)[number], { reason: SuppressionReason }>;

/** Every query is filtered by the organization: another tenant's suppression is simply not found. */
export function createSuppressionRepository(db: Kysely<DB>) {
  return {
    async list(organizationId: string, options: { limit: number; beforeId?: string; q?: string; reason?: SuppressionReason }): Promise<SuppressionRow[]> {
      let query = db.selectFrom('suppressions').select(columns).where('organization_id', '=', organizationId);
      if (options.beforeId) query = query.where('id', '<', options.beforeId);
      if (options.reason) query = query.where('reason', '=', options.reason);
      // Any part of the address, case-insensitive; LIKE wildcards in the search are taken literally.
      if (options.q) query = query.where(sql`lower(email)`, 'like', `%${options.q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      return query
        .orderBy('id', 'desc')
        .limit(options.limit + 1)
        .execute() as Promise<SuppressionRow[]>;
    },

    /** Adds the address, or returns the row that already suppresses it (`created: false`). */
    async add(organizationId: string, email: string, reason: SuppressionReason): Promise<{ row: SuppressionRow; created: boolean }> {
      const inserted = await db
        .insertInto('suppressions')
        .values({ id: newId(), organization_id: organizationId, email, reason })
        .onConflict((oc) => oc.doNothing())
        .returning(columns)
        .executeTakeFirst();
      if (inserted) return { row: inserted as SuppressionRow, created: true };
      const existing = await db
        .selectFrom('suppressions')
        .select(columns)
        .where('organization_id', '=', organizationId)
        .where(sql`lower(email)`, '=', email.toLowerCase())
        .executeTakeFirstOrThrow();
      return { row: existing as SuppressionRow, created: false };
    },

    async remove(organizationId: string, id: string): Promise<boolean> {
      const result = await db.deleteFrom('suppressions').where('organization_id', '=', organizationId).where('id', '=', id).executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
  };
}

export type SuppressionRepository = ReturnType<typeof createSuppressionRepository>;
