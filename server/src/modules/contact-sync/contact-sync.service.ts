import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../../db/types.ts';
import { conflict, unprocessable } from '../../lib/errors.ts';
import type { JobProducer } from '../../jobs/producer.ts';
import type { Logger } from '../../logger.ts';
import { ProviderError, type ContactProvider } from '../email/index.ts';
import { insertEvents } from '../events/index.ts';
import { tagEvent } from '../subscribers/index.ts';
import type { ContactSyncRepository } from './contact-sync.repository.ts';

/** Contacts mirrored per job; the job enqueues its successor while changes remain. */
export const SYNC_BATCH = 50;
// Topics created per job (each one request); more wait for the next job.
const TOPIC_BATCH = 20;
// After this many failed attempts a change is left for the operator (`last_error` says why), not retried forever.
export const MAX_ATTEMPTS = 5;
/** The recorded reason of an unsubscribe that came from Resend. */
export const RESEND_UNSUBSCRIBE_REASON = 'resend_contact_unsubscribed';
/** The `source` of changes that came from Resend: the mirror does not send them back (no echo loop). */
export const RESEND_SOURCE = 'resend';
// Topics renamed or deleted at Resend per round (each one request).
const TOPIC_CHANGE_BATCH = 20;

/** What went wrong in the last round, in plain words for the dashboard. */
export const SYNC_ERRORS: Record<string, string> = {
  rate_limited: 'Resend asked us to slow down; the rest is sent in the next rounds.',
  unavailable: 'Resend could not be reached; the changes wait and are sent when it answers again.',
  quota_exceeded: 'The Resend account has reached its quota; the changes wait until it allows more.',
  rejected: 'Resend refused a request (for example an invalid address); see the failed changes.',
  internal: 'The last round stopped on an error here; it is tried again in the next round.',
};

