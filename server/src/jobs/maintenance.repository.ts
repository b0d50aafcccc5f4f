import { sql, type Kysely, type Transaction } from 'kysely';
import type { DB } from '../db/types.ts';

export interface RelayedEvent {
  id: string;
  organization_id: string;
  type: string;
  subject_id: string | null;
  payload: unknown;
  created_at: Date;
}

// Rows are deleted in chunks so no statement holds locks (or a replica) for long.
const DELETE_CHUNK = 5000;

/** The smallest UUIDv7 of a moment: ids below it were made before it, so "older than" uses the primary key. */
export function uuidv7Floor(date: Date): string {
  const hex = Math.max(0, Math.floor(date.getTime())).toString(16).padStart(12, '0').slice(-12);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7000-8000-000000000000`;
}

export function createMaintenanceRepository(db: Kysely<DB>) {
  /** Deletes in chunks until a chunk comes back short; returns the number deleted. */
  async function deleteInChunks(run: () => Promise<bigint>, signal?: AbortSignal): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = Number(await run());
      total += deleted;
      if (deleted < DELETE_CHUNK || signal?.aborted) return total;
    }
  }

  return {
    transaction: <T>(work: (trx: Transaction<DB>) => Promise<T>) => db.transaction().execute(work),

    /**
     * Seconds since the oldest event not yet relayed was written, 0 when every event is relayed. One row
     * from the partial index of unrelayed events (ids are time-ordered), so a scrape costs the same
     * however far behind the relay is.
     */
    async outboxLagSeconds(): Promise<number> {
      const row = await db.selectFrom('events').select(sql<number>`extract(epoch from now() - created_at)::float8`.as('age'))
        .where('relayed_at', 'is', null).orderBy('id').limit(1).executeTakeFirst();
      return row ? Math.max(0, Number(row.age)) : 0;
    },

    /** The oldest unrelayed events, locked so two relays never hand on the same event. */
    async lockUnrelayed(trx: Transaction<DB>, limit: number): Promise<RelayedEvent[]> {
      return trx.selectFrom('events').select(['id', 'organization_id', 'type', 'subject_id', 'payload', 'created_at'])
        .where('relayed_at', 'is', null).orderBy('id').limit(limit).forUpdate().skipLocked().execute();
    },

    async markRelayed(trx: Transaction<DB>, ids: string[]): Promise<void> {
      if (ids.length > 0) await trx.updateTable('events').set({ relayed_at: new Date() }).where('id', 'in', ids).execute();
    },

    /** Starts `period` (first day of a month) for every organization still counting an earlier month. */
    async resetMonthlyUsage(period: string): Promise<number> {
      const result = await db.updateTable('organizations').set({ emails_sent_this_month: 0, usage_period_start: period })
        .where('usage_period_start', '<', sql<Date>`${period}::date`).executeTakeFirst();
      return Number(result.numUpdatedRows);
    },

    async deleteDevMailboxBefore(cutoff: Date, signal?: AbortSignal): Promise<number> {
      const floor = uuidv7Floor(cutoff);
      return deleteInChunks(async () => (await db.deleteFrom('dev_mailbox')
        .where('id', 'in', (eb) => eb.selectFrom('dev_mailbox').select('id').where('id', '<', floor).limit(DELETE_CHUNK)).executeTakeFirst()).numDeletedRows, signal);
    },

    /** Only relayed events: an unrelayed one still has consumers waiting for it. */
    async deleteRelayedEventsBefore(cutoff: Date, signal?: AbortSignal): Promise<number> {
      const floor = uuidv7Floor(cutoff);
      return deleteInChunks(async () => (await db.deleteFrom('events')
        .where('id', 'in', (eb) => eb.selectFrom('events').select('id').where('id', '<', floor).where('relayed_at', 'is not', null).limit(DELETE_CHUNK)).executeTakeFirst()).numDeletedRows, signal);
    },

    async deleteProviderEventsBefore(cutoff: Date, signal?: AbortSignal): Promise<number> {
      return deleteInChunks(async () => (await sql`
        delete from provider_events where (provider, id) in (
          select provider, id from provider_events where received_at < ${cutoff} limit ${DELETE_CHUNK})`.execute(db)).numAffectedRows ?? 0n, signal);
    },

    async deleteMagicLinkTokensExpiredBefore(cutoff: Date, signal?: AbortSignal): Promise<number> {
      return deleteInChunks(async () => (await db.deleteFrom('magic_link_tokens')
        .where('id', 'in', (eb) => eb.selectFrom('magic_link_tokens').select('id').where('expires_at', '<', cutoff).limit(DELETE_CHUNK)).executeTakeFirst()).numDeletedRows, signal);
    },
  };
}

export type MaintenanceRepository = ReturnType<typeof createMaintenanceRepository>;
