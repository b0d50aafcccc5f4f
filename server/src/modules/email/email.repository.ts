import { sql, type Kysely } from 'kysely';
import type { Selectable } from 'kysely';
import type { DB, EmailMessages } from '../../db/types.ts';
import { newId } from '../../lib/ids.ts';
import type { Executor, Row } from '../../db/client.ts';
import type { TemplateCategory } from '../templates/index.ts';

export const MESSAGE_STATUSES = ['queued', 'sending', 'sent', 'delivery_delayed', 'delivered', 'bounced', 'complained', 'failed', 'suppressed'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

export interface OrganizationProfile {
  id: string;
  name: string;
  slug: string;
  locale: string;
  postal_address: string | null;
  email_from_name: string | null;
  email_from_address: string | null;
  email_reply_to: string | null;
  tracking_enabled: boolean;
  tracking_privacy: boolean;
}

export interface Recipient {
  id: string;
  email: string;
  status: string;
  first_name: string | null;
  last_name: string | null;
  metadata: unknown;
  /** The subscriber's language (BCP 47, canonical); null: the organization's. */
  locale: string | null;
}

export interface NewMessage {
  id: string;
  template_id: string | null;
  subscriber_id: string | null;
  campaign_id: string | null;
  /** The automation that sent it, when one did. */
  automation_id?: string | null;
  category: TemplateCategory;
  to_address: string;
  from_address: string;
  subject: string;
  html: string;
  text: string;
  headers: Record<string, string>;
  idempotency_key: string | null;
  request_hash: string | null;
  /** The provider idempotency key of the batch the message goes out in (campaign emails). */
  batch_key?: string | null;
}

/** A message stored without its body (a campaign email): rendered when it is sent, from its content. */
export type UnrenderedMessage = Omit<NewMessage, 'html' | 'text'> & {
  html: null;
  text: null;
  /** What the body is rendered from (message_contents). */
  content_id: string | null;
};

/** A message a worker is about to send, with what it needs to decide whether to. */
export interface MessageToSend extends Pick<NewMessage, 'id' | 'category' | 'to_address' | 'from_address' | 'subject' | 'html' | 'text' | 'headers'> {
  organization_id: string;
  /** The recipient is on the suppression list, bounced or complained, or (marketing) no longer active. */
  blocked: boolean;
  /** Queued so long ago that an earlier attempt's idempotency key may be forgotten by the provider. */
  stale: boolean;
}

/** A message of a batch being sent, with the subscriber data its body is rendered with. */
export interface BatchMessage {
  id: string;
  organization_id: string;
  subscriber_id: string | null;
  content_id: string | null;
  batch_key: string | null;
  to_address: string;
  from_address: string;
  subject: string;
  html: string | null;
  text: string | null;
  headers: Record<string, string>;
  created_at: Date;
  /** Taken for an attempt before, and queued so long ago that the provider may have forgotten the batch's key. */
  stale: boolean;
  subscriber_email: string | null;
  subscriber_status: string | null;
  first_name: string | null;
  last_name: string | null;
  metadata: unknown;
  locale: string | null;
}

/** Whether nothing may be sent to a message's recipient now (suppressed, bounced, complained, or marketing to a non-active subscriber). */
const blockedSql = (m: string) =>
  sql.raw(`exists (select 1 from suppressions s where s.organization_id = ${m}.organization_id and lower(s.email) = lower(${m}.to_address))
    or coalesce((select s.status in ('bounced', 'complained') or (${m}.category = 'marketing' and s.status <> 'active')
                 from subscribers s where s.id = ${m}.subscriber_id), false)`);

/** A row of a subscriber's message list: what was sent and what happened to it, without the body. */
const subscriberMessageColumns = [
  'id',
  'status',
  'category',
  'to_address',
  'subject',
  'provider_message_id',
  'error_code',
  'error_message',
  'created_at',
  'sent_at',
  'delivered_at',
  'opened_at',
  'clicked_at',
  'bounced_at',
  'complained_at',
  'failed_at',
] as const;

export type SubscriberMessageRow = Row<'email_messages', (typeof subscriberMessageColumns)[number], { status: MessageStatus; category: TemplateCategory }> & {
  template_id: string | null;
  template_slug: string | null;
  template_name: string | null;
};

const messageColumns = [
  'id',
  'status',
  'category',
  'to_address',
  'from_address',
  'subject',
  'template_id',
  'subscriber_id',
  'campaign_id',
  'provider',
  'provider_message_id',
  'attempts',
  'error_code',
  'error_message',
  'created_at',
  'sent_at',
  'delivered_at',
  'opened_at',
  'clicked_at',
  'bounced_at',
  'complained_at',
  'failed_at',
  'open_count',
  'click_count',
] as const;

// Resend keeps idempotency keys 24 hours; past that, a retry could send a second copy.
const STALE_AFTER = sql`interval '23 hours'`;

// The outbox row for an email event, from a message row named "m" in the statement.
const emailEvent = (type: string) => sql`
  insert into events (id, organization_id, type, subject_id, payload)
  select ${newId()}::uuid, m.organization_id, ${type}, m.id, jsonb_build_object(
    'email_send_id', m.id, 'esp_message_id', m.provider_message_id, 'email', m.to_address,
    'subscriber_id', m.subscriber_id, 'template_id', m.template_id, 'campaign_id', m.campaign_id)
  from m`;

// Gives back the usage reservation of a message that will never be sent, if reserved in the stored usage period.
const refund = sql`
  update organizations o set emails_sent_this_month = greatest(o.emails_sent_this_month - 1, 0)
  from m where o.id = m.organization_id and m.created_at >= o.usage_period_start`;

// The same for many messages "m" at once: each organization's count, only reservations of its stored usage period.
const refundMany = sql`
  update organizations o set emails_sent_this_month = greatest(o.emails_sent_this_month - (select count(*) from m where m.organization_id = o.id and m.created_at >= o.usage_period_start), 0)
  where o.id in (select organization_id from m)`;

export function createEmailRepository(db: Kysely<DB>) {
  return {
    async organizationProfile(organizationId: string): Promise<OrganizationProfile | undefined> {
      return db
        .selectFrom('organizations')
        .select([
          'id',
          'name',
          'slug',
          'locale',
          'postal_address',
          'email_from_name',
          'email_from_address',
          'email_reply_to',
          'tracking_enabled',
          'tracking_privacy',
        ])
        .where('id', '=', organizationId)
        .executeTakeFirst();
    },

    async recipientById(organizationId: string, id: string): Promise<Recipient | undefined> {
      return db
        .selectFrom('subscribers')
        .select(['id', 'email', 'status', 'first_name', 'last_name', 'metadata', 'locale'])
        .where('organization_id', '=', organizationId)
        .where('id', '=', id)
        .executeTakeFirst();
    },

    async recipientByEmail(organizationId: string, email: string): Promise<Recipient | undefined> {
      return db
        .selectFrom('subscribers')
        .select(['id', 'email', 'status', 'first_name', 'last_name', 'metadata', 'locale'])
        .where('organization_id', '=', organizationId)
        .where(sql`lower(email)`, '=', email.toLowerCase())
        .executeTakeFirst();
    },

    /**
     * Whether nothing may be sent to the address in the organization: on the suppression list, or a
     * subscriber who bounced or complained. Transactional sends, system mail and the worker's last check
     * (loadForSend) ask the same question.
     */
    /** The signed-in user's own address: test emails go there and nowhere else. */
    async userEmail(userId: string): Promise<string | undefined> {
      const row = await db.selectFrom('users').select('email').where('id', '=', userId).executeTakeFirst();
      return row?.email;
    },

    async isBlocked(organizationId: string, email: string): Promise<boolean> {
      const result = await sql<{ blocked: boolean }>`
        select exists (select 1 from suppressions where organization_id = ${organizationId} and lower(email) = lower(${email}))
          or exists (select 1 from subscribers where organization_id = ${organizationId} and lower(email) = lower(${email}) and status in ('bounced', 'complained')) as blocked`.execute(
        db,
      );
      return result.rows[0]?.blocked ?? false;
    },

    async findByIdempotencyKey(organizationId: string, key: string) {
      return (await db
        .selectFrom('email_messages')
        .select(['id', 'status', 'request_hash'])
        .where('organization_id', '=', organizationId)
        .where('idempotency_key', '=', key)
        .executeTakeFirst()) as { id: string; status: MessageStatus; request_hash: string | null } | undefined;
    },

    /** Inserts a queued message; undefined when the organization already used the idempotency key. */
    async insertMessage(trx: Executor, organizationId: string, message: NewMessage) {
      return trx
        .insertInto('email_messages')
        .values({ ...message, organization_id: organizationId, headers: JSON.stringify(message.headers), status: 'queued' })
        .onConflict((oc) => oc.columns(['organization_id', 'idempotency_key']).where('idempotency_key', 'is not', null).doNothing())
        .returning(['id'])
        .executeTakeFirst();
    },

    /**
     * Inserts many queued messages in one statement (a campaign batch, inside its transaction): one array
     * parameter per column, unnested by PostgreSQL, so the statement text and its plan are the same for
     * every batch size (a multi-row VALUES list would carry ~16 parameters per message).
     */
    async insertMessages(trx: Executor, organizationId: string, messages: readonly (NewMessage | UnrenderedMessage)[]): Promise<void> {
      if (messages.length === 0) return;
      const column = <T>(pick: (message: NewMessage | UnrenderedMessage) => T): T[] => messages.map(pick);
      await sql`
        insert into email_messages (id, organization_id, status, template_id, subscriber_id, campaign_id, automation_id, category, to_address,
          from_address, subject, html, text, content_id, headers, idempotency_key, request_hash, batch_key)
        select v.id, ${organizationId}::uuid, 'queued', v.template_id, v.subscriber_id, v.campaign_id, v.automation_id, v.category, v.to_address,
          v.from_address, v.subject, v.html, v.text, v.content_id, v.headers::jsonb, v.idempotency_key, v.request_hash, v.batch_key
        from unnest(
          ${column((m) => m.id)}::uuid[], ${column((m) => m.template_id)}::uuid[], ${column((m) => m.subscriber_id)}::uuid[],
          ${column((m) => m.campaign_id)}::uuid[], ${column((m) => m.automation_id ?? null)}::uuid[], ${column((m) => m.category)}::text[],
          ${column((m) => m.to_address)}::text[], ${column((m) => m.from_address)}::text[], ${column((m) => m.subject)}::text[],
          ${column((m) => m.html)}::text[], ${column((m) => m.text)}::text[], ${column((m) => ('content_id' in m ? m.content_id : null))}::uuid[],
          ${column((m) => JSON.stringify(m.headers))}::text[], ${column((m) => m.idempotency_key)}::text[], ${column((m) => m.request_hash)}::text[],
          ${column((m) => m.batch_key ?? null)}::text[]
        ) as v(id, template_id, subscriber_id, campaign_id, automation_id, category, to_address, from_address, subject, html, text, content_id,
               headers, idempotency_key, request_hash, batch_key)`.execute(trx);
    },

    async findMessage(organizationId: string, id: string) {
      return (await db
        .selectFrom('email_messages')
        .select(messageColumns)
        .where('organization_id', '=', organizationId)
        .where('id', '=', id)
        .executeTakeFirst()) as (Omit<Selectable<EmailMessages>, 'status' | 'category'> & { status: MessageStatus; category: TemplateCategory }) | undefined;
    },

    /**
     * One page of a subscriber's messages, newest first, with the template's name (never the body).
     * Served by the (subscriber_id, id DESC) index; the organization filter keeps it inside the tenant.
     */
    async listForSubscriber(organizationId: string, subscriberId: string, options: { limit: number; beforeId?: string }) {
      let query = db
        .selectFrom('email_messages as m')
        .leftJoin('templates as t', (join) => join.onRef('t.id', '=', 'm.template_id').onRef('t.organization_id', '=', 'm.organization_id'))
        .select(subscriberMessageColumns.map((column) => `m.${column}` as const))
        .select(['t.id as template_id', 't.slug as template_slug', 't.name as template_name'])
        .where('m.organization_id', '=', organizationId)
        .where('m.subscriber_id', '=', subscriberId);
      if (options.beforeId) query = query.where('m.id', '<', options.beforeId);
      return (await query
        .orderBy('m.id', 'desc')
        .limit(options.limit + 1)
        .execute()) as SubscriberMessageRow[];
    },

    /**
     * Messages that still need sending, read without writing: the provider's idempotency key, not a
     * status flip, keeps two attempts from sending twice, so a send costs one write (its result).
     * Messages already sent or finished are left out. Several workers' jobs share one query (see
     * email.jobs.ts).
     */
    async loadForSend(ids: readonly string[]): Promise<MessageToSend[]> {
      const result = await sql<MessageToSend>`
        select m.id, m.organization_id, m.category, m.to_address, m.from_address, m.subject, m.html, m.text, m.headers,
          (exists (select 1 from suppressions s where s.organization_id = m.organization_id and lower(s.email) = lower(m.to_address))
            or coalesce((select s.status in ('bounced', 'complained') or (m.category = 'marketing' and s.status <> 'active')
                         from subscribers s where s.id = m.subscriber_id), false)) as blocked,
          m.created_at < now() - ${STALE_AFTER} as stale
        from email_messages m
        where m.id = any(${ids}::uuid[]) and m.status in ('queued', 'sending') and m.html is not null and m.batch_key is null`.execute(db);
      return result.rows;
    },

    /**
     * Takes a batch's messages for an attempt, in one transaction: those never handed to the provider whose
     * recipient is now blocked are marked suppressed (usage given back); the others are marked `sending`
     * (the attempt counted) and returned, in id order, with what their body is rendered from. A message once
     * marked `sending` stays in its batch on every later attempt, so each attempt of a batch sends the same
     * emails under the same key. Messages sent, failed or cancelled meanwhile are left out.
     */
    async takeBatch(ids: readonly string[], attempt: number): Promise<{ messages: BatchMessage[]; suppressed: number }> {
      return db.transaction().execute(async (trx) => {
        const suppressed = await sql<{ n: number }>`
          with m as (
            update email_messages e set status = 'suppressed', error_code = 'recipient_suppressed', updated_at = now()
            where e.id = any(${ids}::uuid[]) and e.status = 'queued' and e.provider_message_id is null and (${blockedSql('e')})
            returning e.organization_id, e.created_at
          ),
          refunded as (${refundMany})
          select count(*)::int as n from m`.execute(trx);
        const taken = await sql<BatchMessage>`
          with prior as (
            -- Taken before (sending_at set): an earlier attempt may have reached the provider, whatever the job's attempt count says.
            select id, sending_at is not null as taken from email_messages
            where id = any(${ids}::uuid[]) and status in ('queued', 'sending') and provider_message_id is null
            for update
          ),
          m as (
            update email_messages e set status = 'sending', attempts = greatest(e.attempts, ${attempt}), sending_at = coalesce(e.sending_at, now()), updated_at = now()
            from prior p where e.id = p.id
            returning e.id, e.organization_id, e.subscriber_id, e.content_id, e.batch_key, e.to_address, e.from_address, e.subject, e.html, e.text, e.headers,
              e.created_at, p.taken and e.created_at < now() - ${STALE_AFTER} as stale
          )
          select m.*, s.email as subscriber_email, s.status as subscriber_status, s.first_name, s.last_name, s.metadata, s.locale
          from m left join subscribers s on s.id = m.subscriber_id
          order by m.id`.execute(trx);
        return { messages: taken.rows, suppressed: Number(suppressed.rows[0]?.n ?? 0) };
      });
    },

    /** Gives up on messages never accepted: failed with the reason, usage given back, one outbox event each. */
    async markFailedMany(ids: readonly string[], code: string, message: string, attempt: number): Promise<void> {
      if (ids.length === 0) return;
      await sql`
        with m as (
          update email_messages set status = 'failed', failed_at = now(), error_code = ${code}, error_message = ${message.slice(0, 500)},
            attempts = greatest(attempts, ${attempt}), updated_at = now()
          where id = any(${ids}::uuid[]) and status in ('queued', 'sending') and provider_message_id is null
          returning id, organization_id, to_address, subscriber_id, template_id, campaign_id, provider_message_id, created_at
        ),
        refunded as (${refundMany})
        insert into events (id, organization_id, type, subject_id, payload)
        select v.event_id, m.organization_id, 'email.failed', m.id, jsonb_build_object(
          'email_send_id', m.id, 'esp_message_id', m.provider_message_id, 'email', m.to_address,
          'subscriber_id', m.subscriber_id, 'template_id', m.template_id, 'campaign_id', m.campaign_id)
        from m join unnest(${ids}::uuid[], ${ids.map(() => newId())}::uuid[]) as v(id, event_id) on v.id = m.id
        order by v.event_id`.execute(db);
    },

    /** Remembers why a batch's last attempt failed while retries continue. */
    async recordAttemptErrorMany(ids: readonly string[], code: string, message: string, attempt: number): Promise<void> {
      if (ids.length === 0) return;
      await sql`
        update email_messages set error_code = ${code}, error_message = ${message.slice(0, 500)}, attempts = greatest(attempts, ${attempt}), updated_at = now()
        where id = any(${ids}::uuid[]) and status in ('queued', 'sending')`.execute(db);
    },

    /** Freezes what a group of messages (a campaign's) is rendered from; inside the caller's transaction. */
    async insertContent(trx: Executor, organizationId: string, id: string, recipe: unknown): Promise<void> {
      await trx
        .insertInto('message_contents')
        .values({ id, organization_id: organizationId, recipe: JSON.stringify(recipe) })
        .execute();
    },

    async contentRecipe(id: string): Promise<unknown> {
      return (await db.selectFrom('message_contents').select('recipe').where('id', '=', id).executeTakeFirst())?.recipe;
    },

    /** A stored message without a stored body, with what its body is rendered from (the email log's view). */
    async unrenderedMessage(organizationId: string, id: string): Promise<BatchMessage | undefined> {
      const row = await sql<BatchMessage>`
        select m.id, m.organization_id, m.subscriber_id, m.content_id, m.batch_key, m.to_address, m.from_address, m.subject, m.html, m.text, m.headers,
          m.created_at, false as stale, s.email as subscriber_email, s.status as subscriber_status, s.first_name, s.last_name, s.metadata, s.locale
        from email_messages m left join subscribers s on s.id = m.subscriber_id
        where m.organization_id = ${organizationId} and m.id = ${id} and m.content_id is not null`.execute(db);
      return row.rows[0];
    },

    /** Batches with messages still unsent well after their last change (their job may be lost): key and unsent ids. */
    async unsentBatches(olderThanSeconds: number, limit: number): Promise<{ batch_key: string; ids: string[] }[]> {
      const rows = await sql<{ batch_key: string; ids: string[] }>`
        select batch_key, array_agg(id order by id) as ids from email_messages
        where status in ('queued', 'sending') and batch_key is not null and updated_at < now() - make_interval(secs => ${olderThanSeconds})
        group by batch_key order by min(created_at) limit ${limit}`.execute(db);
      return rows.rows;
    },

    /**
     * Records the provider's acceptance of each message once, with its outbox event, in one statement for
     * the whole list. A message already recorded (a repeated job) is left as it is.
     */
    async markSent(provider: string, sent: readonly { id: string; providerMessageId: string; attempt: number }[]): Promise<void> {
      await sql`
        with v as (
          select * from unnest(${sent.map((s) => s.id)}::uuid[], ${sent.map((s) => s.providerMessageId)}::text[], ${sent.map((s) => s.attempt)}::int[],
                               ${sent.map(() => newId())}::uuid[]) as v(id, provider_message_id, attempt, event_id)
        ),
        m as (
          update email_messages e set provider = ${provider}, provider_message_id = v.provider_message_id, sent_at = coalesce(e.sent_at, now()),
            sending_at = coalesce(e.sending_at, now()), attempts = greatest(e.attempts, v.attempt),
            status = case when e.status in ('queued', 'sending') then 'sent' else e.status end, error_code = null, error_message = null, updated_at = now()
          from v where e.id = v.id and e.provider_message_id is null
          returning e.id, e.organization_id, e.to_address, e.subscriber_id, e.template_id, e.campaign_id, e.provider_message_id, v.event_id
        )
        insert into events (id, organization_id, type, subject_id, payload)
        select m.event_id, m.organization_id, 'email.sent', m.id, jsonb_build_object(
          'email_send_id', m.id, 'esp_message_id', m.provider_message_id, 'email', m.to_address,
          'subscriber_id', m.subscriber_id, 'template_id', m.template_id, 'campaign_id', m.campaign_id)
        from m order by m.event_id`.execute(db);
    },

    /** Remembers why the last attempt failed while retries continue ("sending" until one succeeds). */
    async recordAttemptError(id: string, code: string, message: string, attempt: number): Promise<void> {
      await db
        .updateTable('email_messages')
        .set((eb) => ({
          status: 'sending',
          error_code: code,
          error_message: message.slice(0, 500),
          attempts: eb.fn('greatest', [eb.ref('attempts'), eb.val(attempt)]),
          sending_at: eb.fn.coalesce('sending_at', eb.val(new Date())),
          updated_at: new Date(),
        }))
        .where('id', '=', id)
        .where('status', 'in', ['queued', 'sending'])
        .execute();
    },

    /** Gives up on a message that was never accepted: status, refund of the reservation, outbox event. */
    async markFailed(id: string, code: string, message: string, attempt: number): Promise<void> {
      await sql`
        with m as (
          update email_messages set status = 'failed', failed_at = now(), error_code = ${code}, error_message = ${message.slice(0, 500)},
            attempts = greatest(attempts, ${attempt}), updated_at = now()
          where id = ${id} and status in ('queued', 'sending')
          returning id, organization_id, to_address, subscriber_id, template_id, campaign_id, provider_message_id, created_at
        ),
        refunded as (${refund})
        ${emailEvent('email.failed')}`.execute(db);
    },

    /** Skips a message whose recipient became suppressed after it was queued. */
    async markSuppressed(id: string): Promise<void> {
      await sql`
        with m as (
          update email_messages set status = 'suppressed', error_code = 'recipient_suppressed', updated_at = now()
          where id = ${id} and status in ('queued', 'sending')
          returning organization_id, created_at
        )
        ${refund}`.execute(db);
    },

    /** Messages still unsent well after they were queued: their job may have been lost. */
    async unsentIds(olderThanSeconds: number, limit: number): Promise<string[]> {
      const rows = await db
        .selectFrom('email_messages')
        .select('id')
        .where('status', 'in', ['queued', 'sending'])
        // Batched messages are found by batch (unsentBatches): each goes out in its batch's request only.
        .where('batch_key', 'is', null)
        .where('updated_at', '<', sql<Date>`now() - make_interval(secs => ${olderThanSeconds})`)
        .orderBy('id')
        .limit(limit)
        .execute();
      return rows.map((r) => r.id);
    },
  };
}

export type EmailRepository = ReturnType<typeof createEmailRepository>;
