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

    /** Turning off drops what waits and forgets contacts deleted at Resend: turned on again, everyone is mirrored. */
    async setSync(trx: Transaction<DB>, organizationId: string, on: boolean): Promise<void> {
      await trx.updateTable('organizations').set({ resend_contact_sync: on, updated_at: new Date() }).where('id', '=', organizationId).execute();
      if (!on) {
        await trx.deleteFrom('resend_contact_outbox').where('organization_id', '=', organizationId).execute();
        await trx.deleteFrom('resend_contact_detached').where('organization_id', '=', organizationId).execute();
      }
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
        where not exists (select 1 from resend_contact_detached d where d.subscriber_id = c.subscriber_id)
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
          and not exists (select 1 from resend_contact_detached d where d.subscriber_id = s.id)
        on conflict (organization_id, subscriber_id)
        do update set email = excluded.email, deleted = false, changed_at = clock_timestamp(), version = nextval('resend_contact_outbox_version_seq'), attempts = 0, last_error = null`.execute(
        trx,
      );
      return Number(result.numAffectedRows ?? 0n);
    },

    /** Everyone subscribed to the tag into the outbox (its topic was just created at Resend): one statement. */
    async enqueueTagSubscribers(organizationId: string, tagId: string): Promise<number> {
      const result = await sql`
        insert into resend_contact_outbox (organization_id, subscriber_id, email)
        select s.organization_id, s.id, s.email from subscriber_tags st
        join subscribers s on s.id = st.subscriber_id and s.organization_id = st.organization_id
        where st.organization_id = ${organizationId} and st.tag_id = ${tagId} and st.status = 'subscribed'
          and not exists (select 1 from resend_contact_detached d where d.subscriber_id = s.id)
        on conflict (organization_id, subscriber_id)
        do update set email = excluded.email, changed_at = clock_timestamp(), version = nextval('resend_contact_outbox_version_seq'), attempts = 0, last_error = null`.execute(
        db,
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

    async saveTopic(organizationId: string, tag: { id: string; name: string; description: string | null }, topicId: string): Promise<void> {
      await db
        .insertInto('resend_topics')
        .values({ tag_id: tag.id, organization_id: organizationId, topic_id: topicId, name: tag.name, description: tag.description })
        .onConflict((c) => c.column('tag_id').doNothing())
        .execute();
    },

    /**
     * Mirrored topics whose tag changed since it was sent: renamed (or described anew) while public, or
     * deleted or made private (`removed`: the topic is to go at Resend). One statement.
     */
    async changedTopics(organizationId: string, limit: number) {
      const result = await sql<{ tag_id: string; topic_id: string; name: string | null; description: string | null; removed: boolean }>`
        select rt.tag_id, rt.topic_id, t.name, t.description, (t.id is null or not t.is_public) as removed
        from resend_topics rt
        left join tags t on t.id = rt.tag_id and t.organization_id = rt.organization_id
        where rt.organization_id = ${organizationId}
          and (t.id is null or not t.is_public or rt.name is distinct from t.name or rt.description is distinct from t.description)
        order by rt.tag_id
        limit ${limit}`.execute(db);
      return result.rows;
    },

    /** The topic at Resend now has this name and description (only if the row still has the topic). */
    async topicRenamed(organizationId: string, tagId: string, topicId: string, sent: { name: string; description: string | null }): Promise<void> {
      await db
        .updateTable('resend_topics')
        .set({ name: sent.name, description: sent.description })
        .where('organization_id', '=', organizationId)
        .where('tag_id', '=', tagId)
        .where('topic_id', '=', topicId)
        .execute();
    },

    /** The topic is gone at Resend: its row leaves (a tag made public again gets a new topic). */
    async topicRemoved(organizationId: string, tagId: string, topicId: string): Promise<void> {
      await db.deleteFrom('resend_topics').where('organization_id', '=', organizationId).where('tag_id', '=', tagId).where('topic_id', '=', topicId).execute();
    },

    /** The organization's public tags behind these Resend topic ids. */
    async tagsOfTopics(trx: Transaction<DB>, organizationId: string, topicIds: readonly string[]) {
      if (topicIds.length === 0) return [];
      return trx
        .selectFrom('resend_topics')
        .innerJoin('tags', (join) => join.onRef('tags.id', '=', 'resend_topics.tag_id').onRef('tags.organization_id', '=', 'resend_topics.organization_id'))
        .select(['resend_topics.topic_id', 'tags.id', 'tags.name', 'tags.slug'])
        .where('resend_topics.organization_id', '=', organizationId)
        .where('tags.is_public', '=', true)
        .where('resend_topics.topic_id', 'in', [...topicIds])
        .execute();
    },

    /** The subscriber's state for these tags (a tag never chosen has no row). */
    async tagStates(trx: Transaction<DB>, organizationId: string, subscriberId: string, tagIds: readonly string[]) {
      if (tagIds.length === 0) return [];
      return trx
        .selectFrom('subscriber_tags')
        .select(['tag_id', 'status', 'updated_at'])
        .where('organization_id', '=', organizationId)
        .where('subscriber_id', '=', subscriberId)
        .where('tag_id', 'in', [...tagIds])
        .forUpdate()
        .execute();
    },

    /** Sets the subscriber's choice for these tags (one statement), with a consent-history row for each. */
    async setTagChoices(
      trx: Transaction<DB>,
      organizationId: string,
      subscriberId: string,
      choices: readonly { tagId: string; subscribed: boolean }[],
      details: Record<string, unknown>,
    ): Promise<void> {
      if (choices.length === 0) return;
      await sql`
        insert into subscriber_tags (subscriber_id, tag_id, organization_id, status, source, subscribed_at, unsubscribed_at)
        select ${subscriberId}, c.tag_id, ${organizationId}, case when c.subscribed then 'subscribed' else 'unsubscribed' end, 'resend',
               case when c.subscribed then now() end, case when c.subscribed then null else now() end
        from unnest(${choices.map((c) => c.tagId)}::uuid[], ${choices.map((c) => c.subscribed)}::bool[]) as c(tag_id, subscribed)
        on conflict (subscriber_id, tag_id) do update
          set status = excluded.status, source = 'resend', subscribed_at = coalesce(excluded.subscribed_at, subscriber_tags.subscribed_at),
              unsubscribed_at = excluded.unsubscribed_at, updated_at = now()`.execute(trx);
      await trx
        .insertInto('subscription_history')
        .values(
          choices.map((c) => ({
            id: newId(),
            organization_id: organizationId,
            subscriber_id: subscriberId,
            tag_id: c.tagId,
            action: c.subscribed ? 'tag_subscribed' : 'tag_unsubscribed',
            source: 'resend',
            ip: null,
            user_agent: null,
            details: JSON.stringify({ ...details, reason: c.subscribed ? 'resend_topic_opt_in' : 'resend_topic_opt_out' }),
          })),
        )
        .execute();
    },

    /** Whether a change of ours to this subscriber still waits to be sent to Resend. */
    async hasPendingChange(trx: Transaction<DB>, organizationId: string, subscriberId: string): Promise<boolean> {
      const row = await trx
        .selectFrom('resend_contact_outbox')
        .select('subscriber_id')
        .where('organization_id', '=', organizationId)
        .where('subscriber_id', '=', subscriberId)
        .executeTakeFirst();
      return row !== undefined;
    },

    /**
     * The contact was deleted at Resend: the subscriber is not mirrored again (what waited for it is
     * dropped), and the consent history says so. Returns false when it was already detached.
     */
    async detach(trx: Transaction<DB>, organizationId: string, subscriberId: string, eventId: string): Promise<boolean> {
      const inserted = await trx
        .insertInto('resend_contact_detached')
        .values({ subscriber_id: subscriberId, organization_id: organizationId, provider_event_id: eventId })
        .onConflict((c) => c.column('subscriber_id').doNothing())
        .returning('subscriber_id')
        .executeTakeFirst();
      if (!inserted) return false;
      await trx.deleteFrom('resend_contact_outbox').where('organization_id', '=', organizationId).where('subscriber_id', '=', subscriberId).execute();
      await trx
        .insertInto('subscription_history')
        .values({
          id: newId(),
          organization_id: organizationId,
          subscriber_id: subscriberId,
          action: 'provider_contact_deleted',
          source: 'resend',
          ip: null,
          user_agent: null,
          details: JSON.stringify({ reason: 'resend_contact_deleted', provider_event_id: eventId }),
        })
        .execute();
      return true;
    },

    /** Records the start of a full sync (turned on, or asked for from the dashboard). */
    async fullSyncRequested(executor: Executor, organizationId: string): Promise<void> {
      await executor
        .insertInto('resend_contact_sync_state')
        .values({ organization_id: organizationId, full_sync_requested_at: new Date(), full_sync_finished_at: null })
        .onConflict((c) => c.column('organization_id').doUpdateSet({ full_sync_requested_at: new Date(), full_sync_finished_at: null }))
        .execute();
    },

    /**
     * The end of a round: when it was, what went wrong (a code, or null: the round went through), and
     * whether the outbox is empty, which finishes a full sync that was running.
     */
    async roundDone(organizationId: string, outcome: { errorCode: string | null; drained: boolean }): Promise<void> {
      const now = new Date();
      await db
        .insertInto('resend_contact_sync_state')
        .values({
          organization_id: organizationId,
          last_round_at: now,
          last_error_code: outcome.errorCode,
          last_error_at: outcome.errorCode ? now : null,
        })
        .onConflict((c) =>
          c.column('organization_id').doUpdateSet((eb) => ({
            last_round_at: now,
            // A round that went through clears the error: what is shown is what still stands in the way.
            last_error_code: outcome.errorCode,
            last_error_at: outcome.errorCode ? now : null,
            full_sync_finished_at: outcome.drained
              ? sql<Date>`case when ${eb.ref('resend_contact_sync_state.full_sync_requested_at')} is not null then coalesce(${eb.ref('resend_contact_sync_state.full_sync_finished_at')}, ${now}) end`
              : eb.ref('resend_contact_sync_state.full_sync_finished_at'),
          })),
        )
        .execute();
    },

    /** What the dashboard shows: the state row and the outbox counts, in one statement. */
    async status(organizationId: string, maxAttempts: number) {
      const result = await sql<{
        pending: string;
        failed: string;
        detached: string;
        last_contact_error: string | null;
        last_contact_error_at: Date | null;
        full_sync_requested_at: Date | null;
        full_sync_finished_at: Date | null;
        last_round_at: Date | null;
        last_error_code: string | null;
        last_error_at: Date | null;
      }>`
        select
          (select count(*) from resend_contact_outbox o where o.organization_id = ${organizationId} and o.attempts < ${maxAttempts}) as pending,
          (select count(*) from resend_contact_outbox o where o.organization_id = ${organizationId} and o.attempts >= ${maxAttempts}) as failed,
          (select count(*) from resend_contact_detached d where d.organization_id = ${organizationId}) as detached,
          f.last_error as last_contact_error, f.changed_at as last_contact_error_at,
          st.full_sync_requested_at, st.full_sync_finished_at, st.last_round_at, st.last_error_code, st.last_error_at
        from (select 1) one
        left join resend_contact_sync_state st on st.organization_id = ${organizationId}
        left join lateral (
          select o.last_error, o.changed_at from resend_contact_outbox o
          where o.organization_id = ${organizationId} and o.last_error is not null
          order by o.attempts desc, o.changed_at desc limit 1
        ) f on true`.execute(db);
      return result.rows[0]!;
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
          and not exists (select 1 from resend_contact_detached d where d.subscriber_id = o.subscriber_id)
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
        .select(['id', 'email', 'status', 'confirmed_at'])
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
