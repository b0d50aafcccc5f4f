import { sql, type Kysely } from 'kysely';
import type { DB } from '../../db/types.ts';
import type { Executor } from '../../db/client.ts';
import type { ListFilterInput } from './list-query.ts';

export const BULK_ACTIONS = ['add_tag', 'remove_tag', 'unsubscribe', 'delete'] as const;
export type BulkActionKind = (typeof BULK_ACTIONS)[number];
export type BulkActionStatus = 'queued' | 'running' | 'completed' | 'failed';

export interface BulkActionRow {
  id: string;
  organization_id: string;
  action: BulkActionKind;
  filter: ListFilterInput;
  tag_id: string | null;
  tag_name: string | null;
  tag_slug: string | null;
  reason: string | null;
  status: BulkActionStatus;
  expected: number | null;
  processed: number;
  changed: number;
  last_id: string | null;
  error: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

/** Rows of subscriber_bulk_actions, always read within the organization (the worker reads by id only). */
export function createBulkActionRepository(db: Kysely<DB>) {
  const select = (executor: Executor) =>
    executor
      .selectFrom('subscriber_bulk_actions as b')
      .leftJoin('tags as t', 't.id', 'b.tag_id')
      .select([
        'b.id',
        'b.organization_id',
        'b.action',
        'b.filter',
        'b.tag_id',
        't.name as tag_name',
        't.slug as tag_slug',
        'b.reason',
        'b.status',
        'b.expected',
        'b.processed',
        'b.changed',
        'b.last_id',
        'b.error',
        'b.created_at',
        'b.started_at',
        'b.finished_at',
      ]);

  return {
    async insert(row: {
      id: string;
      organization_id: string;
      action: BulkActionKind;
      filter: ListFilterInput;
      tag_id: string | null;
      reason: string | null;
      expected: number;
      created_by_user_id: string | null;
      created_by_api_key_id: string | null;
    }): Promise<void> {
      await db
        .insertInto('subscriber_bulk_actions')
        .values({ ...row, filter: JSON.stringify(row.filter), status: 'queued' })
        .execute();
    },

    async find(organizationId: string, id: string): Promise<BulkActionRow | undefined> {
      return (await select(db).where('b.organization_id', '=', organizationId).where('b.id', '=', id).executeTakeFirst()) as BulkActionRow | undefined;
    },

    /** For the worker, which has only the id from the job's payload. */
    async findForWorker(id: string): Promise<BulkActionRow | undefined> {
      return (await select(db).where('b.id', '=', id).executeTakeFirst()) as BulkActionRow | undefined;
    },

    /** For the worker: the action by id, locked for the chunk's transaction. */
    async lock(executor: Executor, id: string): Promise<BulkActionRow | undefined> {
      return (await select(executor).where('b.id', '=', id).forUpdate('b').executeTakeFirst()) as BulkActionRow | undefined;
    },

    async markRunning(id: string): Promise<void> {
      await db
        .updateTable('subscriber_bulk_actions')
        .set({ status: 'running', started_at: sql<Date>`coalesce(started_at, now())`, updated_at: sql<Date>`now()` })
        .where('id', '=', id)
        .where('status', 'in', ['queued', 'running'])
        .execute();
    },

    /** Records a finished chunk in the transaction that applied it, so a retry never applies it twice. */
    async advance(executor: Executor, id: string, chunk: { processed: number; changed: number; lastId: string }): Promise<void> {
      await executor
        .updateTable('subscriber_bulk_actions')
        .set({
          processed: sql<number>`processed + ${chunk.processed}`,
          changed: sql<number>`changed + ${chunk.changed}`,
          last_id: chunk.lastId,
          updated_at: sql<Date>`now()`,
        })
        .where('id', '=', id)
        .execute();
    },

    async finish(executor: Executor, id: string, outcome: { status: 'completed' | 'failed'; error?: string }): Promise<void> {
      await executor
        .updateTable('subscriber_bulk_actions')
        .set({ status: outcome.status, error: outcome.error ?? null, finished_at: sql<Date>`now()`, updated_at: sql<Date>`now()` })
        .where('id', '=', id)
        .execute();
    },

    // The set-based writes of one chunk. Each takes the chunk's subscriber ids (at most a few hundred) and
    // answers the ids it actually changed, for the consent history and the outbox rows.

    /** Subscribes to the tag; a topic the person left is never subscribed again, one they hold is left alone. */
    async addTag(executor: Executor, organizationId: string, tagId: string, ids: string[]): Promise<string[]> {
      const result = await sql<{ subscriber_id: string }>`
        insert into subscriber_tags (subscriber_id, tag_id, organization_id, status, source, subscribed_at)
        select s, ${tagId}::uuid, ${organizationId}::uuid, 'subscribed', 'bulk', now() from unnest(${ids}::uuid[]) as s
        on conflict (subscriber_id, tag_id) do nothing
        returning subscriber_id`.execute(executor);
      return result.rows.map((r) => r.subscriber_id);
    },

    async removeTag(executor: Executor, organizationId: string, tagId: string, ids: string[]): Promise<string[]> {
      const rows = await executor
        .updateTable('subscriber_tags')
        .set({ status: 'unsubscribed', source: 'bulk', unsubscribed_at: sql<Date>`now()`, updated_at: sql<Date>`now()` })
        .where('organization_id', '=', organizationId)
        .where('tag_id', '=', tagId)
        .where('subscriber_id', '=', sql<string>`any(${ids}::uuid[])`)
        .where('status', '=', 'subscribed')
        .returning('subscriber_id')
        .execute();
      return rows.map((r) => r.subscriber_id);
    },

    /** Active and pending subscribers become unsubscribed; bounced and complained ones keep their status. */
    async unsubscribe(executor: Executor, organizationId: string, ids: string[]): Promise<{ id: string; from: string }[]> {
      const result = await sql<{ id: string; from: string }>`
        update subscribers s
        set status = 'unsubscribed', unsubscribed_at = now(), updated_at = now()
        from (select id, status from subscribers where organization_id = ${organizationId} and id = any(${ids}::uuid[]) and status in ('active', 'pending')) o
        where s.id = o.id and s.organization_id = ${organizationId}
        returning s.id, o.status as from`.execute(executor);
      return result.rows;
    },

    /** Erasure: the rows go with their tags, history, notes and messages (foreign keys cascade). */
    async erase(executor: Executor, organizationId: string, ids: string[]): Promise<string[]> {
      const rows = await executor
        .deleteFrom('subscribers')
        .where('organization_id', '=', organizationId)
        .where('id', '=', sql<string>`any(${ids}::uuid[])`)
        .returning('id')
        .execute();
      return rows.map((r) => r.id);
    },
  };
}

export type BulkActionRepository = ReturnType<typeof createBulkActionRepository>;