/** One topic choice Resend reports for a contact. */
export interface TopicChoice {
  id: string;
  subscription: 'opt_in' | 'opt_out';
}

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

  /**
   * Topics first: renamed ones get their new name, deleted or private ones are deleted at Resend, new
   * public ones are created (and whoever chose them is queued). Each step is recorded only after Resend
   * answered, so a round that dies half-way is simply done again.
   */
  async function syncTopics(organizationId: string, contacts: ContactProvider): Promise<{ topics: number; more: boolean }> {
    let topics = 0;
    const changed = await repo.changedTopics(organizationId, TOPIC_CHANGE_BATCH);
    for (const change of changed) {
      const sent = change.removed || change.name === null ? null : { name: change.name, description: change.description };
      try {
        if (!sent) {
          await contacts.removeTopic(change.topic_id);
          await repo.topicRemoved(organizationId, change.tag_id, change.topic_id);
        } else if (await contacts.updateTopic(change.topic_id, sent)) {
          await repo.topicRenamed(organizationId, change.tag_id, change.topic_id, sent);
        } else {
          // A topic deleted at Resend by hand is created again with the next round.
          await repo.topicRemoved(organizationId, change.tag_id, change.topic_id);
        }
      } catch (error) {
        if (!(error instanceof ProviderError) || error.kind !== 'rejected') throw error;
        // Refused for good (e.g. a name Resend does not take): asking again every round would stall the
        // contacts behind it, so the change is settled here and the refusal logged.
        deps.logger.warn({ err: error, tag_id: change.tag_id }, 'Resend refused a topic change');
        if (sent) await repo.topicRenamed(organizationId, change.tag_id, change.topic_id, sent);
        else await repo.topicRemoved(organizationId, change.tag_id, change.topic_id);
      }
      topics += 1;
    }
    const created = await repo.publicTagsWithoutTopic(organizationId, TOPIC_BATCH);
    for (const tag of created) {
      await repo.saveTopic(organizationId, tag, await contacts.createTopic({ name: tag.name, description: tag.description }));
      await repo.enqueueTagSubscribers(organizationId, tag.id);
      topics += 1;
    }
    // A full batch may have left more topics to do: the next round follows at once.
    return { topics, more: changed.length === TOPIC_CHANGE_BATCH || created.length === TOPIC_BATCH };
  }

  async function round(organizationId: string, provider: ContactProvider) {
    const { topics, more: moreTopics } = await syncTopics(organizationId, provider);
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
    const more = moreTopics || (await repo.pendingRetryable(organizationId, MAX_ATTEMPTS)) > 0;
    return { topics, synced, failed, more };
  }

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
        if (!on) return 0;
        await repo.fullSyncRequested(trx, organizationId);
        return repo.enqueueAll(trx, organizationId);
      });
      if (queued > 0) await deps.producer.enqueue('resend.sync', { tick: `on${Date.now()}` });
    },

    /**
     * Queues every subscriber of the mirroring organization again (the dashboard's "sync everything
     * now"): a change made at Resend by hand is overwritten with what is true here. Contacts deleted at
     * Resend stay left alone.
     */
    async syncEverything(organizationId: string): Promise<{ queued: number }> {
      const queued = await db.transaction().execute(async (trx) => {
        if ((await repo.syncingOrganization(trx)) !== organizationId) {
          throw conflict('resend_sync_off', 'Contact sync is turned off for this organization; turn it on first');
        }
        await repo.fullSyncRequested(trx, organizationId);
        return repo.enqueueAll(trx, organizationId);
      });
      await deps.producer.enqueue('resend.sync', { tick: `all${Date.now()}` });
      return { queued };
    },

    /** How the mirror is doing, for the dashboard. */
    async status(organizationId: string) {
      const organization = await repo.syncingOrganization();
      const row = await repo.status(organizationId, MAX_ATTEMPTS);
      const code = row.last_error_code;
      const lastError =
        row.last_contact_error && (!row.last_error_at || (row.last_contact_error_at && row.last_contact_error_at > row.last_error_at))
          ? { code: 'rejected', message: `Resend refused a contact: ${row.last_contact_error}`, at: row.last_contact_error_at!.toISOString() }
          : code && row.last_error_at
            ? { code, message: SYNC_ERRORS[code] ?? 'The last round failed; it is tried again.', at: row.last_error_at.toISOString() }
            : null;
      return {
        enabled: organization === organizationId,
        available: provider !== null,
        taken: organization !== null && organization !== organizationId,
        full_sync_requested_at: row.full_sync_requested_at?.toISOString() ?? null,
        full_sync_finished_at: row.full_sync_finished_at?.toISOString() ?? null,
        last_round_at: row.last_round_at?.toISOString() ?? null,
        pending: Number(row.pending),
        failed: Number(row.failed),
        detached: Number(row.detached),
        last_error: lastError,
      };
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
      try {
        const result = await round(organizationId, provider);
        await repo.roundDone(organizationId, { errorCode: null, drained: !result.more });
        return result;
      } catch (error) {
        const code = error instanceof ProviderError ? error.kind : 'internal';
        await repo.roundDone(organizationId, { errorCode: code, drained: false });
        throw error;
      }
    },

    /**
     * Resend reports a contact as unsubscribed: the subscriber with that address in the mirroring
     * organization is unsubscribed from all marketing mail, with the reason in the consent history and
     * an outbox event, in the caller's transaction (the provider event's, so a redelivery counts once).
     * Our own state echoed back is not an unsubscribe: a pending subscriber is mirrored as unsubscribed,
     * and a report from before the subscriber confirmed describes that time.
     */
    async unsubscribedAtResend(trx: Transaction<DB>, email: string, eventId: string, at: Date = new Date()): Promise<boolean> {
      const organizationId = await repo.syncingOrganization(trx);
      if (!organizationId) return false;
      const subscriber = await repo.lockByEmail(trx, organizationId, email);
      if (!subscriber || NOT_MAILED.has(subscriber.status) || subscriber.status === 'pending') return false;
      if (subscriber.confirmed_at && subscriber.confirmed_at > at) return false;
      await repo.markUnsubscribed(trx, subscriber, organizationId, { reason: RESEND_UNSUBSCRIBE_REASON, provider_event_id: eventId });
      await insertEvents(trx, organizationId, [
        {
          type: 'subscriber.unsubscribed',
          subjectId: subscriber.id,
          payload: { subscriber: { id: subscriber.id, email: subscriber.email }, source: RESEND_SOURCE, campaign_id: null },
        },
      ]);
      return true;
    },

    /**
     * Resend reports a contact's topic choices (`contact.topics.updated`, e.g. from its preference page):
     * each mirrored topic whose choice differs from ours is applied to the subscriber's subscription of
     * that tag, with `source: resend`, the reason and the event id in the consent history. Opting in
     * applies only to an active subscriber (Resend never brings anyone back; consent to mail is given
     * here). Our own changes echoed back change nothing: a choice that equals ours is no change, and a
     * report is skipped while a change of ours still waits to be sent or is newer than the report.
     * Returns whether anything changed.
     */
    async topicsChangedAtResend(trx: Transaction<DB>, input: { email: string; topics: readonly TopicChoice[]; eventId: string; at: Date }): Promise<boolean> {
      const organizationId = await repo.syncingOrganization(trx);
      if (!organizationId || input.topics.length === 0) return false;
      const subscriber = await repo.lockByEmail(trx, organizationId, input.email);
      if (!subscriber || (await repo.hasPendingChange(trx, organizationId, subscriber.id))) return false;
      const tags = await repo.tagsOfTopics(
        trx,
        organizationId,
        input.topics.map((t) => t.id),
      );
      const states = new Map(
        (
          await repo.tagStates(
            trx,
            organizationId,
            subscriber.id,
            tags.map((t) => t.id),
          )
        ).map((r) => [r.tag_id, r]),
      );
      const wanted = new Map(input.topics.map((t) => [t.id, t.subscription === 'opt_in']));
      const changes = tags.flatMap((tag) => {
        const subscribed = wanted.get(tag.topic_id)!;
        const state = states.get(tag.id);
        if ((state?.status === 'subscribed') === subscribed) return [];
        if (state && state.updated_at >= input.at) return [];
        if (subscribed && subscriber.status !== 'active') return [];
        return [{ tag, subscribed }];
      });
      if (changes.length === 0) return false;
      await repo.setTagChoices(
        trx,
        organizationId,
        subscriber.id,
        changes.map((c) => ({ tagId: c.tag.id, subscribed: c.subscribed })),
        { provider_event_id: input.eventId },
      );
      await insertEvents(
        trx,
        organizationId,
        changes.map((c) => tagEvent(c.subscribed ? 'tag.subscribed' : 'tag.unsubscribed', subscriber, c.tag, RESEND_SOURCE)),
      );
      return true;
    },

    /**
     * Resend reports a contact deleted (someone removed it there). Our subscriber is neither deleted nor
     * unsubscribed (deleting a contact is not a person's choice about mail); it is no longer mirrored, so
     * the contact is not created again behind the back of whoever deleted it, and the consent history
     * says so. Our own erasure echoed back finds no subscriber and changes nothing.
     */
    async contactDeletedAtResend(trx: Transaction<DB>, email: string, eventId: string): Promise<boolean> {
      const organizationId = await repo.syncingOrganization(trx);
      if (!organizationId) return false;
      const subscriber = await repo.lockByEmail(trx, organizationId, email);
      if (!subscriber) return false;
      return repo.detach(trx, organizationId, subscriber.id, eventId);
    },
  };
}

export type ContactSyncService = ReturnType<typeof createContactSyncService>;
