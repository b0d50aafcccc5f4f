import { sql, type Kysely, type Transaction } from 'kysely';
import { deleteInChunks, DELETE_CHUNK } from '../../db/chunked-delete.ts';
import type { DB } from '../../db/types.ts';
import { newId } from '../../lib/ids.ts';
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
}

export type DeliveryChange =
  | { kind: 'delivered' | 'delivery_delayed' | 'opened' | 'clicked' }
  | { kind: 'bounced'; hard: boolean; reason: string }
  | { kind: 'complained' }
  | { kind: 'failed'; reason: string };

const messageColumns = ['id', 'organization_id', 'subscriber_id', 'template_id', 'campaign_id', 'to_address', 'provider_message_id', 'status'] as const;

/**
 * The statements that apply a provider delivery event. Each change only moves a message forward
 * (delivered never returns to sent, a complaint is never overwritten by a bounce), so events arriving
 * late or out of order leave the right state.
 */
export function createProviderEventRepository() {
  return {
    /** Records the event id; false when it was applied before (a redelivery). */
    async claimEvent(trx: Transaction<DB>, provider: string, id: string, type: string): Promise<boolean> {
      const inserted = await trx.insertInto('provider_events').values({ provider, id, type })
        .onConflict((oc) => oc.columns(['provider', 'id']).doNothing()).returning('id').executeTakeFirst();
      return inserted !== undefined;
    },

    async linkEvent(trx: Transaction<DB>, provider: string, id: string, message: EventMessage): Promise<void> {
      await trx.updateTable('provider_events').set({ organization_id: message.organization_id, email_message_id: message.id })
        .where('provider', '=', provider).where('id', '=', id).execute();
    },

    /** The message an event is about: by our id carried in its tags, else by the provider's id. */
    async findMessage(trx: Transaction<DB>, ref: { messageId?: string; providerMessageId?: string }): Promise<EventMessage | undefined> {
      if (ref.messageId) {
        const byId = await trx.selectFrom('email_messages').select(messageColumns).where('id', '=', ref.messageId).forUpdate().executeTakeFirst();
        if (byId) return byId;
      }
      if (!ref.providerMessageId) return undefined;
      return trx.selectFrom('email_messages').select(messageColumns).where('provider_message_id', '=', ref.providerMessageId).forUpdate().executeTakeFirst();
    },

    async applyToMessage(trx: Transaction<DB>, id: string, change: DeliveryChange, at: Date): Promise<void> {
      const update = trx.updateTable('email_messages').where('id', '=', id);
      switch (change.kind) {
        case 'delivered':
          await update.set({ status: sql`case when status in ('queued', 'sending', 'sent', 'delivery_delayed') then 'delivered' else status end`, delivered_at: sql`coalesce(delivered_at, ${at})`, updated_at: new Date() }).execute();
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
          await update.set({
            status: sql`case when status = 'complained' then status else 'bounced' end`, bounced_at: sql`coalesce(bounced_at, ${at})`,
            error_code: change.hard ? 'hard_bounce' : 'soft_bounce', error_message: change.reason.slice(0, 500), updated_at: new Date(),
          }).execute();
          return;
        case 'complained':
          await update.set({ status: 'complained', complained_at: sql`coalesce(complained_at, ${at})`, updated_at: new Date() }).execute();
          return;
        case 'failed':
          await update.set({
            status: sql`case when status in ('delivered', 'bounced', 'complained') then status else 'failed' end`, failed_at: sql`coalesce(failed_at, ${at})`,
            error_code: 'provider_failed', error_message: change.reason.slice(0, 500), updated_at: new Date(),
          }).execute();
      }
    },

    /**
     * Stops all mail to the address: a suppression row, and the subscriber (if the address is one) moved
     * to bounced or complained with a consent-history entry and an outbox event.
     */
    async suppress(trx: Transaction<DB>, message: EventMessage, reason: 'hard_bounce' | 'complaint', source: string): Promise<void> {
      await trx.insertInto('suppressions').values({ id: newId(), organization_id: message.organization_id, email: message.to_address, reason, email_message_id: message.id })
        .onConflict((oc) => oc.doNothing()).execute();
      const status = reason === 'complaint' ? 'complained' : 'bounced';
      const subscriber = await trx.selectFrom('subscribers').select(['id', 'email', 'status'])
        .where('organization_id', '=', message.organization_id)
        .where((eb) => (message.subscriber_id ? eb('id', '=', message.subscriber_id) : eb(sql`lower(email)`, '=', message.to_address.toLowerCase())))
        .forUpdate().executeTakeFirst();
      // A complaint outranks a bounce; the same status again changes nothing.
      if (!subscriber || subscriber.status === status || (status === 'bounced' && subscriber.status === 'complained')) return;
      await trx.updateTable('subscribers').set({ status, updated_at: new Date() }).where('id', '=', subscriber.id).execute();
      await trx.insertInto('subscription_history').values({
        id: newId(), organization_id: message.organization_id, subscriber_id: subscriber.id, action: 'status_changed', source,
        details: JSON.stringify({ from: subscriber.status, to: status, email_send_id: message.id }),
      }).execute();
      await insertEvents(trx, message.organization_id, [{
        type: 'subscriber.updated', subjectId: subscriber.id,
        payload: { subscriber: { id: subscriber.id, email: subscriber.email }, changed_fields: ['status'], status, source },
      }]);
    },

    insertEvents: (trx: Transaction<DB>, organizationId: string, events: OutboxEvent[]) => insertEvents(trx, organizationId, events),
  };
}

export type ProviderEventRepository = ReturnType<typeof createProviderEventRepository>;

/** Retention: ids of provider events received before the cutoff (kept only to ignore redeliveries). */
export async function deleteProviderEventsBefore(db: Kysely<DB>, cutoff: Date, signal?: AbortSignal): Promise<number> {
  return deleteInChunks(async () => (await sql`
    delete from provider_events where (provider, id) in (
      select provider, id from provider_events where received_at < ${cutoff} limit ${DELETE_CHUNK})`.execute(db)).numAffectedRows ?? 0n, signal);
}
