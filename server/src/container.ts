import type { Config } from './config/index.ts';
import { createDb, createPool } from './db/client.ts';
import { createLogger, type Logger } from './logger.ts';
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
import { createDevMailbox, createDevMailboxProvider } from './modules/email/dev-mailbox.ts';
import type { EmailProvider } from './modules/email/provider.ts';

/**
 * The composition root: config → db → redis → providers → module services. Every entry point and every
 * test builds the application through this one function, so nothing reads process.env or keeps a
 * module-level singleton elsewhere.
 */
export function createContainer(config: Readonly<Config>, options: { processName: string; logger?: Logger }) {
  const logger = options.logger ?? createLogger(config, options.processName);
  const pool = createPool(config.DATABASE_URL, config.DATABASE_POOL_MAX);
  pool.on('error', (error) => logger.error({ err: error }, 'idle PostgreSQL client failed'));
  const db = createDb(pool);
  const redis = createRedis(config.REDIS_URL);
  redis.on('error', (error) => logger.warn({ err: error }, 'Redis connection error'));

  const organizationRepository = createOrganizationRepository(db);
  const apiKeyRepository = createApiKeyRepository(db);
  const tagRepository = createTagRepository(db);
  const subscriberRepository = createSubscriberRepository(db);
  const auditLog = createAuditLog(db, logger);

  const apiKeyCache = createAuthCache<ApiKeyAuth>({ redis, channel: `${config.REDIS_PREFIX}:auth-invalidate`, logger, ttlMs: 30_000, maxEntries: 10_000 });
  const apiKeys = createApiKeyService({ db, apiKeyRepository, logger, cache: apiKeyCache });
  const organizations = createOrganizationService({ db, organizationRepository, apiKeys });
  const tags = createTagService({ db, tagRepository });
  const subscribers = createSubscriberService({ db, subscriberRepository, tagRepository });
  const tokens = createTokenSigner(config.TOKEN_SECRETS);
  const devMailbox = createDevMailbox(db);
  // The email engine chooses Resend or SMTP from the configuration; without one, mail stays local.
  const emailProvider: EmailProvider = createDevMailboxProvider(devMailbox);
  const idempotency = createIdempotencyStore(redis, `${config.REDIS_PREFIX}:idem:`, config.IDEMPOTENCY_TTL_SECONDS);

  let closed = false;
  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    await apiKeyCache.close();
    await Promise.allSettled([db.destroy(), redis.quit()]);
  }

  return {
    config,
    logger,
    db,
    redis,
    auditLog,
    idempotency,
    tokens,
    devMailbox,
    emailProvider,
    services: { apiKeys, organizations, tags, subscribers },
    close,
  };
}

export type Container = ReturnType<typeof createContainer>;
