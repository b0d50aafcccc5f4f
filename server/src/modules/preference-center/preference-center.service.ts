import type { Kysely } from 'kysely';
import type { DB } from '../../db/types.ts';
import { AppError, notFound } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { expiredToken, invalidToken, type TokenClaims } from '../../lib/tokens.ts';
import { insertEvents, type OutboxEvent } from '../events/index.ts';
import type { BackgroundTasks } from '../../lib/background.ts';
import type { Confirmations } from './confirmations.ts';
import type { HistoryInsert, Origin, SubscriberRepository } from '../subscribers/index.ts';
import type { SubscriberStatus } from '../subscribers/index.ts';
import { historyRow, tagEvent, type SubscriberService } from '../subscribers/index.ts';
import type { AddressLimiter } from './address-limit.ts';
import { preferenceLinkEmail } from './link-email.ts';
import { PREFERENCE_TOKEN_TTL_SECONDS, type Links, type PreferenceLink } from './links.ts';
import type { SystemMailer } from '../email/index.ts';
import type { PreferenceCenterRepository, ViewRow } from './preference-center.repository.ts';
import type { Locale, PreferenceCenterViewDto, UnsubscribeReason } from './preference-center.schemas.ts';
import { publicOrganization, supportedLocale } from './settings.ts';
import { categoriesOf } from './topic-order.ts';

const SOURCE = 'preference_center';
const EXPORT_PAGE = 1000;
const EXPORT_MAX_PAGES = 10;

/** A sample person for the admin's preview; no real subscriber is read or shown. */
const SAMPLE_SUBSCRIBER = { email: 'subscriber@example.com', first_name: 'Alex', status: 'active' as const };

export function toView(row: ViewRow): Omit<PreferenceCenterViewDto, 'can_manage_data' | 'preview'> {
  const categories = categoriesOf(row.tags);
  return {
    subscriber: { email: row.email, first_name: row.first_name, status: row.status },
    organization: publicOrganization(row.organization),
    categories,
    tags: row.tags.map((tag) => ({ ...tag, display_name: tag.name })),
  };
}

/**
 * Everything a subscriber can do with their preference link. Each change writes consent history with
 * source `preference_center` and its outbox events in the same transaction, through the subscriber
 * repository. A link whose subscriber no longer exists is dead: it answers 401 invalid_token like a
 * forged one, so the page offers a fresh link instead of an error.
 */
