import type { Kysely } from 'kysely';
import type pg from 'pg';
import type { Config } from '../../config/index.ts';
import type { DB } from '../../db/types.ts';
import type { TokenSigner } from '../../lib/tokens.ts';
import type { RedisClient } from '../../redis.ts';
import type { EmailProvider } from '../email/provider.ts';
import type { BackgroundTasks } from '../platform/background.ts';
import { createConfirmations } from '../public-subscribe/confirmations.ts';
import { createPublicSubscribeService } from '../public-subscribe/public-subscribe.service.ts';
import type { SubscriberRepository } from '../subscribers/subscribers.repository.ts';
import type { SubscriberService } from '../subscribers/subscribers.service.ts';
import { createAddressLimiter } from './address-limit.ts';
import { createThrottle } from '../../lib/throttle.ts';
import { createLinks } from './links.ts';
import { createSystemMailer } from './mailer.ts';
import { createPreferenceCenterRepository } from './preference-center.repository.ts';
import { createPreferenceCenterService } from './preference-center.service.ts';
import { createPreferenceSettingsService } from './settings.service.ts';

/** The preference center and the public subscribe flows, built from the composition root's parts. */
export function createPreferenceModules(deps: {
  config: Readonly<Config>;
  db: Kysely<DB>;
  /** The pool under `db`, for the one named prepared statement (see the repository's view). */
  pool: pg.Pool;
  redis: RedisClient;
  tokens: TokenSigner;
  emailProvider: EmailProvider;
  /** The email engine's verified sending domains of an organization (null when no domain check is possible). */
  verifiedDomains: (organizationId: string) => Promise<string[] | null>;
  background: BackgroundTasks;
  subscriberRepository: SubscriberRepository;
  subscribers: SubscriberService;
}) {
  const { config, db, background, subscriberRepository, subscribers } = deps;
  const mailer = createSystemMailer({ emailProvider: deps.emailProvider, defaultFrom: config.EMAIL_DEFAULT_FROM, verifiedDomains: deps.verifiedDomains });
  const repository = createPreferenceCenterRepository(db, deps.pool);
  const links = createLinks({ tokens: deps.tokens, secrets: config.TOKEN_SECRETS, preferencesAppUrl: config.PREFERENCES_APP_URL });
  const addressLimiter = createAddressLimiter(createThrottle(deps.redis, config.REDIS_PREFIX), config.PUBLIC_EMAILS_PER_ADDRESS_PER_HOUR);
  const confirmations = createConfirmations({ db, links, preferenceRepository: repository, subscriberRepository, mailer });
  return {
    links,
    repository,
    confirmations,
    preferenceCenter: createPreferenceCenterService({
      db, links, repository, subscriberRepository, subscribers, confirmations, mailer, background, addressLimiter,
    }),
    settings: createPreferenceSettingsService({ repository }),
    publicSubscribe: createPublicSubscribeService({ db, repository, subscriberRepository, subscribers, confirmations, background, addressLimiter }),
  };
}

export type PreferenceModules = ReturnType<typeof createPreferenceModules>;
