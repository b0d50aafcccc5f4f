import { sql, type Kysely, type Transaction } from 'kysely';
import type { DB } from '../../db/types.ts';
import { newId } from '../../lib/ids.ts';

type Executor = Kysely<DB> | Transaction<DB>;

/** A change to mirror: the subscriber (by id), the address it had, and whether it was erased. */
export interface ContactChange {
  organizationId: string;
  subscriberId: string;
  email: string;
  deleted: boolean;
}

/** One outbox row with what the mirror needs; `subscriber` is null when the subscriber is gone. */
export interface PendingContact {
  subscriberId: string;
  email: string;
  deleted: boolean;
  /** The change's version: the row leaves only while it still has it (a newer change keeps it). */
  version: string;
  subscriber: { status: string; firstName: string | null; lastName: string | null; topicIds: string[] } | null;
}

export function createContactSyncRepository(db: Kysely<DB>) {
  return {
    /** The organization that mirrors to Resend (at most one: a unique index says so), or null. */
    async syncingOrganization(executor: Executor = db): Promise<string | null> {
      const row = await executor.selectFrom('organizations').select('id').where('resend_contact_sync', '=', true).executeTakeFirst();
      return row?.id ?? null;
    },

    async setSync(trx: Transaction<DB>, organizationId: string, on: boolean): Promise<void> {
      await trx.updateTable('organizations').set({ resend_contact_sync: on, updated_at: new Date() }).where('id', '=', organizationId).execute();
      if (!on) await trx.deleteFrom('resend_contact_outbox').where('organization_id', '=', organizationId).execute();
    },

    /**
     * Puts changes in the outbox, in one statement, for organizations that mirror (others are dropped
     * here); a subscriber already waiting keeps one row with the newest change. Returns the rows written.
     */
    async enqueue(trx: Transaction<DB>, changes: readonly ContactChange[]): Promise<number> {
      if (changes.length === 0) return 0;
      const result = await sql`
        insert into resend_contact_outbox (organization_id, subscriber_id, email, deleted)
        select distinct on (c.organization_id, c.subscriber_id) c.organization_id, c.subscriber_id, c.email, c.deleted
        from unnest(${changes.map((c) => c.organizationId)}::uuid[], ${changes.map((c) => c.subscriberId)}::uuid[],
                    ${changes.map((c) => c.email)}::text[], ${changes.map((c) => c.deleted)}::bool[], ${changes.map((_, i) => i)}::int[])
             as c(organization_id, subscriber_id, email, deleted, position)
        join organizations o on o.id = c.organization_id and o.resend_contact_sync
        order by c.organization_id, c.subscriber_id, c.position desc
        on conflict (organization_id, subscriber_id)
        do update set email = excluded.email, deleted = excluded.deleted, changed_at = clock_timestamp(), version = nextval('resend_contact_outbox_version_seq'), attempts = 0, last_error = null`.execute(
        trx,
      );
      return Number(result.numAffectedRows ?? 0n);
    },

    /** Every subscriber of the organization into the outbox (sync turned on, an import finished): one statement. */
    async enqueueAll(trx: Transaction<DB>, organizationId: string): Promise<number> {
      const result = await sql`
        insert into resend_contact_outbox (organization_id, subscriber_id, email)
        select s.organization_id, s.id, s.email from subscribers s
        join organizations o on o.id = s.organization_id and o.resend_contact_sync
        where s.organization_id = ${organizationId}
        on conflict (organization_id, subscriber_id)
        do update set email = excluded.email, deleted = false, changed_at = clock_timestamp(), version = nextval('resend_contact_outbox_version_seq'), attempts = 0, last_error = null`.execute(
        trx,
      );
      return Number(result.numAffectedRows ?? 0n);
    },

    /** Public topics (tags) of the organization that have no Resend topic yet. */
    async publicTagsWithoutTopic(organizationId: string, limit: number) {
      return db
        .selectFrom('tags')
        .leftJoin('resend_topics', 'resend_topics.tag_id', 'tags.id')
        .select(['tags.id', 'tags.name', 'tags.description'])
        .where('tags.organization_id', '=', organizationId)
        .where('tags.is_public', '=', true)
        .where('resend_topics.tag_id', 'is', null)
        .orderBy('tags.id')
        .limit(limit)
        .execute();
    },

    async saveTopic(organizationId: string, tagId: string, topicId: string): Promise<void> {
      await db
        .insertInto('resend_topics')
        .values({ tag_id: tagId, organization_id: organizationId, topic_id: topicId })
        .onConflict((c) => c.column('tag_id').doNothing())
        .execute();
    },

    /** The Resend topic ids of the organization's mirrored public topics. */
    async topicIds(organizationId: string): Promise<string[]> {
      const rows = await db
        .selectFrom('resend_topics')
        .innerJoin('tags', 'tags.id', 'resend_topics.tag_id')
        .select('resend_topics.topic_id')
        .where('resend_topics.organization_id', '=', organizationId)
        .where('tags.is_public', '=', true)
        .orderBy('resend_topics.topic_id')
        .execute();
      return rows.map((r) => r.topic_id);
    },

    /**
     * The oldest waiting changes with each subscriber's state now: status, names and the mirrored topics
     * they are subscribed to. One statement for the batch.
     */
    async nextBatch(organizationId: string, limit: number, maxAttempts: number): Promise<PendingContact[]> {
      const result = await sql<{
        subscriber_id: string;
        email: string;
        deleted: boolean;
        version: string;
        status: string | null;
        first_name: string | null;
        last_name: string | null;
        topic_ids: string[] | null;
      }>`
        select o.subscriber_id, o.email, o.deleted, o.version::text as version, s.status, s.first_name, s.last_name,
               (select array_agg(rt.topic_id order by rt.topic_id)
                from subscriber_tags st
                join tags t on t.id = st.tag_id and t.is_public
                join resend_topics rt on rt.tag_id = st.tag_id
                where st.subscriber_id = s.id and st.organization_id = o.organization_id and st.status = 'subscribed') as topic_ids
        from resend_contact_outbox o
        left join subscribers s on s.id = o.subscriber_id and s.organization_id = o.organization_id
        where o.organization_id = ${organizationId} and o.attempts < ${maxAttempts}
        order by o.changed_at, o.subscriber_id
        limit ${limit}`.execute(db);
      return result.rows.map((r) => ({
        subscriberId: r.subscriber_id,
        email: r.email,
        deleted: r.deleted,
        version: r.version,
        subscriber: r.deleted || r.status === null ? null : { status: r.status, firstName: r.first_name, lastName: r.last_name, topicIds: r.topic_ids ?? [] },
      }));
    },

    /** Done: the row leaves unless a newer change arrived while it was being sent. */
    async done(organizationId: string, subscriberId: string, version: string): Promise<void> {
      await db
        .deleteFrom('resend_contact_outbox')
        .where('organization_id', '=', organizationId)
        .where('subscriber_id', '=', subscriberId)
        .where('version', '=', version)
        .execute();
    },

    async failed(organizationId: string, subscriberId: string, error: string): Promise<void> {
      await db
        .updateTable('resend_contact_outbox')
        .set((eb) => ({ attempts: eb('attempts', '+', 1), last_error: error.slice(0, 500) }))
        .where('organization_id', '=', organizationId)
        .where('subscriber_id', '=', subscriberId)
        .execute();
    },

    /** Whether changes remain that are still tried (fewer than `maxAttempts` failures). */
    async pendingRetryable(organizationId: string, maxAttempts: number): Promise<number> {
      const row = await db
        .selectFrom('resend_contact_outbox')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('organization_id', '=', organizationId)
        .where('attempts', '<', maxAttempts)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    /** The subscriber with this address in the organization, locked for the change. */
    async lockByEmail(trx: Transaction<DB>, organizationId: string, email: string) {
      return trx
        .selectFrom('subscribers')
        .select(['id', 'email', 'status'])
        .where('organization_id', '=', organizationId)
        .where(sql<boolean>`lower(email) = lower(${email})`)
        .forUpdate()
        .executeTakeFirst();
    },

    async markUnsubscribed(trx: Transaction<DB>, subscriber: { id: string; status: string }, organizationId: string, details: Record<string, unknown>) {
      const now = new Date();
      await trx.updateTable('subscribers').set({ status: 'unsubscribed', unsubscribed_at: now, updated_at: now }).where('id', '=', subscriber.id).execute();
      await trx
        .insertInto('subscription_history')
        .values({
          id: newId(),
          organization_id: organizationId,
          subscriber_id: subscriber.id,
          action: 'unsubscribed',
          source: 'resend',
          ip: null,
          user_agent: null,
          details: JSON.stringify({ from: subscriber.status, ...details }),
        })
        .execute();
    },
  };
}

export type ContactSyncRepository = ReturnType<typeof createContactSyncRepository>;
