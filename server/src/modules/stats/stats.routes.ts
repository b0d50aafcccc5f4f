import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { requireAuth } from '../auth/index.ts';
import { authErrors, ErrorResponse } from '../common.schemas.ts';
import { Growth, GrowthQuery, Overview } from './stats.schemas.ts';
import type { StatsService } from './stats.service.ts';

/** Aggregates for the admin dashboard (routes only; the module's index builds the service). */
export const statsRoutes: FastifyPluginAsyncTypebox<{ stats: StatsService }> = async (app, { stats }) => {
  app.get(
    '/stats/overview',
    {
      schema: {
        tags: ['stats'],
        operationId: 'getStatsOverview',
        summary: 'Subscribers by status, emails sent this month against the plan limit, latest consent events',
        response: { 200: Overview, 404: ErrorResponse, ...authErrors },
      },
      config: { access: { scope: 'subscribers:read' } },
    },
    async (request) => stats.overview(requireAuth(request).organizationId),
  );

  app.get(
    '/stats/growth',
    {
      schema: {
        tags: ['stats'],
        operationId: 'getSubscriberGrowth',
        summary: 'Subscribers created and unsubscribed per day, and the running total',
        querystring: GrowthQuery,
        response: { 200: Growth, 400: ErrorResponse, ...authErrors },
      },
      config: { access: { scope: 'subscribers:read' } },
    },
    async (request) => stats.growth(requireAuth(request).organizationId, request.query.days ?? 30),
  );
};
