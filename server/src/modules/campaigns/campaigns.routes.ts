import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { requireAuth } from '../auth/index.ts';
import { authErrors, ErrorResponse, IdParams, NoContent } from '../common.schemas.ts';
import {
  AbTestResults,
  Campaign,
  ChooseWinnerBody,
  CampaignPage,
  CreateCampaignBody,
  ListCampaignsQuery,
  Progress,
  RecipientCount,
  RecipientPage,
  RecipientsQuery,
  RetryResult,
  SendBody,
  Stats,
  TestBody,
  TestResult,
  UpdateCampaignBody,
} from './campaigns.schemas.ts';
import type { CampaignService } from './campaigns.service.ts';

const errors = { 404: ErrorResponse, 409: ErrorResponse, ...authErrors };
const tags = ['campaigns'];
const read = { access: { scope: 'campaigns:read' as const } };
const write = { access: { scope: 'campaigns:write' as const } };

export const campaignRoutes: FastifyPluginAsyncTypebox<{ campaigns: CampaignService }> = async (app, { campaigns }) => {
  const org = (request: Parameters<typeof requireAuth>[0]) => requireAuth(request).organizationId;

  app.get(
    '/campaigns',
    {
      schema: {
        tags,
        operationId: 'listCampaigns',
        summary: 'List campaigns, newest first',
        querystring: ListCampaignsQuery,
        response: { 200: CampaignPage, ...authErrors },
      },
      config: read,
    },
    async (request) => campaigns.list(org(request), request.query),
  );

  app.post(
    '/campaigns',
    {
      schema: {
        tags,
        operationId: 'createCampaign',
        summary: 'Create a draft campaign',
        description: "The audience is a tag_filter (tags by id or slug) or a segment_id; tags and segment must be the organization's.",
        body: CreateCampaignBody,
        response: { 201: Campaign, ...errors },
      },
      config: { ...write, idempotent: true },
    },
    async (request, reply) => {
      const body = request.body;
      const created = await campaigns.create(org(request), {
        name: body.name,
        template_id: body.template_id ?? null,
        segment_id: body.segment_id ?? null,
        tag_filter: body.segment_id ? null : (body.tag_filter ?? null),
        subject: body.subject ?? null,
        preheader: body.preheader ?? null,
        from_name: body.from_name ?? null,
        reply_to: body.reply_to ?? null,
        tracking: body.tracking ?? true,
        ab_test: body.ab_test ?? null,
      });
      return reply.code(201).send(created);
    },
  );

  app.get(
    '/campaigns/:id',
    {
      schema: { tags, operationId: 'getCampaign', summary: 'Get a campaign', params: IdParams, response: { 200: Campaign, ...errors } },
      config: read,
    },
    async (request) => campaigns.get(org(request), request.params.id),
  );

  app.patch(
    '/campaigns/:id',
    {
      schema: {
        tags,
        operationId: 'updateCampaign',
        summary: 'Change a draft or scheduled campaign',
        params: IdParams,
        body: UpdateCampaignBody,
        response: { 200: Campaign, ...errors },
      },
      config: write,
    },
    async (request) => campaigns.update(org(request), request.params.id, request.body),
  );

  app.delete(
    '/campaigns/:id',
    {
      schema: {
        tags,
        operationId: 'deleteCampaign',
        summary: 'Delete a draft or scheduled campaign',
        params: IdParams,
        response: { 204: NoContent, ...errors },
      },
      config: write,
    },
    async (request, reply) => {
      await campaigns.remove(org(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/campaigns/:id/send',
    {
      schema: {
        tags,
        operationId: 'sendCampaign',
        summary: 'Send a campaign now or at a time',
        description:
          "Checks template, postal address, audience and the month's quota for the whole audience first (402 naming both numbers); then the campaign is scheduled and starts when due.",
        params: IdParams,
        body: SendBody,
        response: { 200: Campaign, 402: ErrorResponse, ...errors },
      },
      config: { ...write, idempotent: true },
    },
    async (request) => campaigns.send(org(request), request.params.id, request.body ?? {}),
  );

  for (const [action, summary, operationId] of [
    ['pause', 'Pause a sending campaign (in-flight emails finish)', 'pauseCampaign'],
    ['resume', 'Resume a paused campaign where it stopped', 'resumeCampaign'],
    ['cancel', 'Cancel a scheduled, sending or paused campaign; unsent recipients become cancelled', 'cancelCampaign'],
    ['duplicate', 'Copy a campaign into a new draft', 'duplicateCampaign'],
  ] as const) {
    app.post(
      `/campaigns/:id/${action}`,
      {
        schema: { tags, operationId, summary, params: IdParams, response: { [action === 'duplicate' ? 201 : 200]: Campaign, ...errors } },
        config: write,
      },
      async (request, reply) => {
        const result = await campaigns[action](org(request), request.params.id);
        return reply.code(action === 'duplicate' ? 201 : 200).send(result as never);
      },
    );
  }

  app.post(
    '/campaigns/:id/retry',
    {
      schema: {
        tags,
        operationId: 'retryCampaign',
        summary: 'Send again to the recipients whose email failed',
        description: 'Only failed recipients whose email the provider never accepted; with none, a 200 that changes nothing.',
        params: IdParams,
        response: { 200: RetryResult, ...errors },
      },
      config: write,
    },
    async (request) => campaigns.retry(org(request), request.params.id),
  );

  app.post(
    '/campaigns/:id/test',
    {
      schema: {
        tags,
        operationId: 'testCampaign',
        summary: "Send the campaign's email to up to five addresses, rendered for a sample subscriber",
        description: "Not part of the campaign: no recipient is recorded and no stats change. Counts against the month's quota.",
        params: IdParams,
        body: TestBody,
        response: { 202: TestResult, 402: ErrorResponse, ...errors },
      },
      config: { ...write, idempotent: true },
    },
    async (request, reply) => reply.code(202).send(await campaigns.test(org(request), request.params.id, request.body.emails)),
  );

  app.get(
    '/campaigns/:id/recipient-count',
    {
      schema: {
        tags,
        operationId: 'countCampaignRecipients',
        summary: 'How many subscribers the campaign would go to now, and who is left out and why',
        params: IdParams,
        response: { 200: RecipientCount, 503: ErrorResponse, ...errors },
      },
      config: read,
    },
    async (request) => campaigns.recipientCount(org(request), request.params.id),
  );

  app.get(
    '/campaigns/:id/progress',
    {
      schema: {
        tags,
        operationId: 'getCampaignProgress',
        summary: 'Recipients by state, live while sending',
        params: IdParams,
        response: { 200: Progress, ...errors },
      },
      config: read,
    },
    async (request) => campaigns.progress(org(request), request.params.id),
  );

  app.get(
    '/campaigns/:id/stats',
    {
      schema: {
        tags,
        operationId: 'getCampaignStats',
        summary: 'Sent, delivered, bounced, complained, unsubscribed and more',
        params: IdParams,
        response: { 200: Stats, ...errors },
      },
      config: read,
    },
    async (request) => campaigns.stats(org(request), request.params.id),
  );

  app.get(
    '/campaigns/:id/recipients',
    {
      schema: {
        tags,
        operationId: 'listCampaignRecipients',
        summary: 'The per-recipient ledger, in subscriber order',
        params: IdParams,
        querystring: RecipientsQuery,
        response: { 200: RecipientPage, ...errors },
      },
      config: read,
    },
    async (request) => campaigns.recipients(org(request), request.params.id, request.query),
  );

  app.get(
    '/campaigns/:id/ab-test',
    {
      schema: {
        tags,
        operationId: 'getCampaignAbTest',
        summary: "An A/B test's results per variant and its winner",
        description:
          'Per variant: recipients, sent, delivered, unique human and machine opens and clicks, and the human rates. 404 when the campaign has no A/B test.',
        params: IdParams,
        response: { 200: AbTestResults, ...errors },
      },
      config: read,
    },
    async (request) => campaigns.abTest(org(request), request.params.id),
  );

  app.post(
    '/campaigns/:id/ab-test/winner',
    {
      schema: {
        tags,
        operationId: 'chooseCampaignAbTestWinner',
        summary: "Choose an A/B test's winner and send it to the rest",
        description: 'Allowed while the campaign is sending or paused and no winner was chosen (also before an automatic winner is due). 409 once chosen.',
        params: IdParams,
        body: ChooseWinnerBody,
        response: { 200: AbTestResults, ...errors },
      },
      config: write,
    },
    async (request) => campaigns.chooseWinner(org(request), request.params.id, request.body.variant, 'manual'),
  );
};
