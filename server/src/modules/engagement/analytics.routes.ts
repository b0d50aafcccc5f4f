import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { requireAuth } from '../auth/index.ts';
import { authErrors, ErrorResponse, IdParams } from '../common.schemas.ts';
import { Campaign } from '../campaigns/index.ts';
import { CampaignAnalytics, ResendBody, Timeseries, TimeseriesQuery } from './analytics.schemas.ts';
import type { AnalyticsService } from './analytics.service.ts';

const read = { access: { scope: 'campaigns:read' as const } };

export const analyticsRoutes: FastifyPluginAsyncTypebox<{ analytics: AnalyticsService }> = async (app, { analytics }) => {
  const org = (request: Parameters<typeof requireAuth>[0]) => requireAuth(request).organizationId;

  app.get(
    '/campaigns/:id/analytics',
    {
      schema: {
        tags: ['analytics'],
        operationId: 'getCampaignAnalytics',
        summary: 'Opens, clicks (human and machine), links, outcomes, rates and warnings of a campaign, over time',
        params: IdParams,
        response: { 200: CampaignAnalytics, 404: ErrorResponse, ...authErrors },
      },
      config: read,
    },
    async (request) => analytics.campaign(org(request), request.params.id),
  );

  app.post(
    '/campaigns/:id/resend',
    {
      schema: {
        tags: ['analytics'],
        operationId: 'resendCampaign',
        summary: 'Create a draft campaign for exactly those who received this one and did not open (or click) it',
        params: IdParams,
        body: ResendBody,
        response: { 201: Campaign, 404: ErrorResponse, 409: ErrorResponse, ...authErrors },
      },
      config: { access: { scope: 'campaigns:write' as const }, idempotent: true },
    },
    async (request, reply) => reply.code(201).send(await analytics.resendTo(org(request), request.params.id, request.body.to)),
  );

  app.get(
    '/analytics/timeseries',
    {
      schema: {
        tags: ['analytics'],
        operationId: 'getAnalyticsTimeseries',
        summary: 'One organization metric over time (every bucket present)',
        querystring: TimeseriesQuery,
        response: { 200: Timeseries, ...authErrors },
      },
      config: read,
    },
    async (request) => analytics.timeseries(org(request), request.query),
  );
};
