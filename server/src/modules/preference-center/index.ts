import type { Kysely } from 'kysely';
import type pg from 'pg';
import type { Config } from '../../config/index.ts';
import type { DB } from '../../db/types.ts';
import type { TokenSigner } from '../../lib/tokens.ts';
import type { RedisClient } from '../../redis.ts';
import type { SystemMailer } from '../email/index.ts';
import type { BackgroundTasks } from '../../lib/background.ts';
import { createConfirmations } from './confirmations.ts';
import { createPublicSubscribeService } from './public-subscribe.service.ts';
import type { SubscriberRepository, SubscriberService } from '../subscribers/index.ts';
import { defineModule, mount } from '../module.ts';
import { preferenceCenterRoutes } from './preference-center.routes.ts';
import { publicSubscribeRoutes } from './public-subscribe.routes.ts';
import { preferenceSettingsRoutes } from './settings.routes.ts';
import { registerPreferenceSite } from './site.ts';
import { createAddressLimiter } from './address-limit.ts';
import { createThrottle } from '../../lib/throttle.ts';
import { CONFIRM_TOKEN_TTL_SECONDS, createLinks } from './links.ts';
import { createPreferenceCenterRepository } from './preference-center.repository.ts';
import { createPreferenceCenterService } from './preference-center.service.ts';
import { createPreferenceSettingsService } from './settings.service.ts';

/**
 * The preference center (the subscriber's own page, reached with a signed link), its settings, the
 * public subscribe form with double opt-in, and the single-box server for the preference SPA.
 */
export function createPreferenceCenterModule(deps: {
  config: Readonly<Config>;
  db: Kysely<DB>;
  /** The pool under `db`, for the one named prepared statement (see the repository's view). */
  pool: pg.Pool;
  redis: RedisClient;
  tokens: TokenSigner;
  /** The email engine's path for system mail: suppression-checked, from the organization's sender. */
  mailer: SystemMailer;
  background: BackgroundTasks;
  subscriberRepository: SubscriberRepository;
  subscribers: SubscriberService;
  /** The body of an email stored without one (campaign emails render at send time), rendered as sent. */
  messageBody: (organizationId: string, messageId: string) => Promise<{ text: string } | undefined>;
}) {
  const { config, db, background, subscriberRepository, subscribers } = deps;
  const { mailer } = deps;
  const repository = createPreferenceCenterRepository(db, deps.pool);
  const links = createLinks({ tokens: deps.tokens, secrets: config.TOKEN_SECRETS, preferencesAppUrl: config.PREFERENCES_APP_URL });
  const addressLimiter = createAddressLimiter(createThrottle(deps.redis, config.REDIS_PREFIX), config.PUBLIC_EMAILS_PER_ADDRESS_PER_HOUR);
  const confirmations = createConfirmations({ db, links, preferenceRepository: repository, subscriberRepository, mailer });
  const preferenceCenter = createPreferenceCenterService({
    db,
    links,
    repository,
    subscriberRepository,
    subscribers,
    confirmations,
    mailer,
    background,
    addressLimiter,
    messageBody: deps.messageBody,
  });
  const settings = createPreferenceSettingsService({ repository });
  const publicSubscribe = createPublicSubscribeService({ db, repository, subscriberRepository, subscribers, confirmations, background, addressLimiter });
  return defineModule({
    name: 'preference-center',
    services: { links, repository, confirmations, preferenceCenter, settings, publicSubscribe },
    routes: async (app) => {
      await app.register(mount(preferenceCenterRoutes, { config, service: preferenceCenter, links }));
      await app.register(mount(preferenceSettingsRoutes, { settings, preferenceCenter }));
      await app.register(mount(publicSubscribeRoutes, { config, service: publicSubscribe, confirmations }));
    },
    rootRoutes: (app) => registerPreferenceSite(app, { config, links, repository }),
    // A used confirmation link is remembered until it would have expired anyway (a day of margin).
    retention: [{ name: 'used-confirmation-links', days: CONFIRM_TOKEN_TTL_SECONDS / 86_400 + 1, run: repository.deleteUsedConfirmationLinksBefore }],
  });
}

export type PreferenceCenterModule = ReturnType<typeof createPreferenceCenterModule>;
