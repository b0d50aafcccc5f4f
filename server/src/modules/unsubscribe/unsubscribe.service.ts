import type { Kysely } from 'kysely';
import type { DB } from '../../db/types.ts';
import { insertEvents } from '../events/index.ts';
import type { UnsubscribeRepository } from './unsubscribe.repository.ts';

export interface UnsubscribeRequest {
  organizationId: string;
  subscriberId: string;
  campaignId: string | null;
  source: string;
  ip: string | null;
  userAgent: string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Topics the unsubscribe card names at most; the link carrying them stays short. */
const MAX_CARD_TOPICS = 5;

// Statuses that already receive no marketing mail; unsubscribing them changes nothing.
const NOT_MAILED = new Set(['unsubscribed', 'bounced', 'complained']);

export function createUnsubscribeService(deps: { db: Kysely<DB>; unsubscribeRepository: UnsubscribeRepository }) {
  const { db, unsubscribeRepository: repo } = deps;
  return {
    /** The slug of an organization, for the "send me a new link" form of a broken link; null when unknown. */
    organizationSlug(organizationId: string): Promise<string | null> {
      return repo.organizationSlug(db, organizationId);
    },

    /** The public topics of a campaign the unsubscribe card may offer to leave alone (ids, at most 5). */
    async campaignTopics(organizationId: string, campaignId: string | null | undefined): Promise<string[]> {
      if (!campaignId || !UUID.test(campaignId)) return [];
      return repo.campaignTopics(db, organizationId, campaignId, MAX_CARD_TOPICS);
    },

    /**
     * Unsubscribes from all marketing mail in one transaction: status, consent history, outbox event.
     * 'already' when nothing changes, 'gone' when the subscriber was deleted meanwhile.
     */
    async unsubscribe(request: UnsubscribeRequest): Promise<'unsubscribed' | 'already' | 'gone'> {
      return db.transaction().execute(async (trx) => {
        const subscriber = await repo.lockSubscriber(trx, request.organizationId, request.subscriberId);
        if (!subscriber) return 'gone';
        if (NOT_MAILED.has(subscriber.status)) return 'already';
        await repo.markUnsubscribed(trx, subscriber.id);
        await repo.insertHistory(trx, {
          organizationId: request.organizationId,
          subscriberId: subscriber.id,
          source: request.source,
          ip: request.ip,
          userAgent: request.userAgent,
          details: { from: subscriber.status, ...(request.campaignId ? { campaign_id: request.campaignId } : {}) },
        });
        await insertEvents(trx, request.organizationId, [
          {
            type: 'subscriber.unsubscribed',
            subjectId: subscriber.id,
            payload: { subscriber: { id: subscriber.id, email: subscriber.email }, source: request.source, campaign_id: request.campaignId },
          },
        ]);
        return 'unsubscribed';
      });
    },
  };
}

export type UnsubscribeService = ReturnType<typeof createUnsubscribeService>;