export function createPreferenceCenterService(deps: {
  db: Kysely<DB>;
  links: Links;
  repository: PreferenceCenterRepository;
  subscriberRepository: SubscriberRepository;
  subscribers: Pick<SubscriberService, 'delete'>;
  confirmations: Pick<Confirmations, 'send'>;
  mailer: SystemMailer;
  background: BackgroundTasks;
  addressLimiter: AddressLimiter;
  messageBody: (organizationId: string, messageId: string) => Promise<{ text: string } | undefined>;
}) {
  const { db, links, repository: repo, subscriberRepository: subscribers } = deps;
  const origin = (o: Omit<Origin, 'source'>): Origin => ({ ...o, source: SOURCE });

  /**
   * The error for a genuine link that cannot open the page (expired, or its subscriber is gone): it names
   * the organization (slug and name), so the page can offer to email a fresh link and say for whom. A
   * forged link's error names nothing.
   */
  async function deadLink(error: AppError, genuine: TokenClaims): Promise<AppError> {
    const organization = await repo.organizationById(genuine.organizationId);
    if (!organization) return error;
    return new AppError(error.status, error.code, error.message, {
      details: [{ field: 'token', message: error.message, organization: organization.slug, organization_name: organization.name }],
    });
  }

  async function lockSubscriber(trx: Parameters<SubscriberRepository['lock']>[0], claims: TokenClaims) {
    const subscriber = await subscribers.lock(trx, claims.organizationId, claims.subjectId);
    if (!subscriber) throw invalidToken();
    return subscriber as typeof subscriber & { status: SubscriberStatus };
  }

  /** The page for a link already inspected (the route does that once, for its rate limit too). */
  async function viewLink(link: PreferenceLink | null): Promise<PreferenceCenterViewDto> {
    if (!link) throw invalidToken();
    if (link.expired) throw await deadLink(expiredToken(), link.claims);
    const row = await repo.view(link.claims.organizationId, link.claims.subjectId);
    if (!row) throw await deadLink(invalidToken(), link.claims);
    return { ...toView(row), can_manage_data: links.accessOf(link.claims) === 'data', preview: false };
  }

  /** Export and erasure need a link emailed to the address on request (see links.ts, PreferenceAccess). */
  function requireDataAccess(claims: TokenClaims): void {
    if (links.accessOf(claims) !== 'data') {
      throw new AppError(403, 'fresh_link_required', 'Downloading or deleting your data needs a link sent to your address just now; ask for one on this page', {
        details: [{ field: 'token', message: 'manages topics only' }],
      });
    }
  }

  return {
    /** Mints a link for an admin or an automation; the subscriber must exist in the organization. */
    async issue(organizationId: string, subscriberId: string, expiresIn = PREFERENCE_TOKEN_TTL_SECONDS) {
      if (!(await subscribers.findById(organizationId, subscriberId))) throw notFound('subscriber');
      return links.preference(organizationId, subscriberId, expiresIn);
    },

    viewLink,

    /**
     * The page as an admin's preview shows it: the organization's real settings, footer and topics, and
     * a sample subscriber with the first topic chosen. Read-only by construction: the preview token's
     * purpose is accepted by no route that changes anything.
     */
    async preview(organizationId: string): Promise<PreferenceCenterViewDto> {
      const [organization, topics] = await Promise.all([repo.organizationWithFooter(organizationId), repo.publicTopics(organizationId)]);
      if (!organization) throw invalidToken();
      const categories = categoriesOf(topics);
      const tags = topics.map((tag, index) => ({ ...tag, display_name: tag.name, is_subscribed: index === 0 }));
      return {
        subscriber: SAMPLE_SUBSCRIBER,
        organization: publicOrganization(organization),
        categories,
        tags,
        can_manage_data: false,
        preview: true,
      };
    },

    /** A preview link for an admin, with the same page opened on the unsubscribe card of an email about the first topic. */
    async previewLink(organizationId: string) {
      const link = links.preview(organizationId);
      const topics = await repo.publicTopics(organizationId);
      const first = topics[0];
      return {
        url: link.url,
        unsubscribe_url: `${link.url}&view=unsubscribe${first ? `&topics=${first.id}` : ''}`,
        expires_at: link.expires_at,
      };
    },

    async setTag(claims: TokenClaims, tagId: string, subscribed: boolean, from: Omit<Origin, 'source'>, reason: UnsubscribeReason | null = null) {
      const { organizationId } = claims;
      const changed = await db.transaction().execute(async (trx) => {
        const subscriber = await lockSubscriber(trx, claims);
        const tag = await repo.findPublicTag(trx, organizationId, tagId);
        if (!tag) throw notFound('tag');
        const didChange = subscribed
          ? (await subscribers.subscribeTags(trx, organizationId, [{ subscriberId: subscriber.id, tagId }], SOURCE)).length > 0
          : (await subscribers.unsubscribeTags(trx, organizationId, subscriber.id, [tagId], SOURCE)).length > 0;
        if (!didChange) return false;
        await subscribers.insertHistory(trx, organizationId, [
          historyRow(subscriber.id, subscribed ? 'tag_subscribed' : 'tag_unsubscribed', origin(from), tagId, !subscribed && reason ? { reason } : undefined),
        ]);
        await insertEvents(trx, organizationId, [tagEvent(subscribed ? 'tag.subscribed' : 'tag.unsubscribed', subscriber, tag, SOURCE)]);
        return true;
      });
      return { tag_id: tagId, is_subscribed: subscribed, changed };
    },

    /**
     * Unsubscribes from every public topic and, for an active or pending subscriber, from all email. The
     * rows it writes share a batch id, which the returned undo token names for a few minutes.
     */
    async unsubscribeAll(claims: TokenClaims, from: Omit<Origin, 'source'>, reason: UnsubscribeReason | null = null) {
      const { organizationId } = claims;
      const batch = newId();
      const said = reason ? { reason } : {};
      const status = await db.transaction().execute(async (trx) => {
        const subscriber = await lockSubscriber(trx, claims);
        const tags = await subscribers.unsubscribeAllTags(trx, organizationId, subscriber.id, SOURCE, { publicOnly: true });
        const history: HistoryInsert[] = tags.map((tag) => historyRow(subscriber.id, 'tag_unsubscribed', origin(from), tag.id, { batch, ...said }));
        const events: OutboxEvent[] = tags.map((tag) => tagEvent('tag.unsubscribed', subscriber, tag, SOURCE));
        let next = subscriber.status;
        if (subscriber.status === 'active' || subscriber.status === 'pending') {
          next = 'unsubscribed';
          await subscribers.update(trx, organizationId, subscriber.id, { status: next });
          history.push(historyRow(subscriber.id, 'status_changed', origin(from), null, { from: subscriber.status, to: next, batch, ...said }));
          events.push({
            type: 'subscriber.updated',
            subjectId: subscriber.id,
            payload: { subscriber: { id: subscriber.id, email: subscriber.email, status: next }, changed_fields: ['status'], source: SOURCE },
          });
        }
        await subscribers.insertHistory(trx, organizationId, history);
        await insertEvents(trx, organizationId, events);
        return { next, tags: tags.length };
      });
      const undo = links.undo(organizationId, claims.subjectId, batch);
      return { status: status.next, unsubscribed_tags: status.tags, undo_token: undo.token, undo_expires_at: undo.expires_at };
    },

    /**
     * Takes back an unsubscribe-all minutes after it happened, on the same link: the subscriber's own
     * explicit action, so it restores the previous status without a confirmation email. Refused once
     * anything else changed the status since.
     */
    async undoUnsubscribeAll(claims: TokenClaims, undoToken: string, from: Omit<Origin, 'source'>) {
      const batch = links.verifyUndo(undoToken, claims);
      const { organizationId } = claims;
      return db.transaction().execute(async (trx) => {
        const subscriber = await lockSubscriber(trx, claims);
        const done = await repo.unsubscribeBatch(trx, organizationId, subscriber.id, batch);
        const restoresStatus = done.previousStatus !== null;
        if (restoresStatus && (!done.isLatestStatusChange || subscriber.status !== 'unsubscribed')) {
          throw new AppError(409, 'undo_not_possible', 'This can no longer be undone; use resubscribe instead');
        }
        const changed = await subscribers.subscribeTags(
          trx,
          organizationId,
          done.tagIds.map((tagId) => ({ subscriberId: subscriber.id, tagId })),
          SOURCE,
        );
        const tags = await repo.findPublicTagsByIds(
          trx,
          organizationId,
          changed.map((c) => c.tag_id),
        );
        const history: HistoryInsert[] = changed.map((c) => historyRow(subscriber.id, 'tag_subscribed', origin(from), c.tag_id, { undo_of: batch }));
        const events: OutboxEvent[] = tags.map((tag) => tagEvent('tag.subscribed', subscriber, tag, SOURCE));
        let status = subscriber.status;
        if (restoresStatus) {
          status = done.previousStatus!;
          await subscribers.update(trx, organizationId, subscriber.id, { status });
          history.push(historyRow(subscriber.id, 'status_changed', origin(from), null, { from: subscriber.status, to: status, undo_of: batch }));
          events.push({
            type: 'subscriber.updated',
            subjectId: subscriber.id,
            payload: { subscriber: { id: subscriber.id, email: subscriber.email, status }, changed_fields: ['status'], source: SOURCE },
          });
        }
        await subscribers.insertHistory(trx, organizationId, history);
        await insertEvents(trx, organizationId, events);
        return { status, resubscribed_tags: changed.length };
      });
    },

    /** Asks for a fresh confirmation by email: an address that left is never reactivated silently. */
    async resubscribe(claims: TokenClaims, locale: Locale | undefined) {
      const subscriber = await subscribers.findById(claims.organizationId, claims.subjectId);
      if (!subscriber) throw invalidToken();
      if (subscriber.status === 'active') return { status: 'already_active' as const };
      await deps.addressLimiter.hit('confirm', claims.organizationId, subscriber.email);
      const organization = (await repo.organizationById(claims.organizationId))!;
      await deps.confirmations.send({ organization, subscriber, source: 'preference_center', tagIds: [], locale });
      return { status: 'confirmation_sent' as const };
    },

    /** Everything held about the subscriber (GDPR Art. 15 and 20), as one JSON document. */
    async export(claims: TokenClaims) {
      requireDataAccess(claims);
      const { organizationId, subjectId } = claims;
      const subscriber = await subscribers.findById(organizationId, subjectId);
      if (!subscriber) throw invalidToken();
      const [organization, tags, messages, history, notes] = await Promise.all([
        repo.organizationById(organizationId),
        repo.tagStates(organizationId, subjectId),
        repo.messages(organizationId, subjectId),
        allPages((beforeId) => subscribers.listHistory(organizationId, subjectId, { limit: EXPORT_PAGE, beforeId })),
        allPages((beforeId) => subscribers.listNotes(organizationId, subjectId, { limit: EXPORT_PAGE, beforeId })),
      ]);
      const { tags: _current, ...profile } = subscriber;
      return {
        exported_at: new Date(),
        organization: { name: organization!.name },
        subscriber: profile,
        tags,
        consent_history: history.map((row) => ({
          action: row.action,
          tag: row.tag_name ? { name: row.tag_name, slug: row.tag_slug! } : null,
          source: row.source,
          ip: row.ip,
          user_agent: row.user_agent,
          details: row.details as Record<string, unknown>,
          created_at: row.created_at,
        })),
        notes: notes.map((note) => ({ body: note.body, created_at: note.created_at })),
        // Campaign emails keep no body: their text is rendered again, as it was sent.
        messages: await Promise.all(messages.map(async (m) => ({ ...m, text: m.text ?? (await deps.messageBody(organizationId, m.id))?.text ?? '' }))),
      };
    },

    /** GDPR erasure through the subscriber service: irreversible, and the link dies with the subscriber. */
    async erase(claims: TokenClaims, from: Omit<Origin, 'source'>) {
      requireDataAccess(claims);
      try {
        await deps.subscribers.delete(claims.organizationId, claims.subjectId, origin(from));
      } catch (error) {
        if (error instanceof AppError && error.code === 'subscriber_not_found') throw invalidToken();
        throw error;
      }
    },

    /**
     * Emails a fresh link when the address is subscribed in the organization. The answer and its timing
     * are the same either way: the lookup always runs and the email leaves after the response.
     */
    async requestLink(input: { email: string; organization: string; locale?: Locale }) {
      const email = input.email.trim();
      await deps.addressLimiter.hit('link', input.organization, email);
      const organization = await repo.organizationBySlug(input.organization);
      const subscriber = organization ? await subscribers.findByEmail(organization.id, email) : undefined;
      if (organization && subscriber) {
        const locale = input.locale ?? supportedLocale(organization.locale);
        // Sent to the address now, so this link may also export and erase (see links.ts).
        const link = links.preference(organization.id, subscriber.id, PREFERENCE_TOKEN_TTL_SECONDS, 'data');
        const message = preferenceLinkEmail({
          locale,
          organizationName: organization.name,
          firstName: subscriber.first_name,
          url: link.url,
          validDays: PREFERENCE_TOKEN_TTL_SECONDS / 86_400,
        });
        deps.background.run('preference link email', () => deps.mailer.send(organization, subscriber.email, message, 'preference_link'));
      }
      return { status: 'accepted' as const, message: 'If this address is subscribed, a new link is on its way.' };
    },
  };
}

/** Walks a newest-first, id-cursored list to its end, up to a cap. */
async function allPages<T extends { id: string }>(page: (beforeId: string | undefined) => Promise<T[]>): Promise<T[]> {
  const rows: T[] = [];
  let beforeId: string | undefined;
  for (let i = 0; i < EXPORT_MAX_PAGES; i += 1) {
    const batch = await page(beforeId);
    rows.push(...batch.slice(0, EXPORT_PAGE));
    if (batch.length <= EXPORT_PAGE) break;
    beforeId = batch[EXPORT_PAGE - 1]!.id;
  }
  return rows;
}

export type PreferenceCenterService = ReturnType<typeof createPreferenceCenterService>;
