import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { requireAuth } from '../auth/index.ts';
import { authErrors, ErrorResponse, IdParams } from '../common.schemas.ts';
import { CampaignAnalytics, Timeseries, TimeseriesQuery } from './analytics.schemas.ts';
import type { AnalyticsService } from './analytics.service.ts';

const read = { access: { scope: 'campaigns:read' as const } };

export const analyticsRoutes: FastifyPluginAsyncTypebox<{ analytics: AnalyticsService }> = async (app, { analytics }) => {
  const org = (request: Parameters<typeof requireAuth>[0]) => requireAuth(request).organizationId;

  app.get('/campaigns/:id/analytics', {
    schema: {
      tags: ['analytics'], operationId: 'getCampaignAnalytics', summary: 'Opens, clicks (human and machine), links, outcomes, rates and warnings of a campaign, over time',
      params: IdParams, response: { 200: CampaignAnalytics, 404: ErrorResponse, ...authErrors },
    },
    config: read,
  }, async (request) => analytics.campaign(org(request), request.params.id));

  app.get('/analytics/timeseries', {
    schema: {
      tags: ['analytics'], operationId: 'getAnalyticsTimeseries', summary: 'One organization metric over time (every bucket present)',
      querystring: TimeseriesQuery, response: { 200: Timeseries, ...authErrors },
    },
    config: read,
  }, async (request) => analytics.timeseries(org(request), request.query));
};
