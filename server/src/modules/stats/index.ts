import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import type { Config } from '../../config/index.ts';
import type { Entitlements } from '../entitlements/index.ts';
import type { DB } from '../../db/types.ts';
import { defineModule, mount } from '../module.ts';
import { createStatsRepository } from './stats.repository.ts';
import { statsRoutes } from './stats.routes.ts';
import { createStatsService, type CountsCache } from './stats.service.ts';

/**
 * Aggregates for the admin dashboard, computed in the database so the dashboard never pages through
 * subscribers to count them. Counts of large organizations are cached in Redis for a short while.
 */
export function createStatsModule(deps: { db: Kysely<DB>; redis: Redis; config: Pick<Config, 'REDIS_PREFIX'>; entitlements: Pick<Entitlements, 'limits'> }) {
  const { redis, config } = deps;
  const key = (organizationId: string) => `${config.REDIS_PREFIX}:stats:counts:${organizationId}`;
  // Only a cache: with Redis unreachable the counts are computed (slower, but the dashboard keeps working).
  const cache: CountsCache = {
    get: async (organizationId) => {
      const value = await redis.get(key(organizationId)).catch(() => null);
      return value ? JSON.parse(value) : null;
    },
    set: async (organizationId, counts, ttlSeconds) => {
      await redis.set(key(organizationId), JSON.stringify(counts), 'EX', ttlSeconds).catch(() => undefined);
    },
  };
  const stats = createStatsService({ statsRepository: createStatsRepository(deps.db), cache, entitlements: deps.entitlements });
  return defineModule({ name: 'stats', services: { stats }, routes: mount(statsRoutes, { stats }) });
}
