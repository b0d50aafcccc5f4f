import { sql, type Kysely, type RawBuilder, type SqlBool } from 'kysely';
import type { Executor } from '../../db/client.ts';
import type { DB } from '../../db/types.ts';
import type { SendingWindow } from '../../lib/sending-window.ts';
import { withFilterTimeout } from '../segments/index.ts';

export const CAMPAIGN_STATUSES = ['draft', 'scheduled', 'sending', 'paused', 'sent', 'cancelled', 'failed'] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];
// held: an A/B test's recipient outside the test share, waiting for the winner.
export const RECIPIENT_STATUSES = ['queued', 'sending', 'sent', 'failed', 'skipped', 'cancelled', 'held'] as const;
export type RecipientStatus = (typeof RECIPIENT_STATUSES)[number];

export interface TagFilter {
  include_tags: string[];
  exclude_tags?: string[];
  match?: 'any' | 'all';
}

export interface AbVariant {
  subject?: string;
  from_name?: string;
  template_id?: string;
  preheader?: string;
}

export interface AbTest {
  variants: AbVariant[];
  test_share: number;
  metric: 'human_unique_clicks' | 'human_unique_opens';
  wait_hours: number;
  winner: 'auto' | 'manual';
}

export type AbState = 'testing' | 'waiting' | 'decided';

export interface CampaignRow {
  id: string;
  name: string;
  status: CampaignStatus;
  template_id: string | null;
  segment_id: string | null;
  tag_filter: TagFilter | null;
  subject: string | null;
  preheader: string | null;
  from_name: string | null;
  reply_to: string | null;
  tracking: boolean;
  ab_test: AbTest | null;
  ab_state: AbState | null;
  ab_decide_at: Date | null;
  ab_winner: number | null;
  ab_winner_at: Date | null;
  ab_winner_how: 'auto' | 'manual' | null;
  scheduled_at: Date | null;
  started_at: Date | null;
  completed_at: Date | null;
  cancelled_at: Date | null;
  /** While sending waits for the organization's sending window: when it goes on. */
  resumes_at: Date | null;
  round: number;
  targeted_count: number;
  last_error: string | null;
  created_at: Date;
  updated_at: Date;
}

export type CampaignFields = Pick<CampaignRow, 'name' | 'template_id' | 'segment_id' | 'tag_filter' | 'subject' | 'preheader' | 'from_name' | 'reply_to'> &
  Partial<Pick<CampaignRow, 'tracking' | 'ab_test'>>;

export interface RecipientRow {
  subscriber_id: string;
  email: string | null;
  status: RecipientStatus;
  reason: string | null;
  email_message_id: string | null;
  message_status: string | null;
  updated_at: Date;
}

/** A claimed recipient with what its email needs, or the reason it is skipped now. */
export interface ClaimedRecipient {
  id: string;
  email: string | null;
  status: string | null;
  first_name: string | null;
  last_name: string | null;
  metadata: unknown;
  locale: string | null;
  suppressed: boolean;
  /** The A/B test variant (null: the campaign's own content, or the winner's for the rest of a test). */
  variant: number | null;
}

/** One A/B variant's numbers, from its recipients' ledger rows, messages and first opens and clicks. */
export interface VariantCounts {
  variant: number;
  recipients: number;
  sent: number;
  delivered: number;
  human_unique_opens: number;
  machine_unique_opens: number;
  human_unique_clicks: number;
  machine_unique_clicks: number;
}

const columns = [
  'id',
  'name',
  'status',
  'template_id',
  'segment_id',
  'tag_filter',
  'subject',
  'preheader',
  'from_name',
  'reply_to',
  'tracking',
  'ab_test',
  'ab_state',
  'ab_decide_at',
  'ab_winner',
  'ab_winner_at',
  'ab_winner_how',
  'scheduled_at',
  'started_at',
  'completed_at',
  'cancelled_at',
  'resumes_at',
  'round',
  'targeted_count',
  'last_error',
  'created_at',
  'updated_at',
] as const;

const notSuppressed = sql<SqlBool>`not exists (select 1 from suppressions x where x.organization_id = s.organization_id and lower(x.email) = lower(s.email))`;

