import type { Config } from './config/index.ts';
import { createDb, createPool } from './db/client.ts';
import { createLogger, type Logger } from './logger.ts';
import { noErrorReporter, type ErrorReporter } from './error-reporting.ts';
import { createRedis } from './redis.ts';
import { createApiKeyService, type ApiKeyAuth } from './modules/api-keys/api-keys.service.ts';
import { createAuthCache } from './modules/api-keys/auth-cache.ts';
import { createApiKeyRepository } from './modules/api-keys/api-keys.repository.ts';
import { createOrganizationRepository } from './modules/organizations/organizations.repository.ts';
import { createOrganizationService } from './modules/organizations/organizations.service.ts';
import { createSubscriberRepository } from './modules/subscribers/subscribers.repository.ts';
import { createSubscriberService } from './modules/subscribers/subscribers.service.ts';
import { createTagRepository } from './modules/tags/tags.repository.ts';
import { createTagService } from './modules/tags/tags.service.ts';
import { createAuditLog } from './modules/audit/audit.repository.ts';
import { createIdempotencyStore } from './lib/idempotency.ts';
import { createTokenSigner } from './lib/tokens.ts';
import { createDevMailbox } from './modules/email/dev-mailbox.ts';
import type { EmailProvider } from './modules/email/provider.ts';
import { createEmailEngine } from './modules/email/wiring.ts';
import { createJobProducer } from './jobs/producer.ts';
import { closeConnection, createProducerConnection, createQueues } from './jobs/queues.ts';
import type { EventConsumer } from './jobs/relay.ts';
import { createPreferenceModules } from './modules/preference-center/wiring.ts';
import { createAuthService } from './modules/auth/auth.service.ts';
import { createMagicLinkRepository } from './modules/auth/magic-links.repository.ts';
import { createSessionStore } from './modules/auth/session-store.ts';
import { createThrottle } from './lib/throttle.ts';
import { createUserRepository } from './modules/auth/users.repository.ts';
import { createInvitationRepository } from './modules/invitations/invitations.repository.ts';
import { createInvitationService } from './modules/invitations/invitations.service.ts';
import { createMemberRepository } from './modules/members/members.repository.ts';
import { createMemberService } from './modules/members/members.service.ts';
import { createBackgroundTasks } from './modules/platform/background.ts';
import { createPlatformService } from './modules/platform/platform.service.ts';

/**
 * The composition root: config → db → redis → providers → module services. Every entry point and every
 * test builds the application through this one function, so nothing reads process.env or keeps a
 * module-level singleton elsewhere.
 */
export function createContainer(config: Readonly<Config>, options: { processName: string; logger?: Logger; errors?: ErrorReporter }) {
  const logger = options.logger ?? createLogger(config, options.processName);
  // Sentry when the entry point started it (SENTRY_DSN set), otherwise a reporter that does nothing.
  const errors = options.errors ?? noErrorReporter;
  const pool = createPool(config.DATABASE_URL, config.DATABASE_POOL_MAX);
  pool.on('error', (error) => logger.error({ err: error }, 'idle PostgreSQL client failed'));
  const db = createDb(pool);
  const redis = createRedis(config.REDIS_URL);
  redis.on('error', (error) => logger.warn({ err: error }, 'Redis connection error'));

  const organizationRepository = createOrganizationRepository(db);
  const apiKeyRepository = createApiKeyRepository(db);
  const tagRepository = createTagRepository(db);
  const subscriberRepository = createSubscriberRepository(db, pool);
  const auditLog = createAuditLog(db, logger);
  const userRepository = createUserRepository(db);
  const memberRepository = createMemberRepository(db);
  const invitationRepository = createInvitationRepository(db);
  // Work that runs after a response (login emails, audit entries, purges); drained before shutdown.
  const background = createBackgroundTasks(logger);

  const apiKeyCache = createAuthCache<ApiKeyAuth>({ redis, channel: `${config.REDIS_PREFIX}:auth-invalidate`, logger, ttlMs: 30_000, maxEntries: 10_000 });
  const apiKeys = createApiKeyService({ db, apiKeyRepository, logger, cache: apiKeyCache });
  const tags = createTagService({ db, tagRepository });
  const subscribers = createSubscriberService({ db, subscriberRepository, tagRepository });
  const tokens = createTokenSigner(config.TOKEN_SECRETS);
  const devMailbox = createDevMailbox(db);
  // Jobs go out on their own fail-fast connection (jobs/queues.ts), always after the transaction commits.
  const producerConnection = createProducerConnection(config.REDIS_URL);
  producerConnection.on('error', (error) => logger.warn({ err: error }, 'Redis (job producer) connection error'));
  const queues = createQueues(producerConnection, config.REDIS_PREFIX);
  const jobs = createJobProducer(queues);
  const organizations = createOrganizationService({ db, organizationRepository, apiKeys, background, logger, jobs });
  // Resend, SMTP or, with neither configured, the dev mailbox; plus templates, sending and sending domains.
  const email = createEmailEngine({ config, db, redis, logger, tokens, devMailbox, producer: jobs });
  const emailProvider: EmailProvider = email.emailProvider;
  // Consumers of outbox events (jobs/relay.ts): webhook deliveries and automations register here.
  const eventConsumers: EventConsumer[] = [];
  const idempotency = createIdempotencyStore(redis, `${config.REDIS_PREFIX}:idem:`, config.IDEMPOTENCY_TTL_SECONDS);
  const preferences = createPreferenceModules({
    config, db, pool, redis, tokens, emailProvider, verifiedDomains: email.services.domains.verifiedDomains, background, subscriberRepository, subscribers,
  });
  const sessions = createSessionStore(redis, { prefix: config.REDIS_PREFIX, idleTtlSeconds: config.SESSION_IDLE_TTL_SECONDS, maxAgeSeconds: config.SESSION_MAX_AGE_SECONDS });
  const auth = createAuthService({
    db, config, userRepository, magicLinkRepository: createMagicLinkRepository(db), sessions, throttle: createThrottle(redis, config.REDIS_PREFIX),
    emailProvider, background, auditLog, logger,
  });
  const members = createMemberService({ db, memberRepository });
  const invitations = createInvitationService({ db, config, invitationRepository, memberRepository, organizationRepository, userRepository, emailProvider });
  const platform = createPlatformService({ db, organizationRepository, userRepository, memberRepository, apiKeys });

  let closed = false;
  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    await background.drain();
    await apiKeyCache.close();
    await queues.close();
    await Promise.allSettled([db.destroy(), redis.quit(), closeConnection(producerConnection), emailProvider.close?.(), errors.close()]);
  }

  return {
    config,
    logger,
    errors,
    db,
    redis,
    auditLog,
    idempotency,
    preferences,
    tokens,
    devMailbox,
    emailProvider,
    queues,
    jobs,
    eventConsumers,
    email,
    providerRateLimitPerSecond: email.providerRateLimitPerSecond,
    background,
    sessions,
    userRepository,
    services: { apiKeys, organizations, tags, subscribers, auth, members, invitations, platform, ...email.services },
    close,
  };
}

export type Container = ReturnType<typeof createContainer>;
