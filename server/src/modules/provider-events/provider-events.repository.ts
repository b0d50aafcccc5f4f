import { sql, type Kysely, type Transaction } from 'kysely';
import { deleteInChunks, DELETE_CHUNK } from '../../db/chunked-delete.ts';
import type { DB } from '../../db/types.ts';
import { newId } from '../../lib/ids.ts';
import { insertEngagement, type EngagementEvent } from '../engagement/index.ts';
import { insertEvents, type OutboxEvent } from '../events/index.ts';

export interface EventMessage {
  id: string;
  organization_id: string;
  subscriber_id: string | null;
  template_id: string | null;
  campaign_id: string | null;
  to_address: string;
  provider_message_id: string | null;
  status: string;
  sent_at: Date | null;
}

/** Whose address a suppression stops: a sent message's recipient, or the recipient of unstored system mail. */
export type SuppressTarget = Pick<EventMessage, 'organization_id' | 'to_address' | 'subscriber_id'> & { id: string | null };

export type SuppressionCause = 'hard_bounce' | 'soft_bounce' | 'complaint';

export type DeliveryChange =
  | { kind: 'delivered' | 'delivery_delayed' | 'opened' | 'clicked' }
  | { kind: 'bounced'; hard: boolean; reason: string }
  | { kind: 'complained' }
  | { kind: 'failed'; reason: string };

const messageColumns = [
  'id',
  'organization_id',
  'subscriber_id',
  'template_id',
  'campaign_id',
  'to_address',
  'provider_message_id',
  'status',
  'sent_at',
] as const;

/**
 * The statements that apply a provider delivery event. Each change only moves a message forward
 * (delivered never returns to sent, a complaint is never overwritten by a bounce), so events arriving
 * late or out of order leave the right state.
 */
