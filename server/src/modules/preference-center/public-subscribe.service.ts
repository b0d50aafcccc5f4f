import type { Kysely } from 'kysely';
import type { DB } from '../../db/types.ts';
import { AppError, forbidden, notFound, unprocessable } from '../../lib/errors.ts';
import type { BackgroundTasks } from '../../lib/background.ts';
import type { AddressLimiter } from './address-limit.ts';
import type { OrganizationProfile, PreferenceCenterRepository } from './preference-center.repository.ts';
import type { Locale } from './preference-center.schemas.ts';
import { readSettings } from './settings.ts';
import type { Origin, SubscriberRepository, SubscriberRow } from '../subscribers/index.ts';
import { historyRow, type SubscriberService } from '../subscribers/index.ts';
import type { Confirmations } from './confirmations.ts';

const ORIGIN_CACHE_MS = 30_000;
const ORIGIN_CACHE_MAX = 1000;

export interface SubscribeInput {
  email: string;
  first_name?: string;
  tags?: string[];
  locale?: Locale;
  consent_text?: string;
  website?: string;
}

/**
 * Sign-ups from website forms. With double opt-in (the default) a new address is created `pending` and
 * gets a confirmation email; an existing address is never changed by a form: it gets a confirmation
 * email carrying the requested topics instead, so an unsubscribed or bounced address comes back only by
 * its owner's click. Without double opt-in, new addresses start active and active ones gain the topics.
 */
export function createPublicSubscribeService(deps: {
  db: Kysely<DB>;
  repository: PreferenceCenterRepository;
  subscriberRepository: SubscriberRepository;
  subscribers: Pick<SubscriberService, 'create' | 'addTags'>;
  confirmations: Pick<Confirmations, 'send'>;
  background: BackgroundTasks;
  addressLimiter: AddressLimiter;
}) {
  const { db, repository: repo, subscriberRepository } = deps;
  const originCache = new Map<string, { origins: string[]; until: number }>();

  function sendConfirmationLater(organization: OrganizationProfile, subscriber: SubscriberRow, tagIds: string[], locale: Locale | undefined) {
    // After the response, so known and unknown addresses answer alike and as fast.
    deps.background.run('confirmation email', () => deps.confirmations.send({ organization, subscriber, source: 'form', tagIds, locale }));
  }

  return {
    /**
     * Origins allowed to post the organization's form, for CORS headers. Cached for 30 seconds so
     * preflights and rejected requests cost no query; the subscribe call itself checks fresh settings.
     */
    async formOrigins(slug: string): Promise<string[]> {
      const cached = originCache.get(slug);
      if (cached && cached.until > Date.now()) return cached.origins;
      const organization = await repo.organizationBySlug(slug);
      const origins = organization ? readSettings(organization.preference_center).form_origins : [];
      if (originCache.size >= ORIGIN_CACHE_MAX) originCache.clear();
      originCache.set(slug, { origins, until: Date.now() + ORIGIN_CACHE_MS });
      return origins;
    },

    async subscribe(slug: string, input: SubscribeInput, context: { from: Omit<Origin, 'source'>; requestOrigin: string | undefined }) {
      const organization = await repo.organizationBySlug(slug);
      if (!organization) throw notFound('organization');
      const settings = readSettings(organization.preference_center);
      if (context.requestOrigin !== undefined && !settings.form_origins.includes(context.requestOrigin.toLowerCase())) {
        throw forbidden('origin_not_allowed', 'This website may not post to the subscribe form; add its origin in the preference-center settings');
      }
      const doubleOptIn = settings.double_opt_in;
      const accepted = {
        status: 'accepted' as const,
        confirmation_required: doubleOptIn,
        message: doubleOptIn ? 'Thanks! Please check your inbox and confirm your subscription.' : 'Thanks for subscribing!',
      };
      // Bots fill every field they see; people never see this one.
      if (input.website) return accepted;

      const slugs = [...new Set(input.tags ?? [])];
      const tags = await repo.findPublicTagsBySlugs(db, organization.id, slugs);
      const missing = slugs.filter((s) => !tags.some((tag) => tag.slug === s));
      if (missing.length > 0) {
        throw unprocessable(
          'unknown_topic',
          'The form names topics that are not public topics of this organization',
          missing.map((s) => ({ field: `tags.${(input.tags ?? []).indexOf(s)}`, message: `"${s}" is not a public topic` })),
        );
      }
      const email = input.email.trim();
      await deps.addressLimiter.hit('confirm', organization.id, email);

      const origin: Origin = { ...context.from, source: 'form' };
      const requestDetails = { double_opt_in: doubleOptIn, tags: slugs, consent_text: input.consent_text ?? null, page_origin: context.requestOrigin ?? null };
      let subscriber = await subscriberRepository.findByEmail(organization.id, email);
      let created = false;
      if (!subscriber) {
        try {
          subscriber = await deps.subscribers.create(
            organization.id,
            {
              email,
              first_name: input.first_name?.trim() || null,
              tags: slugs,
              status: doubleOptIn ? 'pending' : 'active',
              source: 'form',
            },
            origin,
          );
          created = true;
        } catch (error) {
          if (!(error instanceof AppError && error.code === 'subscriber_exists')) throw error;
          subscriber = await subscriberRepository.findByEmail(organization.id, email);
          if (!subscriber) throw error;
        }
      }
      // The form's request is part of the consent record: when, from where, which topics, which words.
      await subscriberRepository.insertHistory(db, organization.id, [historyRow(subscriber.id, 'subscribe_requested', origin, null, requestDetails)]);

      if (created) {
        if (doubleOptIn) sendConfirmationLater(organization, subscriber, [], input.locale);
        return accepted;
      }
      const current = subscriber;
      const newTags = tags.filter((tag) => !current.tags.some((held) => held.id === tag.id));
      if (current.status === 'active' && newTags.length === 0) return accepted;
      if (current.status === 'active' && !doubleOptIn) {
        await deps.subscribers.addTags(
          organization.id,
          current.id,
          newTags.map((tag) => tag.slug),
          origin,
        );
        return accepted;
      }
      sendConfirmationLater(
        organization,
        current,
        newTags.map((tag) => tag.id),
        input.locale,
      );
      return accepted;
    },
  };
}

export type PublicSubscribeService = ReturnType<typeof createPublicSubscribeService>;
