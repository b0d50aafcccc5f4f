import { sql, type Kysely, type Transaction } from 'kysely';
import type { Executor } from '../../db/client.ts';
import { deleteInChunks, DELETE_CHUNK } from '../../db/chunked-delete.ts';
import type { DB } from '../../db/types.ts';
import { newId, uuidv7Floor } from '../../lib/ids.ts';
import type { OutboxEvent } from './catalogue.ts';

/** An outbox row as the relay hands it to consumers. */
export interface RelayedEvent {
  id: string;
  organization_id: string;
  type: string;
  subject_id: string | null;
  payload: unknown;
  created_at: Date;
}

/**
 * Writes outbox rows with the caller's executor, so they commit or roll back with the change. The rows
 * go in as four arrays (`unnest`), so one statement takes any number of events without running into
 * PostgreSQL's limit of bind parameters.
 */
export async function insertEvents(db: Executor, organizationId: string, events: readonly OutboxEvent[]): Promise<void> {
  if (events.length === 0) return;
  await sql`
    insert into events (id, organization_id, type, subject_id, payload)
    select id, ${organizationId}::uuid, type, subject_id, payload
    from unnest(${events.map(() => newId())}::uuid[], ${events.map((e) => e.type)}::text[],
                ${events.map((e) => e.subjectId)}::uuid[], ${events.map((e) => JSON.stringify(e.payload))}::jsonb[]) as e(id, type, subject_id, payload)
    order by id`.execute(db);
}

export function createEventsRepository(db: Kysely<DB>) {
  return {
    transaction: <T>(work: (trx: Transaction<DB>) => Promise<T>) => db.transaction().execute(work),

    /**
     * Seconds since the oldest event not yet relayed was written, 0 when every event is relayed. One row
     * from the partial index of unrelayed events (ids are time-ordered), so a scrape costs the same
     * however far behind the relay is.
     */
    async outboxLagSeconds(): Promise<number> {
      const row = await db
        .selectFrom('events')
        .select(sql<number>`extract(epoch from now() - created_at)::float8`.as('age'))
        .where('relayed_at', 'is', null)
        .orderBy('id')
        .limit(1)
        .executeTakeFirst();
      return row ? Math.max(0, Number(row.age)) : 0;
    },

    /** The oldest unrelayed events, locked so two relays never hand on the same event. */
    async lockUnrelayed(trx: Transaction<DB>, limit: number): Promise<RelayedEvent[]> {
      return trx
        .selectFrom('events')
        .select(['id', 'organization_id', 'type', 'subject_id', 'payload', 'created_at'])
        .where('relayed_at', 'is', null)
        .orderBy('id')
        .limit(limit)
        .forUpdate()
        .skipLocked()
        .execute();
    },

    async markRelayed(trx: Transaction<DB>, ids: string[]): Promise<void> {
      if (ids.length > 0) await trx.updateTable('events').set({ relayed_at: new Date() }).where('id', 'in', ids).execute();
    },

    /** Only relayed events: an unrelayed one still has consumers waiting for it. */
    async deleteRelayedBefore(cutoff: Date, signal?: AbortSignal): Promise<number> {
      const floor = uuidv7Floor(cutoff);
      return deleteInChunks(
        async () =>
          (
            await db
              .deleteFrom('events')
              .where('id', 'in', (eb) => eb.selectFrom('events').select('id').where('id', '<', floor).where('relayed_at', 'is not', null).limit(DELETE_CHUNK))
              .executeTakeFirst()
          ).numDeletedRows,
        signal,
      );
    },
  };
}

export type EventsRepository = ReturnType<typeof createEventsRepository>;
