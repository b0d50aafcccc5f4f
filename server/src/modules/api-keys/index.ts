import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import type { Config } from '../../config/index.ts';
import type { DB } from '../../db/types.ts';
import type { Logger } from '../../logger.ts';
import { defineModule, mount } from '../module.ts';
import { createApiKeyRepository } from './api-keys.repository.ts';
import { apiKeyRoutes } from './api-keys.routes.ts';
import { createApiKeyService, type ApiKeyAuth } from './api-keys.service.ts';
import { createAuthCache } from './auth-cache.ts';

export { SCOPES, isScope, type Scope } from './scopes.ts';
export type { ApiKeyAuth, ApiKeyService, NewApiKey } from './api-keys.service.ts';

/**
 * API keys: created with scopes and shown once, stored as SHA-256 hashes, authenticated from a
 * per-process cache that revocations clear in every API process through Redis.
 */
export function createApiKeysModule(deps: { db: Kysely<DB>; redis: Redis; logger: Logger; config: Pick<Config, 'REDIS_PREFIX'> }) {
  const cache = createAuthCache<ApiKeyAuth>({
    redis: deps.redis,
    channel: `${deps.config.REDIS_PREFIX}:auth-invalidate`,
    logger: deps.logger,
    ttlMs: 30_000,
    maxEntries: 10_000,
  });
  const apiKeys = createApiKeyService({ db: deps.db, apiKeyRepository: createApiKeyRepository(deps.db), logger: deps.logger, cache });
  return defineModule({
    name: 'api-keys',
    services: { apiKeys },
    routes: mount(apiKeyRoutes, { apiKeys }),
    close: () => cache.close(),
  });
}
