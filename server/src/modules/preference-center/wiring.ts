import type { Kysely } from 'kysely';
import type { Config } from '../../config/index.ts';
import type { DB } from '../../db/types.ts';
import type { TokenSigner } from '../../lib/tokens.ts';
import type { Logger } from '../../logger.ts';
import type { RedisClient } from '../../redis.ts';
import type { EmailProvider } from '../email/provider.ts';
import { createConfirmations } from '../public-subscribe/confirmations.ts';
import { createPublicSubscribeService } from '../public-subscribe/public-subscribe.service.ts';
import type { SubscriberRepository } from '../subscribers/subscribers.repository.ts';
import type { SubscriberService } from '../subscribers/subscribers.service.ts';
import { createAddressLimiter } from './address-limit.ts';
import { createLinks } from './links.ts';
import { createPreferenceCenterRepository } from './preference-center.repository.ts';
import { createPreferenceCenterService } from './preference-center.service.ts';
import { createPreferenceSettingsService } from './settings.service.ts';

/** The preference center and the public subscribe flows, built from the composition root's parts. */
export function createPreferenceModules(deps: {
  config: Readonly<Config>;
  db: Kysely<DB>;
  redis: RedisClient;
  logger: Logger;
  tokens: TokenSigner;
  emailProvider: EmailProvider;
  subscriberRepository: SubscriberRepository;
  subscribers: SubscriberService;
}) {
  const { config, db, logger, emailProvider, subscriberRepository, subscribers } = deps;
  const repository = createPreferenceCenterRepository(db);
  const links = createLinks({ tokens: deps.tokens, secrets: config.TOKEN_SECRETS, preferencesAppUrl: config.PREFERENCES_APP_URL });
  const addressLimiter = createAddressLimiter(deps.redis, config.REDIS_PREFIX, config.PUBLIC_EMAILS_PER_ADDRESS_PER_HOUR);
  const confirmations = createConfirmations({ db, links, preferenceRepository: repository, subscriberRepository, emailProvider, publicApiUrl: config.PUBLIC_API_URL });
  return {
    links,
    repository,
    confirmations,
    preferenceCenter: createPreferenceCenterService({
      db, links, repository, subscriberRepository, subscribers, confirmations, emailProvider, addressLimiter, publicApiUrl: config.PUBLIC_API_URL, logger,
    }),
    settings: createPreferenceSettingsService({ repository }),
    publicSubscribe: createPublicSubscribeService({ db, repository, subscriberRepository, subscribers, confirmations, addressLimiter, logger }),
  };
}

export type PreferenceModules = ReturnType<typeof createPreferenceModules>;