export function createProviderEventRepository() {
  return {
    /** Records the event id; false when it was applied before (a redelivery). */
    async claimEvent(trx: Transaction<DB>, provider: string, id: string, type: string): Promise<boolean> {
      const inserted = await trx
        .insertInto('provider_events')
        .values({ provider, id, type })
        .onConflict((oc) => oc.columns(['provider', 'id']).doNothing())
        .returning('id')
        .executeTakeFirst();
      return inserted !== undefined;
    },

    async linkEvent(trx: Transaction<DB>, provider: string, id: string, message: EventMessage): Promise<void> {
      await trx
        .updateTable('provider_events')
        .set({ organization_id: message.organization_id, email_message_id: message.id })
        .where('provider', '=', provider)
        .where('id', '=', id)
        .execute();
    },

    async linkOrganization(trx: Transaction<DB>, provider: string, id: string, organizationId: string): Promise<void> {
      await trx.updateTable('provider_events').set({ organization_id: organizationId }).where('provider', '=', provider).where('id', '=', id).execute();
    },

    /**
     * The message an event is about: by our id (carried in its tags or its reference), else by the
     * provider's ids, in order (Resend's email id, then the Message-ID an SMTP send recorded).
     */
    async findMessage(
      trx: Transaction<DB>,
      ref: { messageId?: string | undefined; providerMessageIds: (string | undefined)[] },
    ): Promise<EventMessage | undefined> {
      if (ref.messageId) {
        const byId = await trx.selectFrom('email_messages').select(messageColumns).where('id', '=', ref.messageId).forUpdate().executeTakeFirst();
        if (byId) return byId;
      }
      for (const providerMessageId of ref.providerMessageIds) {
        if (!providerMessageId) continue;
        const found = await trx
          .selectFrom('email_messages')
          .select(messageColumns)
          .where('provider_message_id', '=', providerMessageId)
          .forUpdate()
          .executeTakeFirst();
        if (found) return found;
      }
      return undefined;
    },

    async organizationExists(trx: Transaction<DB>, organizationId: string): Promise<boolean> {
      return (await trx.selectFrom('organizations').select('id').where('id', '=', organizationId).executeTakeFirst()) !== undefined;
    },

    /** Soft bounces of an address in the organization since a moment (the message just bounced included). */
    async softBouncesSince(trx: Transaction<DB>, organizationId: string, address: string, since: Date): Promise<number> {
      const row = await trx
        .selectFrom('email_messages')
        .select((eb) => eb.fn.countAll<string>().as('count'))
        .where('organization_id', '=', organizationId)
        .where(sql`lower(to_address)`, '=', address.toLowerCase())
        .where('error_code', '=', 'soft_bounce')
        .where('bounced_at', '>=', since)
        .executeTakeFirstOrThrow();
      return Number(row.count);
    },

    async applyToMessage(trx: Transaction<DB>, id: string, change: DeliveryChange, at: Date): Promise<void> {
      const update = trx.updateTable('email_messages').where('id', '=', id);
      switch (change.kind) {
        case 'delivered':
          // Only a message that was still on its way is delivered: a late "delivered" after a bounce or a
          // complaint neither changes its status nor claims a delivery time.
          await update
            .set({ status: 'delivered', delivered_at: sql`coalesce(delivered_at, ${at})`, updated_at: new Date() })
            .where('status', 'in', ['queued', 'sending', 'sent', 'delivery_delayed'])
            .execute();
          return;
        case 'delivery_delayed':
          await update.set({ status: sql`case when status in ('sending', 'sent') then 'delivery_delayed' else status end`, updated_at: new Date() }).execute();
          return;
        case 'opened':
          await update.set({ opened_at: sql`coalesce(opened_at, ${at})`, open_count: sql`open_count + 1`, updated_at: new Date() }).execute();
          return;
        case 'clicked':
          await update.set({ clicked_at: sql`coalesce(clicked_at, ${at})`, click_count: sql`click_count + 1`, updated_at: new Date() }).execute();
          return;
        case 'bounced':
          await update
            .set({
              status: sql`case when status = 'complained' then status else 'bounced' end`,
              bounced_at: sql`coalesce(bounced_at, ${at})`,
              error_code: change.hard ? 'hard_bounce' : 'soft_bounce',
              error_message: change.reason.slice(0, 500),
              updated_at: new Date(),
            })
            .execute();
          return;
        case 'complained':
          await update.set({ status: 'complained', complained_at: sql`coalesce(complained_at, ${at})`, updated_at: new Date() }).execute();
          return;
        case 'failed':
          await update
            .set({
              status: sql`case when status in ('delivered', 'bounced', 'complained') then status else 'failed' end`,
              failed_at: sql`coalesce(failed_at, ${at})`,
              error_code: 'provider_failed',
              error_message: change.reason.slice(0, 500),
              updated_at: new Date(),
            })
            .execute();
      }
    },

    /**
     * Stops all mail to the address: a suppression row, and the subscriber (if the address is one) moved
     * to bounced or complained with a consent-history entry and an outbox event.
     */
    async suppress(trx: Transaction<DB>, message: SuppressTarget, reason: SuppressionCause, source: string): Promise<void> {
      await trx
        .insertInto('suppressions')
        .values({ id: newId(), organization_id: message.organization_id, email: message.to_address, reason, email_message_id: message.id })
        .onConflict((oc) => oc.doNothing())
        .execute();
      const status = reason === 'complaint' ? 'complained' : 'bounced';
      const subscriber = await trx
        .selectFrom('subscribers')
        .select(['id', 'email', 'status'])
        .where('organization_id', '=', message.organization_id)
        .where((eb) => (message.subscriber_id ? eb('id', '=', message.subscriber_id) : eb(sql`lower(email)`, '=', message.to_address.toLowerCase())))
        .forUpdate()
        .executeTakeFirst();
      // A complaint outranks a bounce; the same status again changes nothing.
      if (!subscriber || subscriber.status === status || (status === 'bounced' && subscriber.status === 'complained')) return;
      await trx.updateTable('subscribers').set({ status, updated_at: new Date() }).where('id', '=', subscriber.id).execute();
      await trx
        .insertInto('subscription_history')
        .values({
          id: newId(),
          organization_id: message.organization_id,
          subscriber_id: subscriber.id,
          action: 'status_changed',
          source,
          details: JSON.stringify({ from: subscriber.status, to: status, email_send_id: message.id }),
        })
        .execute();
      await insertEvents(trx, message.organization_id, [
        {
          type: 'subscriber.updated',
          subjectId: subscriber.id,
          payload: { subscriber: { id: subscriber.id, email: subscriber.email }, changed_fields: ['status'], status, source },
        },
      ]);
    },

    insertEvents: (trx: Transaction<DB>, organizationId: string, events: OutboxEvent[]) => insertEvents(trx, organizationId, events),

    /** A provider-reported open or click of a campaign email, in the campaign's engagement numbers. */
    insertEngagement: (trx: Transaction<DB>, event: EngagementEvent) => insertEngagement(trx, [event]),
  };
}

export type ProviderEventRepository = ReturnType<typeof createProviderEventRepository>;

/** Retention: ids of provider events received before the cutoff (kept only to ignore redeliveries). */
export async function deleteProviderEventsBefore(db: Kysely<DB>, cutoff: Date, signal?: AbortSignal): Promise<number> {
  return deleteInChunks(
    async () =>
      (
        await sql`
    delete from provider_events where (provider, id) in (
      select provider, id from provider_events where received_at < ${cutoff} limit ${DELETE_CHUNK})`.execute(db)
      ).numAffectedRows ?? 0n,
    signal,
  );
}
