import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../../db/types.ts';
import { newId } from '../../lib/ids.ts';

export type Executor = Kysely<DB> | Transaction<DB>;

/** One row of the transactional outbox; the relay hands it on to webhooks and automations. */
export interface OutboxEvent {
  type: string;
  subjectId: string | null;
  payload: Record<string, unknown>;
}

/** Writes outbox rows with the caller's executor, so they commit or roll back with the change. */
export async function insertEvents(db: Executor, organizationId: string, events: OutboxEvent[]): Promise<void> {
  if (events.length === 0) return;
  await db
    .insertInto('events')
    .values(events.map((event) => ({ id: newId(), organization_id: organizationId, type: event.type, subject_id: event.subjectId, payload: JSON.stringify(event.payload) })))
    .execute();
}
