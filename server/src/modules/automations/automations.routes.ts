import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { isTestKey, requireAuth } from '../auth/index.ts';
import { authErrors, Cursor, ErrorResponse, IdParams, Limit, NoContent } from '../common.schemas.ts';
import {
  CreateTriggerBody,
  CustomEventBody,
  CustomEventResult,
  ListTriggersQuery,
  RunTimeline,
  StepCounts,
  StepCountsQuery,
  Trigger,
  TriggerPage,
  UpdateTriggerBody,
} from './automations.schemas.ts';
import type { AutomationService } from './automations.service.ts';

const errors = { 404: ErrorResponse, 409: ErrorResponse, ...authErrors };
const tags = ['automations'];
const read = { access: { scope: 'triggers:read' as const } };
const write = { access: { scope: 'triggers:write' as const } };

export const automationRoutes: FastifyPluginAsyncTypebox<{ automations: AutomationService }> = async (app, { automations }) => {
  const org = (request: Parameters<typeof requireAuth>[0]) => requireAuth(request).organizationId;

  app.get(
    '/triggers',
    {
      schema: {
        tags,
        operationId: 'listTriggers',
        summary: 'List automations, newest first',
        querystring: ListTriggersQuery,
        response: { 200: TriggerPage, ...authErrors },
      },
      config: read,
    },
    async (request) => automations.list(org(request), request.query),
  );

  app.post(
    '/triggers',
    {
      schema: {
        tags,
        operationId: 'createTrigger',
        summary: 'Create an automation',
        description:
          'The single-step form `{ name, event, template_id, delay_seconds?, conditions?, is_active }` sends one template after a delay; `steps` gives a sequence instead (send_email, delay, wait_for_event, condition, add_tag, remove_tag, exit).',
        body: CreateTriggerBody,
        response: { 201: Trigger, ...errors },
      },
      config: { ...write, idempotent: true },
    },
    async (request, reply) => reply.code(201).send(await automations.create(org(request), request.body)),
  );

  app.get(
    '/triggers/:id',
    {
      schema: { tags, operationId: 'getTrigger', summary: 'Get an automation', params: IdParams, response: { 200: Trigger, ...errors } },
      config: read,
    },
    async (request) => automations.get(org(request), request.params.id),
  );

  app.patch(
    '/triggers/:id',
    {
      schema: {
        tags,
        operationId: 'updateTrigger',
        summary: 'Change an automation',
        description: 'Changing steps, event, tag or conditions makes a new version: new entries run it, runs in flight finish on theirs.',
        params: IdParams,
        body: UpdateTriggerBody,
        response: { 200: Trigger, ...errors },
      },
      config: write,
    },
    async (request) => automations.update(org(request), request.params.id, request.body),
  );

  app.delete(
    '/triggers/:id',
    {
      schema: { tags, operationId: 'deleteTrigger', summary: 'Delete an automation and its runs', params: IdParams, response: { 204: NoContent, ...errors } },
      config: write,
    },
    async (request, reply) => {
      await automations.remove(org(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  for (const [action, summary, operationId] of [
    ['activate', 'Activate an automation: subscribers enter it from now on, paused runs go on', 'activateTrigger'],
    ['pause', 'Pause an automation: nobody enters, runs in flight wait where they are', 'pauseTrigger'],
  ] as const) {
    app.post(
      `/triggers/:id/${action}`,
      {
        schema: { tags, operationId, summary, params: IdParams, response: { 200: Trigger, ...errors } },
        config: write,
      },
      async (request) => automations.setActive(org(request), request.params.id, action === 'activate'),
    );
  }

  app.get(
    '/triggers/:id/steps',
    {
      schema: {
        tags,
        operationId: 'getTriggerStepCounts',
        summary: 'Runs by state and, per step, how many entered, wait, completed and exited (with reasons)',
        params: IdParams,
        querystring: StepCountsQuery,
        response: { 200: StepCounts, ...errors },
      },
      config: read,
    },
    async (request) => automations.stepCounts(org(request), request.params.id, request.query.version),
  );

  app.get(
    '/subscribers/:id/automation-runs',
    {
      schema: {
        tags,
        operationId: 'listSubscriberAutomationRuns',
        summary: "A subscriber's automation runs with their steps, newest first",
        params: IdParams,
        querystring: Type.Object({ limit: Type.Optional(Limit), cursor: Type.Optional(Cursor) }, { additionalProperties: false }),
        response: { 200: RunTimeline, ...errors },
      },
      config: read,
    },
    async (request) => automations.timeline(org(request), request.params.id, request.query),
  );

  app.post(
    '/events',
    {
      schema: {
        tags,
        operationId: 'recordEvent',
        summary: 'Report a custom event of a subscriber (starts or resumes automations)',
        description:
          'Names the subscriber by subscriber_id or email. `data` is at most 8 KB of JSON. With an idempotency_key, a repeated event is recognized (duplicate: true) and starts nothing.',
        body: CustomEventBody,
        response: { 202: CustomEventResult, ...errors },
      },
      config: { access: { scope: 'events:write' as const } },
    },
    async (request, reply) => reply.code(202).send(await automations.recordEvent(org(request), request.body, { test: isTestKey(request) })),
  );
};
