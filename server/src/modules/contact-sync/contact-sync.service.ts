import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../../db/types.ts';
import { conflict, unprocessable } from '../../lib/errors.ts';
import type { JobProducer } from '../../jobs/producer.ts';
import type { Logger } from '../../logger.ts';
import { ProviderError, type ContactProvider } from '../email/index.ts';
import { insertEvents } from '../events/index.ts';
import type { ContactSyncRepository } from './contact-sync.repository.ts';

/** Contacts mirrored per job; the job enqueues its successor while changes remain. */
export const SYNC_BATCH = 50;
// Topics created per job (each one request); more wait for the next job.
const TOPIC_BATCH = 20;
// After this many failed attempts a change is left for the operator (`last_error` says why), not retried forever.
export const MAX_ATTEMPTS = 5;
/** The recorded reason of an unsubscribe that came from Resend. */
export const RESEND_UNSUBSCRIBE_REASON = 'resend_contact_unsubscribed';

// Statuses that receive no marketing mail: mirrored to Resend as unsubscribed.
const NOT_MAILED = new Set(['unsubscribed', 'bounced', 'complained']);

/**
 * The optional mirror of one organization's subscribers and public topics to Resend's Contacts and
 * Topics. Changes wait in an outbox (filled from the event outbox, so every path that changes a
 * subscriber is covered) and are sent by worker jobs through the provider's rate gate; each upsert is
 * idempotent, so a job that dies half-way is simply run again. A contact Resend reports as unsubscribed
 * (`contact.updated`) is unsubscribed here too, with the reason recorded; Resend never subscribes anyone
 * here (consent is given only by the person, through us).
 */
export function createContactSyncService(deps: {
  db: Kysely<DB>;
  contactSyncRepository: ContactSyncRepository;
  contactProvider: ContactProvider | null;
  producer: Pick<JobProducer, 'enqueue'>;
  logger: Pick<Logger, 'warn' | 'info'>;
}) {
  const { db, contactSyncRepository: repo, contactProvider: provider } = deps;

  return {
    /**
     * Turns the mirror on or off for an organization. On needs Resend configured and no other
     * organization mirroring (contacts at Resend are one per address for the whole account); turning on
     * puts every subscriber in the outbox.
     */
    async setEnabled(organizationId: string, on: boolean): Promise<void> {
      if (on && !provider) {
        throw unprocessable('resend_not_configured', 'Contact sync needs the Resend provider (RESEND_API_KEY) to be configured', [
          { field: 'resend_contact_sync', message: 'needs RESEND_API_KEY' },
        ]);
      }
      const queued = await db.transaction().execute(async (trx) => {
        const current = await repo.syncingOrganization(trx);
        if (on && current && current !== organizationId) {
          throw conflict('resend_sync_taken', 'Another organization of this installation already mirrors its contacts to the Resend account');
        }
        if (on === (current === organizationId)) return 0;
        await repo.setSync(trx, organizationId, on);
        return on ? repo.enqueueAll(trx, organizationId) : 0;
      });
      if (queued > 0) await deps.producer.enqueue('resend.sync', { tick: `on${Date.now()}` });
    },

    /** Puts changes in the outbox inside the caller's transaction (the event relay's). */
    enqueue: repo.enqueue,
    enqueueAll: repo.enqueueAll,

    /**
     * One round of the mirror: missing topics first, then the oldest waiting changes. Returns what was
     * done and whether changes remain. A rate-limited request stops the round where it is (the rest stays
     * in the outbox); any other failure of a contact is counted on its row and the round goes on.
     */
    async syncBatch(): Promise<{ topics: number; synced: number; failed: number; more: boolean }> {
      const organizationId = await repo.syncingOrganization();
      if (!organizationId || !provider) return { topics: 0, synced: 0, failed: 0, more: false };
      let topics = 0;
      for (const tag of await repo.publicTagsWithoutTopic(organizationId, TOPIC_BATCH)) {
        await repo.saveTopic(organizationId, tag.id, await provider.createTopic({ name: tag.name, description: tag.description }));
        topics += 1;
      }
      const allTopics = await repo.topicIds(organizationId);
      let synced = 0;
      let failed = 0;
      for (const change of await repo.nextBatch(organizationId, SYNC_BATCH, MAX_ATTEMPTS)) {
        try {
          if (!change.subscriber) {
            await provider.removeContact(change.email);
          } else {
            const subscribed = new Set(change.subscriber.topicIds);
            await provider.upsertContact({
              email: change.email,
              firstName: change.subscriber.firstName,
              lastName: change.subscriber.lastName,
              unsubscribed: NOT_MAILED.has(change.subscriber.status) || change.subscriber.status === 'pending',
              topics: allTopics.map((id) => ({ id, subscription: subscribed.has(id) ? 'opt_in' : 'opt_out' })),
            });
          }
          await repo.done(organizationId, change.subscriberId, change.version);
          synced += 1;
        } catch (error) {
          if (error instanceof ProviderError && (error.kind === 'rate_limited' || error.kind === 'unavailable' || error.kind === 'quota_exceeded')) throw error;
          failed += 1;
          await repo.failed(organizationId, change.subscriberId, error instanceof Error ? error.message : String(error));
          deps.logger.warn({ err: error, subscriber_id: change.subscriberId }, 'mirroring a contact to Resend failed');
        }
      }
      const more = (await repo.pendingRetryable(organizationId, MAX_ATTEMPTS)) > 0;
      return { topics, synced, failed, more };
    },

    /**
     * Resend reports a contact as unsubscribed: the subscriber with that address in the mirroring
     * organization is unsubscribed from all marketing mail, with the reason in the consent history and
     * an outbox event, in the caller's transaction (the provider event's, so a redelivery counts once).
     */
    async unsubscribedAtResend(trx: Transaction<DB>, email: string, eventId: string): Promise<boolean> {
      const organizationId = await repo.syncingOrganization(trx);
      if (!organizationId) return false;
      const subscriber = await repo.lockByEmail(trx, organizationId, email);
      if (!subscriber || NOT_MAILED.has(subscriber.status)) return false;
      await repo.markUnsubscribed(trx, subscriber, organizationId, { reason: RESEND_UNSUBSCRIBE_REASON, provider_event_id: eventId });
      await insertEvents(trx, organizationId, [
        {
          type: 'subscriber.unsubscribed',
          subjectId: subscriber.id,
          payload: { subscriber: { id: subscriber.id, email: subscriber.email }, source: 'resend', campaign_id: null },
        },
      ]);
      return true;
    },
  };
}

export type ContactSyncService = ReturnType<typeof createContactSyncService>;
