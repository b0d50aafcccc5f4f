import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Container } from '../../container.ts';
import { requireAuth } from '../../plugins/auth.ts';
import { authErrors, ErrorResponse } from '../common.schemas.ts';
import { createStatsRepository } from './stats.repository.ts';
import { Growth, GrowthQuery, Overview } from './stats.schemas.ts';
import { createStatsService, type CountsCache } from './stats.service.ts';

/**
 * Aggregates for the admin dashboard, computed in the database so the dashboard never pages through
 * subscribers to count them. Read-only: the module is wired here from the container's database and
 * Redis rather than in the composition root, as nothing else uses it.
 */
export const statsRoutes: FastifyPluginAsyncTypebox<{ container: Container }> = async (app, { container }) => {
  const { redis, config } = container;
  const key = (organizationId: string) => `${config.REDIS_PREFIX}:stats:counts:${organizationId}`;
  const cache: CountsCache = {
    get: async (organizationId) => {
      const value = await redis.get(key(organizationId));
      return value ? JSON.parse(value) : null;
    },
    set: async (organizationId, counts, ttlSeconds) => {
      await redis.set(key(organizationId), JSON.stringify(counts), 'EX', ttlSeconds);
    },
  };
  const stats = createStatsService({ statsRepository: createStatsRepository(container.db), cache });

  app.get('/stats/overview', {
    schema: {
      tags: ['stats'], operationId: 'getStatsOverview', summary: 'Subscribers by status, emails sent this month against the plan limit, latest consent events',
      response: { 200: Overview, 404: ErrorResponse, ...authErrors },
    },
    config: { access: { scope: 'subscribers:read' } },
  }, async (request) => stats.overview(requireAuth(request).organizationId));

  app.get('/stats/growth', {
    schema: {
      tags: ['stats'], operationId: 'getSubscriberGrowth', summary: 'Subscribers created and unsubscribed per day, and the running total',
      querystring: GrowthQuery, response: { 200: Growth, 400: ErrorResponse, ...authErrors },
    },
    config: { access: { scope: 'subscribers:read' } },
  }, async (request) => stats.growth(requireAuth(request).organizationId, request.query.days ?? 30));
};