/**
 * The recipient count of an audience and its exclusions by reason, in ONE statement. The big part reads
 * only subscribers' status and id (the (organization_id, status, id) index serves it without the table
 * where the visibility map allows) joined with the filter's tag rows; the few suppressed addresses are
 * counted from the suppression list's side (one unique-index probe each) and taken off, instead of
 * joining every subscriber's email. The left-the-topic branch starts from the topic's unsubscribed rows.
 * The predicate stays in WHERE clauses, so its EXISTS become semi and anti joins.
 */
export function audienceCountQuery(organizationId: string, predicate: RawBuilder<SqlBool>, topicTagIds: readonly string[]) {
  const leftTopic =
    topicTagIds.length === 0
      ? sql``
      : sql`
        union all
        select s.status, false as hit from subscribers s
        where s.organization_id = ${organizationId} and s.status = 'active' and not (${predicate})
          and s.id in (select st.subscriber_id from subscriber_tags st
                       where st.organization_id = ${organizationId} and st.status = 'unsubscribed' and st.tag_id = any(${topicTagIds}::uuid[]))`;
  return sql<Record<'count' | 'pending' | 'unsubscribed' | 'bounced' | 'complained' | 'suppressed' | 'unsubscribed_from_topic', string>>`
    with suppressed as (
      select count(*) as n from suppressions x
      join subscribers s on s.organization_id = x.organization_id and lower(s.email) = lower(x.email)
      where x.organization_id = ${organizationId} and s.status = 'active' and ${predicate}
    )
    select count(*) filter (where m.hit and m.status = 'active') - (select n from suppressed) as count,
           count(*) filter (where m.hit and m.status = 'pending') as pending,
           count(*) filter (where m.hit and m.status = 'unsubscribed') as unsubscribed,
           count(*) filter (where m.hit and m.status = 'bounced') as bounced,
           count(*) filter (where m.hit and m.status = 'complained') as complained,
           (select n from suppressed) as suppressed,
           count(*) filter (where not m.hit) as unsubscribed_from_topic
    from (
      select s.status, true as hit from subscribers s where s.organization_id = ${organizationId} and ${predicate}
      ${leftTopic}
    ) m`;
}

/**
 * The recipient count of a one-topic audience (a tag filter with one tag and no exclusions) from the
 * counters (segments/README.md, "Counters"), in ONE statement, so one snapshot: the topic's rows by
 * subscriber status and subscription status, minus the suppressed addresses among the active ones
 * (counted from the suppression list's side, as in audienceCountQuery). Same numbers as
 * audienceCountQuery for that audience: who left the topic is an active subscriber with an
 * unsubscribed row for it, and a subscriber holds one row per topic.
 */
export function topicAudienceCountQuery(organizationId: string, predicate: RawBuilder<SqlBool>, tagId: string) {
  const sum = (subscriberStatus: string, tagStatus: string) =>
    sql`coalesce((select sum(n) from t where subscriber_status = ${subscriberStatus} and tag_status = ${tagStatus}), 0)`;
  return sql<Record<'count' | 'pending' | 'unsubscribed' | 'bounced' | 'complained' | 'suppressed' | 'unsubscribed_from_topic', string>>`
    with t as (
      select subscriber_status, tag_status, n from subscriber_tag_counts where organization_id = ${organizationId} and tag_id = ${tagId}
    ),
    suppressed as (
      select count(*) as n from suppressions x
      join subscribers s on s.organization_id = x.organization_id and lower(s.email) = lower(x.email)
      where x.organization_id = ${organizationId} and s.status = 'active' and ${predicate}
    )
    select ${sum('active', 'subscribed')} - (select n from suppressed) as count,
           ${sum('pending', 'subscribed')} as pending,
           ${sum('unsubscribed', 'subscribed')} as unsubscribed,
           ${sum('bounced', 'subscribed')} as bounced,
           ${sum('complained', 'subscribed')} as complained,
           (select n from suppressed) as suppressed,
           ${sum('active', 'unsubscribed')} as unsubscribed_from_topic`;
}

/**
 * A recipient's state from its ledger row "r" and its message "m": once a message exists, the message
 * decides. The provider's id means it was accepted, whatever happened to the row after (a cancel that
 * raced a send in flight counts the email as sent, because it was). The database function is the one
 * the counters' triggers use, so a fresh count and the counters agree by construction.
 */
export const recipientState = sql`campaign_recipient_state(r.status, r.email_message_id, m.id, m.status, m.provider_message_id, m.error_code)`;

