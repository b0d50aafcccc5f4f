import type { Kysely } from 'kysely';
import type { DB } from '../../db/types.ts';
import { AppError } from '../../lib/errors.ts';
import { invalidToken } from '../../lib/tokens.ts';
import { insertEvents, type OutboxEvent } from '../events/index.ts';
import type { ConfirmSource, Links } from './links.ts';
import type { SystemMailer } from '../email/index.ts';
import type { OrganizationProfile, PreferenceCenterRepository } from './preference-center.repository.ts';
import type { Locale } from './preference-center.schemas.ts';
import { consentWording, publicOrganization, supportedLocale } from './settings.ts';
import type { HistoryInsert, Origin, SubscriberRepository } from '../subscribers/index.ts';
import { decideStatusChange, historyRow, tagEvent } from '../subscribers/index.ts';
import { confirmationEmail } from './confirmation-email.ts';

/**
 * Double opt-in: the confirmation email, the page's view of a confirmation link, and the confirmation
 * itself. Confirming is the only way a pending or unsubscribed address becomes active from a public flow
 * (bounced and complained ones never do); it records the consent (time, IP, user agent, source and the
 * wording shown).
 */
export function createConfirmations(deps: {
  db: Kysely<DB>;
  links: Links;
  preferenceRepository: PreferenceCenterRepository;
  subscriberRepository: SubscriberRepository;
  mailer: SystemMailer;
}) {
  const { db, links, preferenceRepository: repo, subscriberRepository: subscribers } = deps;

  return {
    /** Sends the confirmation email. Call after any transaction has committed: this is a network call. */
    async send(input: { organization: OrganizationProfile; subscriber: { id: string; email: string; first_name: string | null }; source: ConfirmSource; tagIds: string[]; locale?: Locale }) {
      const { organization, subscriber } = input;
      const locale = input.locale ?? supportedLocale(organization.locale);
      const { url } = links.confirmation(organization.id, subscriber.id, { source: input.source, tagIds: input.tagIds });
      const message = confirmationEmail({ locale, organizationName: organization.name, firstName: subscriber.first_name, url });
      await deps.mailer.send(organization, subscriber.email, message, 'confirmation');
    },

    /** What the confirmation page shows before the click: who asks, for which topics, in which words. */
    async info(token: string) {
      const { claims, tagIds } = links.verifyConfirmation(token);
      const view = await repo.view(claims.organizationId, claims.subjectId);
      if (!view) throw invalidToken();
      const topics = tagIds.length > 0
        ? (await repo.findPublicTagsByIds(db, claims.organizationId, tagIds)).map((tag) => tag.name)
        : view.tags.filter((tag) => tag.is_subscribed).map((tag) => tag.name);
      return {
        organization: publicOrganization(view.organization),
        email: view.email,
        status: view.status,
        topics: topics.sort((a, b) => a.localeCompare(b)),
        consent: consentWording(view.organization),
      };
    },

    /**
     * Confirms: the subscriber becomes active and gets the requested topics. A link works once, and never
     * changes a bounced or complained address or one that unsubscribed after the link was sent (the
     * status rule in subscribers/status-rule.ts).
     */
    async confirm(token: string, locale: Locale | undefined, origin: Omit<Origin, 'source'>) {
      const { claims, source, tagIds, linkId, issuedAt } = links.verifyConfirmation(token);
      const { organizationId, subjectId: id } = claims;
      const consentOrigin: Origin = { ...origin, source };
      await db.transaction().execute(async (trx) => {
        const subscriber = await subscribers.lock(trx, organizationId, id);
        if (!subscriber) throw invalidToken();
        if (!(await repo.useConfirmationLink(trx, organizationId, id, linkId))) {
          throw new AppError(409, 'link_used', 'This confirmation link has already been used');
        }
        const decision = decideStatusChange(subscriber, { channel: 'confirmation', to: 'active', linkIssuedAt: issuedAt });
        if (decision.kind === 'refused') throw new AppError(409, 'confirmation_refused', 'This link can no longer confirm a subscription for this address');
        const organization = (await repo.organizationById(organizationId, trx))!;
        const tags = await repo.findPublicTagsByIds(trx, organizationId, tagIds);
        const changed = await subscribers.subscribeTags(trx, organizationId, tags.map((tag) => ({ subscriberId: id, tagId: tag.id })), source);
        const changedTags = tags.filter((tag) => changed.some((c) => c.tag_id === tag.id));
        const activates = decision.kind === 'change';
        if (!activates && changedTags.length === 0) return;

        const shownIn = locale ?? supportedLocale(organization.locale);
        const history: HistoryInsert[] = [historyRow(id, 'confirmed', consentOrigin, null, {
          from: subscriber.status, to: 'active', via: 'double_opt_in', locale: shownIn,
          wording: consentWording(organization)[shownIn], tags: changedTags.map((tag) => tag.slug),
        })];
        const events: OutboxEvent[] = [];
        if (activates) {
          await subscribers.update(trx, organizationId, id, { status: 'active' });
          history.push(historyRow(id, 'status_changed', consentOrigin, null, decision.details));
          events.push({ type: 'subscriber.updated', subjectId: id, payload: { subscriber: { id, email: subscriber.email, status: 'active' }, changed_fields: ['status'], source } });
          events.push({ type: 'subscriber.confirmed', subjectId: id, payload: { subscriber: { id, email: subscriber.email }, source } });
        }
        for (const tag of changedTags) {
          history.push(historyRow(id, 'tag_subscribed', consentOrigin, tag.id));
          events.push(tagEvent('tag.subscribed', subscriber, tag, source));
        }
        await subscribers.insertHistory(trx, organizationId, history);
        await insertEvents(trx, organizationId, events);
      });
      return { status: 'active' as const, preferences_url: links.preference(organizationId, id).url };
    },
  };
}

export type Confirmations = ReturnType<typeof createConfirmations>;