/** Every query is filtered by the organization, or (worker side) by a campaign id read from such a row. */
export function createCampaignRepository(db: Kysely<DB>) {
  const select = (executor: Executor, organizationId: string) => executor.selectFrom('campaigns').select(columns).where('organization_id', '=', organizationId);

  return {
    async list(organizationId: string, options: { limit: number; beforeId?: string; status?: CampaignStatus }): Promise<CampaignRow[]> {
      let query = select(db, organizationId);
      if (options.beforeId) query = query.where('id', '<', options.beforeId);
      if (options.status) query = query.where('status', '=', options.status);
      return (await query
        .orderBy('id', 'desc')
        .limit(options.limit + 1)
        .execute()) as CampaignRow[];
    },

    async find(organizationId: string, id: string, executor: Executor = db): Promise<CampaignRow | undefined> {
      return (await select(executor, organizationId).where('id', '=', id).executeTakeFirst()) as CampaignRow | undefined;
    },

    /** A campaign by id alone, for the worker (its jobs carry only the id). */
    async findForWorker(id: string): Promise<(CampaignRow & { organization_id: string; content_id: string | null }) | undefined> {
      return (await db
        .selectFrom('campaigns')
        .select([...columns, 'organization_id', 'content_id'])
        .where('id', '=', id)
        .executeTakeFirst()) as (CampaignRow & { organization_id: string; content_id: string | null }) | undefined;
    },

    /** Records what the campaign's emails are rendered from, unless another pump did first; whether this one won. */
    async setContent(trx: Executor, id: string, contentId: string): Promise<boolean> {
      const result = await trx.updateTable('campaigns').set({ content_id: contentId }).where('id', '=', id).where('content_id', 'is', null).executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    async insert(organizationId: string, id: string, fields: CampaignFields): Promise<CampaignRow> {
      return (await db
        .insertInto('campaigns')
        .values({
          ...fields,
          id,
          organization_id: organizationId,
          tag_filter: fields.tag_filter ? JSON.stringify(fields.tag_filter) : null,
          ab_test: fields.ab_test ? JSON.stringify(fields.ab_test) : null,
        })
        .returning(columns)
        .executeTakeFirstOrThrow()) as CampaignRow;
    },

    /** Changes a campaign only while it is in one of `statuses`; undefined when it is not (or not found). */
    async update(
      organizationId: string,
      id: string,
      statuses: readonly CampaignStatus[],
      changes: Partial<CampaignFields> & { status?: CampaignStatus; scheduled_at?: Date | null; round?: number; heartbeat_at?: Date },
    ): Promise<CampaignRow | undefined> {
      const { tag_filter, ab_test, ...rest } = changes;
      return (await db
        .updateTable('campaigns')
        .set({
          ...rest,
          ...(tag_filter !== undefined ? { tag_filter: tag_filter ? JSON.stringify(tag_filter) : null } : {}),
          ...(ab_test !== undefined ? { ab_test: ab_test ? JSON.stringify(ab_test) : null } : {}),
          updated_at: new Date(),
        })
        .where('organization_id', '=', organizationId)
        .where('id', '=', id)
        .where('status', 'in', statuses)
        .returning(columns)
        .executeTakeFirst()) as CampaignRow | undefined;
    },

    async remove(organizationId: string, id: string, statuses: readonly CampaignStatus[]): Promise<boolean> {
      const result = await db
        .deleteFrom('campaigns')
        .where('organization_id', '=', organizationId)
        .where('id', '=', id)
        .where('status', 'in', statuses)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },

    /**
     * The audience as it would be frozen now, and who the filter matches but would not get it, by
     * reason: one statement under the filter's statement timeout. `counterTag` (a one-topic audience)
     * reads the counters (topicAudienceCountQuery), otherwise the tables are counted (audienceCountQuery).
     */
    async audienceCount(organizationId: string, predicate: RawBuilder<SqlBool>, topicTagIds: readonly string[], options: { counterTag?: string } = {}) {
      return withFilterTimeout(db, async (trx) => {
        // A count is one short statement: compiling it (JIT) costs more than it saves, and its hashes of
        // a million ids should stay in memory rather than spill to temporary files.
        await sql`select set_config('jit', 'off', true), set_config('work_mem', '64MB', true)`.execute(trx);
        const query = options.counterTag
          ? topicAudienceCountQuery(organizationId, predicate, options.counterTag)
          : audienceCountQuery(organizationId, predicate, topicTagIds);
        const counts = (await query.execute(trx)).rows[0]!;
        return {
          count: Number(counts.count),
          excluded: {
            unsubscribed_from_topic: Number(counts.unsubscribed_from_topic),
            unsubscribed: Number(counts.unsubscribed),
            bounced: Number(counts.bounced),
            complained: Number(counts.complained),
            suppressed: Number(counts.suppressed),
            pending_confirmation: Number(counts.pending),
          },
        };
      });
    },

    /**
     * Freezes the audience: one insert-select of the active, unsuppressed subscribers the predicate
     * matches into the ledger, inside the caller's transaction. Returns how many were frozen.
     */
    async snapshot(trx: Executor, organizationId: string, campaignId: string, predicate: RawBuilder<SqlBool>): Promise<number> {
      const result = await sql`
        insert into campaign_recipients (campaign_id, subscriber_id, organization_id)
        select ${campaignId}::uuid, s.id, s.organization_id from subscribers s
        where s.organization_id = ${organizationId} and s.status = 'active' and ${notSuppressed} and ${predicate}
        -- In key order, the ledger's indexes (keyed by subscriber id) are appended to instead of split at
        -- random pages: at 1M recipients with random ids, 41 s instead of 129 s (same table, same load).
        order by s.id
        on conflict do nothing`.execute(trx);
      return Number(result.numAffectedRows ?? 0);
    },

    /**
     * Freezes the audience of an A/B test, split in the same single insert-select: recipients are ordered
     * by a hash of campaign and subscriber id (stable: the same audience always splits the same way); the
     * first round(targeted × share / 100) are the test, variant = position mod the number of variants (so
     * the variants' sizes differ by at most one), queued; the rest is held until the winner is chosen.
     */
    async snapshotSplit(
      trx: Executor,
      organizationId: string,
      campaignId: string,
      predicate: RawBuilder<SqlBool>,
      split: { share: number; variants: number },
    ): Promise<{ targeted: number; tested: number }> {
      const result = await sql<{ targeted: string; tested: string }>`
        with a as (
          select s.id, s.organization_id,
                 row_number() over (order by md5(${campaignId}::text || s.id::text), s.id) - 1 as position,
                 round(count(*) over () * ${split.share}::numeric / 100) as tested
          from subscribers s
          where s.organization_id = ${organizationId} and s.status = 'active' and ${notSuppressed} and ${predicate}
        ),
        inserted as (
          insert into campaign_recipients (campaign_id, subscriber_id, organization_id, status, variant)
          select ${campaignId}::uuid, a.id, a.organization_id,
                 case when a.position < a.tested then 'queued' else 'held' end,
                 case when a.position < a.tested then (a.position % ${split.variants})::smallint end
          from a
          on conflict do nothing
          returning variant
        )
        select count(*) as targeted, count(variant) as tested from inserted`.execute(trx);
      const row = result.rows[0]!;
      return { targeted: Number(row.targeted), tested: Number(row.tested) };
    },

    /** The held rest of an A/B test goes to the queue (one statement); how many. */
    async releaseHeld(trx: Executor, campaignId: string): Promise<number> {
      const result = await sql`
        update campaign_recipients set status = 'queued', updated_at = now() where campaign_id = ${campaignId} and status = 'held'`.execute(trx);
      return Number(result.numAffectedRows ?? 0);
    },

    async setAbState(
      trx: Executor,
      id: string,
      changes: {
        ab_state: AbState;
        ab_decide_at?: Date | null;
        ab_winner?: number;
        ab_winner_at?: Date;
        ab_winner_how?: 'auto' | 'manual';
        heartbeat_at?: Date | null;
      },
    ): Promise<void> {
      await trx
        .updateTable('campaigns')
        .set({ ...changes, updated_at: new Date() })
        .where('id', '=', id)
        .execute();
    },

    /**
     * Per variant of an A/B test: recipients, sent (accepted by the provider), delivered, and the unique
     * human and machine opens and clicks (each message's first of each, from engagement_firsts). Reads
     * the test share's ledger rows only (their partial index).
     */
    async variantCounts(organizationId: string, campaignId: string): Promise<VariantCounts[]> {
      const first = (kind: 'open' | 'click', machine: boolean) =>
        sql`count(*) filter (where exists (select 1 from engagement_firsts f where f.email_message_id = r.email_message_id
              and f.kind = ${kind} and f.machine = ${machine} and f.url = ''))`;
      const rows = await sql<Record<keyof VariantCounts, string | number>>`
        select r.variant, count(*) as recipients,
               count(*) filter (where m.provider_message_id is not null) as sent,
               count(*) filter (where m.delivered_at is not null) as delivered,
               ${first('open', false)} as human_unique_opens, ${first('open', true)} as machine_unique_opens,
               ${first('click', false)} as human_unique_clicks, ${first('click', true)} as machine_unique_clicks
        from campaign_recipients r left join email_messages m on m.id = r.email_message_id and m.organization_id = r.organization_id
        where r.organization_id = ${organizationId} and r.campaign_id = ${campaignId} and r.variant is not null
        group by r.variant order by r.variant`.execute(db);
      return rows.rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Number(v)])) as unknown as VariantCounts);
    },

    /** The content a variant's emails are rendered from, once stored. */
    async variantContent(campaignId: string, variant: number): Promise<string | undefined> {
      const row = await db
        .selectFrom('campaign_variant_contents')
        .select('content_id')
        .where('campaign_id', '=', campaignId)
        .where('variant', '=', variant)
        .executeTakeFirst();
      return row?.content_id;
    },

    /** Records a variant's content unless another pump did first; whether this one won. */
    async setVariantContent(trx: Executor, organizationId: string, campaignId: string, variant: number, contentId: string): Promise<boolean> {
      const result = await trx
        .insertInto('campaign_variant_contents')
        .values({ campaign_id: campaignId, variant, organization_id: organizationId, content_id: contentId })
        .onConflict((oc) => oc.columns(['campaign_id', 'variant']).doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
    },

    /** A/B tests whose automatic winner is due at `now` (the cron tick's timer). */
    async dueDecisions(now: Date, limit: number): Promise<string[]> {
      const rows = await db
        .selectFrom('campaigns')
        .select('id')
        .where('ab_state', 'in', ['testing', 'waiting'])
        .where('ab_decide_at', '<=', now)
        .where('status', '=', 'sending')
        .where(sql<SqlBool>`ab_test ->> 'winner' = 'auto'`)
        .orderBy('ab_decide_at')
        .limit(limit)
        .execute();
      return rows.map((r) => r.id);
    },

    /** Locks the campaign row for a state change; undefined when it is missing. */
    async lockForWorker(trx: Executor, id: string, mode: 'update' | 'share') {
      const query = trx
        .selectFrom('campaigns')
        .select([...columns, 'organization_id'])
        .where('id', '=', id);
      return (await (mode === 'update' ? query.forUpdate() : query.forShare()).executeTakeFirst()) as (CampaignRow & { organization_id: string }) | undefined;
    },

    async setState(
      trx: Executor,
      id: string,
      changes: {
        status?: CampaignStatus;
        targeted_count?: number;
        started_at?: Date;
        completed_at?: Date | null;
        round?: number;
        last_error?: string | null;
        heartbeat_at?: Date | null;
        cancelled_at?: Date;
      },
    ): Promise<void> {
      await trx
        .updateTable('campaigns')
        .set({ ...changes, updated_at: new Date() })
        .where('id', '=', id)
        .execute();
    },

    async heartbeat(id: string): Promise<void> {
      await db.updateTable('campaigns').set({ heartbeat_at: new Date() }).where('id', '=', id).execute();
    },

    /**
     * Claims the next queued recipients after `afterId` (in subscriber order) inside the caller's
     * transaction, with what their email needs. Rows another transaction holds are skipped, so two
     * pumps never claim the same recipient; the caller marks them sending or skipped before commit.
     */
    async claimNext(trx: Executor, campaignId: string, afterId: string | null, limit: number): Promise<ClaimedRecipient[]> {
      const result = await sql<ClaimedRecipient>`
        with picked as (
          select r.subscriber_id, r.variant from campaign_recipients r
          where r.campaign_id = ${campaignId} and r.status = 'queued' ${afterId ? sql`and r.subscriber_id > ${afterId}::uuid` : sql``}
          order by r.subscriber_id limit ${limit} for update of r skip locked
        )
        select p.subscriber_id as id, p.variant, s.email, s.status, s.first_name, s.last_name, s.metadata, s.locale,
               coalesce(exists (select 1 from suppressions x where x.organization_id = s.organization_id and lower(x.email) = lower(s.email)), false) as suppressed
        from picked p left join subscribers s on s.id = p.subscriber_id
        order by p.subscriber_id`.execute(trx);
      return result.rows;
    },

    /** Records the claim: each recipient's message id (status sending), or skipped with its reason. */
    async markClaimed(
      trx: Executor,
      campaignId: string,
      sent: readonly { subscriberId: string; messageId: string }[],
      skipped: readonly { subscriberId: string; reason: string }[],
    ): Promise<void> {
      if (sent.length > 0) {
        await sql`
          update campaign_recipients r set status = 'sending', email_message_id = v.message_id, updated_at = now()
          from unnest(${sent.map((s) => s.subscriberId)}::uuid[], ${sent.map((s) => s.messageId)}::uuid[]) as v(subscriber_id, message_id)
          where r.campaign_id = ${campaignId} and r.subscriber_id = v.subscriber_id`.execute(trx);
      }
      if (skipped.length > 0) {
        await sql`
          update campaign_recipients r set status = 'skipped', reason = v.reason, updated_at = now()
          from unnest(${skipped.map((s) => s.subscriberId)}::uuid[], ${skipped.map((s) => s.reason)}::text[]) as v(subscriber_id, reason)
          where r.campaign_id = ${campaignId} and r.subscriber_id = v.subscriber_id`.execute(trx);
      }
    },

    /** The campaign's messages still waiting for the provider, counted up to `cap` (the pump's window). */
    async backlog(campaignId: string, cap: number): Promise<number> {
      const row = await sql<{ count: number }>`
        select count(*) as count from (select 1 from email_messages where campaign_id = ${campaignId} and status in ('queued', 'sending') limit ${cap}) b`.execute(
        db,
      );
      return Number(row.rows[0]?.count ?? 0);
    },

    async hasQueued(campaignId: string): Promise<boolean> {
      const row = await sql`select 1 from campaign_recipients where campaign_id = ${campaignId} and status = 'queued' limit 1`.execute(db);
      return row.rows.length > 0;
    },

    /**
     * Copies the outcome of each sent message into the ledger (one statement) once nothing is in flight:
     * accepted → sent, failed → failed, suppressed at send time → skipped; a message that no longer
     * exists (its subscriber was erased) → skipped.
     */
    async settle(trx: Executor, campaignId: string): Promise<void> {
      await sql`
        update campaign_recipients r set updated_at = now(),
          status = case when x.message_id is null then 'skipped' when x.accepted then 'sent' when x.message_status = 'failed' then 'failed' when x.message_status = 'suppressed' then 'skipped' else 'sent' end,
          reason = case when x.message_id is null then 'subscriber_deleted' when x.accepted then null when x.message_status = 'failed' then x.error_code when x.message_status = 'suppressed' then 'suppressed' end
        from (
          select c.subscriber_id, m.id as message_id, m.status as message_status, m.error_code, m.provider_message_id is not null as accepted
          from campaign_recipients c left join email_messages m on m.id = c.email_message_id
          where c.campaign_id = ${campaignId} and c.status = 'sending'
        ) x
        where r.campaign_id = ${campaignId} and r.subscriber_id = x.subscriber_id
          and (x.message_id is null or x.message_status not in ('queued', 'sending'))`.execute(trx);
    },

    /** Recipients by final status once the campaign has settled (for the campaign.completed event). */
    async finalCounts(trx: Executor, campaignId: string): Promise<{ total: number; sent: number; failed: number; skipped: number }> {
      const row = await sql<{ total: number; sent: number; failed: number; skipped: number }>`
        select count(*)::int as total, (count(*) filter (where status = 'sent'))::int as sent,
          (count(*) filter (where status = 'failed'))::int as failed, (count(*) filter (where status = 'skipped'))::int as skipped
        from campaign_recipients where campaign_id = ${campaignId}`.execute(trx);
      return row.rows[0]!;
    },

    /** Whether any recipient is still queued or in flight. */
    async unfinished(trx: Executor, campaignId: string): Promise<boolean> {
      const row = await sql`
        select 1 from campaign_recipients where campaign_id = ${campaignId} and status in ('queued', 'sending') limit 1`.execute(trx);
      return row.rows.length > 0;
    },

    /**
     * Cancels what has not gone out: queued recipients, and messages of the campaign the provider has not
     * taken yet (failed with campaign_cancelled, their usage given back). Inside the caller's transaction.
     */
    async cancelUnsent(trx: Executor, organizationId: string, campaignId: string): Promise<void> {
      await sql`
        with m as (
          update email_messages set status = 'failed', error_code = 'campaign_cancelled', error_message = 'The campaign was cancelled', failed_at = now(), updated_at = now()
          where organization_id = ${organizationId} and campaign_id = ${campaignId} and status = 'queued' and provider_message_id is null
          returning id, created_at
        ),
        refunded as (
          -- Only reservations of the stored usage period are given back (an earlier period's count is gone).
          update organizations o set emails_sent_this_month = greatest(o.emails_sent_this_month - (select count(*) from m where m.created_at >= o.usage_period_start), 0)
          where o.id = ${organizationId}
        )
        update campaign_recipients r set status = 'cancelled', reason = 'campaign_cancelled', updated_at = now()
        where r.campaign_id = ${campaignId} and r.status in ('queued', 'held')`.execute(trx);
    },

    /** Puts failed recipients whose message the provider never accepted back in the queue; how many. */
    async requeueFailed(trx: Executor, campaignId: string): Promise<number> {
      const result = await sql`
        update campaign_recipients r set status = 'queued', reason = null, email_message_id = null, updated_at = now()
        where r.campaign_id = ${campaignId} and r.status = 'failed'
          and not exists (select 1 from email_messages m where m.id = r.email_message_id and m.provider_message_id is not null)`.execute(trx);
      return Number(result.numAffectedRows ?? 0);
    },

    /**
     * Live progress from the counters (the triggers keep them in the transaction of every ledger or
     * message change): every recipient in exactly one state, so the counts add up to the ledger's size.
     * A read sums the campaign's few shard rows; the ledger is not read.
     */
    async progress(organizationId: string, campaignId: string) {
      const row = await sql<Record<RecipientStatus, string | null>>`
        select sum(queued) as queued, sum(sending) as sending, sum(sent) as sent, sum(failed) as failed, sum(skipped) as skipped, sum(cancelled) as cancelled,
               sum(held) as held
        from campaign_counters where organization_id = ${organizationId} and campaign_id = ${campaignId}`.execute(db);
      const sums = row.rows[0];
      return Object.fromEntries(RECIPIENT_STATUSES.map((s) => [s, Number(sums?.[s] ?? 0)])) as Record<RecipientStatus, number>;
    },

    /**
     * What became of the campaign's messages, from the counters (provider events set the message's
     * timestamps, the trigger counts them), and the unsubscribes attributed to it.
     */
    async outcomes(organizationId: string, campaignId: string) {
      const row = await sql<Record<'delivered' | 'bounced' | 'complained' | 'opened' | 'clicked' | 'unsubscribed', string | null>>`
        select sum(delivered) as delivered, sum(bounced) as bounced, sum(complained) as complained, sum(opened) as opened, sum(clicked) as clicked,
               (select count(distinct h.subscriber_id) from subscription_history h
                where h.organization_id = ${organizationId} and h.details ->> 'campaign_id' = ${campaignId}) as unsubscribed
        from campaign_counters where organization_id = ${organizationId} and campaign_id = ${campaignId}`.execute(db);
      const sums = row.rows[0];
      const keys = ['delivered', 'bounced', 'complained', 'opened', 'clicked', 'unsubscribed'] as const;
      return Object.fromEntries(keys.map((k) => [k, Number(sums?.[k] ?? 0)])) as Record<(typeof keys)[number], number>;
    },

    /** Skipped recipients by reason, from the counters. */
    async skippedReasons(organizationId: string, campaignId: string): Promise<Record<string, number>> {
      const rows = await sql<{ reason: string; count: string }>`
        select reason, sum(count) as count from campaign_skip_counters
        where organization_id = ${organizationId} and campaign_id = ${campaignId} group by reason having sum(count) <> 0 order by reason`.execute(db);
      return Object.fromEntries(rows.rows.map((r) => [r.reason, Number(r.count)]));
    },

    /** Fresh counts from the ledger and the messages (what the counters must equal; tests and checks). */
    async countLedger(organizationId: string, campaignId: string) {
      const rows = await sql<{ state: RecipientStatus; count: string }>`
        select ${recipientState} as state, count(*) as count
        from campaign_recipients r left join email_messages m on m.id = r.email_message_id
        where r.organization_id = ${organizationId} and r.campaign_id = ${campaignId}
        group by 1`.execute(db);
      const counts: Record<RecipientStatus, number> = { queued: 0, sending: 0, sent: 0, failed: 0, skipped: 0, cancelled: 0, held: 0 };
      for (const row of rows.rows) counts[row.state] = Number(row.count);
      return counts;
    },

    /** One page of the ledger in subscriber order, with each recipient's address and message. */
    async recipients(organizationId: string, campaignId: string, options: { limit: number; afterId?: string; status?: RecipientStatus }) {
      let query = db
        .selectFrom('campaign_recipients as r')
        .leftJoin('subscribers as s', 's.id', 'r.subscriber_id')
        .leftJoin('email_messages as m', 'm.id', 'r.email_message_id')
        .select(['r.subscriber_id', 's.email', 'r.status', 'r.reason', 'r.email_message_id', 'm.status as message_status', 'r.updated_at'])
        .where('r.organization_id', '=', organizationId)
        .where('r.campaign_id', '=', campaignId);
      if (options.afterId) query = query.where('r.subscriber_id', '>', options.afterId);
      if (options.status) query = query.where('r.status', '=', options.status);
      return (await query
        .orderBy('r.subscriber_id')
        .limit(options.limit + 1)
        .execute()) as RecipientRow[];
    },

    /** The newest active subscriber, whose data a test email is rendered with. */
    async sampleRecipient(organizationId: string) {
      return db
        .selectFrom('subscribers')
        .select(['id', 'email', 'status', 'first_name', 'last_name', 'metadata', 'locale'])
        .where('organization_id', '=', organizationId)
        .where('status', '=', 'active')
        .orderBy('id', 'desc')
        .limit(1)
        .executeTakeFirst();
    },

    /** Scheduled campaigns now due, and sending ones whose pump has not beaten for `staleSeconds`. */
    /** The organization's time zone and sending window (campaigns wait outside it). */
    async sendingWindow(organizationId: string): Promise<{ timezone: string; sending_window: SendingWindow | null }> {
      return (await db.selectFrom('organizations').select(['timezone', 'sending_window']).where('id', '=', organizationId).executeTakeFirstOrThrow()) as {
        timezone: string;
        sending_window: SendingWindow | null;
      };
    },

    /**
     * Holds a sending campaign until the window opens (or clears the hold: `until` null). The pump stops;
     * the cron tick starts a new one once `resumes_at` has passed.
     */
    async hold(id: string, round: number, until: Date | null): Promise<void> {
      await db
        .updateTable('campaigns')
        .set({ resumes_at: until, ...(until ? { heartbeat_at: null } : {}) })
        .where('id', '=', id)
        .where('status', '=', 'sending')
        .where('round', '=', round)
        .execute();
    },

    async dueWork(staleSeconds: number, limit: number) {
      const due = await db
        .selectFrom('campaigns')
        .select('id')
        .where('status', '=', 'scheduled')
        .where('scheduled_at', '<=', new Date())
        .orderBy('scheduled_at')
        .limit(limit)
        .execute();
      const stalled = await db
        .selectFrom('campaigns')
        .select(['id', 'round'])
        .where('status', '=', 'sending')
        .where((eb) => eb.or([eb('heartbeat_at', 'is', null), eb('heartbeat_at', '<', sql<Date>`now() - make_interval(secs => ${staleSeconds})`)]))
        // One held for the sending window is picked up once the window opens.
        .where((eb) => eb.or([eb('resumes_at', 'is', null), eb('resumes_at', '<=', new Date())]))
        // An A/B test whose variants are out waits for its winner with no pump.
        .where((eb) => eb.or([eb('ab_state', 'is', null), eb('ab_state', '<>', 'waiting')]))
        .orderBy('id')
        .limit(limit)
        .execute();
      // Held ones whose window may have opened early (the organization changed its window or zone).
      const held = (await db
        .selectFrom('campaigns as c')
        .innerJoin('organizations as o', 'o.id', 'c.organization_id')
        .select(['c.id', 'c.round', 'o.timezone', 'o.sending_window'])
        .where('c.status', '=', 'sending')
        .where('c.resumes_at', '>', new Date())
        .orderBy('c.id')
        .limit(limit)
        .execute()) as { id: string; round: number; timezone: string; sending_window: SendingWindow | null }[];
      return { due: due.map((r) => r.id), stalled, held };
    },
  };
}

export type CampaignRepository = ReturnType<typeof createCampaignRepository>;
