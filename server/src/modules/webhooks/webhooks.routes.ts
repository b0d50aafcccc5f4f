import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { requireAuth } from '../auth/index.ts';
import {
  authErrors,
  Cursor,
  ErrorResponse,
  IdParams,
  Limit,
  NextCursor,
  NoContent,
  NullableTimestamp,
  StringEnum,
  Timestamp,
  Uuid,
} from '../common.schemas.ts';
import { eventCatalogueJson } from '../events/index.ts';
import { DELIVERY_STATUSES } from './webhooks.repository.ts';
import type { WebhookService } from './webhooks.service.ts';

const EventTypes = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
  minItems: 1,
  maxItems: 64,
  description: 'Event types from the catalogue (GET /openapi.json, docs: Webhooks), or "*" for every type',
});

const Endpoint = Type.Object(
  {
    id: Uuid,
    url: Type.String(),
    description: Type.String(),
    events: Type.Array(Type.String()),
    enabled: Type.Boolean(),
    legacy_signature: Type.Boolean({ description: 'Also sends X-SubscribeFlow-Signature: sha256=<hex HMAC of the body>' }),
    disabled_reason: Type.Union([Type.String(), Type.Null()], { description: 'Why the endpoint was disabled automatically (410 Gone, failing for days)' }),
    disabled_at: NullableTimestamp,
    failing_since: NullableTimestamp,
    previous_secret_active_until: Type.Union([Timestamp, Type.Null()], { description: 'After a rotation: until when the previous secret also signs' }),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { $id: 'WebhookEndpoint', additionalProperties: false },
);

const Secret = Type.String({ description: 'The signing secret (whsec_…), shown only now; verify deliveries with it' });
const EndpointWithSecret = Type.Object(
  {
    ...Endpoint.properties,
    secret: Secret,
    signing_secret: { ...Secret, description: 'The same secret, under the name some Standard Webhooks SDKs read' },
  },
  { $id: 'WebhookEndpointWithSecret', additionalProperties: false },
);

const CreateBody = Type.Object(
  {
    url: Type.String({ minLength: 8, maxLength: 2048, description: 'http(s) URL the events are posted to' }),
    events: EventTypes,
    description: Type.Optional(Type.String({ maxLength: 500 })),
    enabled: Type.Optional(Type.Boolean()),
    legacy_signature: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const UpdateBody = Type.Object(
  {
    url: Type.Optional(CreateBody.properties.url),
    events: Type.Optional(EventTypes),
    description: Type.Optional(Type.String({ maxLength: 500 })),
    enabled: Type.Optional(Type.Boolean({ description: 'true also clears an automatic disable and its failure count' })),
    legacy_signature: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);

const Delivery = Type.Object(
  {
    id: Uuid,
    endpoint_id: Uuid,
    event_id: Type.String({ description: 'The envelope id and the webhook-id header (the same on every attempt and replay)' }),
    event_type: Type.String(),
    event_created_at: Timestamp,
    replay: Type.Boolean({ description: 'Made by a replay or a test, not by the event itself' }),
    status: StringEnum(DELIVERY_STATUSES, {
      description: 'pending: not tried yet; failed: a retry is scheduled; succeeded: a 2xx answer; dead: no retry left',
    }),
    attempts: Type.Integer(),
    next_attempt_at: NullableTimestamp,
    last_status_code: Type.Union([Type.Integer(), Type.Null()]),
    last_error: Type.Union([Type.String(), Type.Null()]),
    last_duration_ms: Type.Union([Type.Integer(), Type.Null()]),
    delivered_at: NullableTimestamp,
    created_at: Timestamp,
  },
  { $id: 'WebhookDelivery', additionalProperties: false },
);

const Attempt = Type.Object(
  {
    attempt: Type.Integer(),
    request_headers: Type.Record(Type.String(), Type.String()),
    status_code: Type.Union([Type.Integer(), Type.Null()]),
    response_snippet: Type.Union([Type.String(), Type.Null()], { description: 'The first 2 KB of the answer' }),
    duration_ms: Type.Integer(),
    error: Type.Union([Type.String(), Type.Null()]),
    created_at: Timestamp,
  },
  { additionalProperties: false },
);

const DeliveryDetail = Type.Object(
  {
    ...Delivery.properties,
    payload: Type.Unknown({ description: 'The event data sent as `data`' }),
    attempt_log: Type.Array(Attempt),
  },
  { $id: 'WebhookDeliveryDetail', additionalProperties: false },
);

const DeliveryParams = Type.Object({ delivery_id: Uuid }, { additionalProperties: false });
const tags = ['webhooks'];
const read = { access: { scope: 'webhooks:read' as const } };
const manage = { access: { scope: 'webhooks:manage' as const } };
const notFound = { 404: ErrorResponse, ...authErrors };

export const webhookRoutes: FastifyPluginAsyncTypebox<{ webhooks: WebhookService }> = async (app, { webhooks }) => {
  app.post(
    '/webhooks',
    {
      schema: {
        tags,
        operationId: 'createWebhook',
        summary: 'Create a webhook endpoint',
        description: 'Answers with the signing secret, shown only this once. The URL must resolve to a public address.',
        body: CreateBody,
        response: { 201: EndpointWithSecret, ...authErrors },
      },
      config: { ...manage, idempotent: true },
    },
    async (request, reply) => reply.code(201).send(await webhooks.create(requireAuth(request).organizationId, request.body)),
  );

  app.get(
    '/webhooks',
    {
      schema: {
        tags,
        operationId: 'listWebhooks',
        summary: 'List webhook endpoints, newest first',
        querystring: Type.Object({ limit: Type.Optional(Limit), cursor: Type.Optional(Cursor) }, { additionalProperties: false }),
        response: { 200: Type.Object({ items: Type.Array(Endpoint), next_cursor: NextCursor }), ...authErrors },
      },
      config: read,
    },
    async (request) => webhooks.list(requireAuth(request).organizationId, request.query),
  );

  // The catalogue is the same for everyone and changes only with a release: built once.
  const catalogue = { items: eventCatalogueJson() };
  app.get(
    '/webhooks/event-types',
    {
      schema: {
        tags,
        operationId: 'listWebhookEventTypes',
        summary: 'Every event type an endpoint can subscribe to, with the JSON Schema of its data',
        response: {
          200: Type.Object({
            items: Type.Array(
              Type.Object(
                { type: Type.String(), description: Type.String(), payload: Type.Unknown({ description: "JSON Schema of the envelope's data" }) },
                { additionalProperties: false },
              ),
            ),
          }),
          ...authErrors,
        },
      },
      config: read,
    },
    async () => catalogue,
  );

  app.get(
    '/webhooks/:id',
    {
      schema: { tags, operationId: 'getWebhook', summary: 'Get a webhook endpoint', params: IdParams, response: { 200: Endpoint, ...notFound } },
      config: read,
    },
    async (request) => webhooks.get(requireAuth(request).organizationId, request.params.id),
  );

  app.patch(
    '/webhooks/:id',
    {
      schema: {
        tags,
        operationId: 'updateWebhook',
        summary: 'Change a webhook endpoint',
        params: IdParams,
        body: UpdateBody,
        response: { 200: Endpoint, ...notFound },
      },
      config: manage,
    },
    async (request) => webhooks.update(requireAuth(request).organizationId, request.params.id, request.body),
  );

  app.delete(
    '/webhooks/:id',
    {
      schema: {
        tags,
        operationId: 'deleteWebhook',
        summary: 'Delete a webhook endpoint and its delivery log',
        params: IdParams,
        response: { 204: NoContent, ...notFound },
      },
      config: manage,
    },
    async (request, reply) => {
      await webhooks.remove(requireAuth(request).organizationId, request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/webhooks/:id/test',
    {
      schema: {
        tags,
        operationId: 'testWebhook',
        summary: 'Send a webhook.test event to the endpoint',
        description: 'Answers at once with the queued delivery; follow it in the delivery log.',
        params: IdParams,
        response: { 202: Delivery, ...notFound },
      },
      config: manage,
    },
    async (request, reply) => reply.code(202).send(await webhooks.test(requireAuth(request).organizationId, request.params.id)),
  );

  app.post(
    '/webhooks/:id/rotate-secret',
    {
      schema: {
        tags,
        operationId: 'rotateWebhookSecret',
        summary: 'Replace the signing secret',
        description:
          'Answers with the new secret, shown only this once. For 24 hours deliveries carry two signatures, one per secret, so receivers can switch over.',
        params: IdParams,
        response: { 200: EndpointWithSecret, ...notFound },
      },
      config: manage,
    },
    async (request) => webhooks.rotateSecret(requireAuth(request).organizationId, request.params.id),
  );

  app.get(
    '/webhooks/:id/deliveries',
    {
      schema: {
        tags,
        operationId: 'listWebhookDeliveries',
        summary: 'The delivery log of an endpoint, newest first',
        params: IdParams,
        querystring: Type.Object(
          {
            limit: Type.Optional(Limit),
            cursor: Type.Optional(Cursor),
            status: Type.Optional(StringEnum(DELIVERY_STATUSES)),
            event_type: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(Delivery), next_cursor: NextCursor }), ...notFound },
      },
      config: read,
    },
    async (request) => webhooks.listDeliveries(requireAuth(request).organizationId, request.params.id, request.query),
  );

  app.get(
    '/webhooks/deliveries/:delivery_id',
    {
      schema: {
        tags,
        operationId: 'getWebhookDelivery',
        summary: 'A delivery with every attempt: request headers, status, the first 2 KB of the answer, duration, error',
        params: DeliveryParams,
        response: { 200: DeliveryDetail, ...notFound },
      },
      config: read,
    },
    async (request) => webhooks.getDelivery(requireAuth(request).organizationId, request.params.delivery_id),
  );

  app.post(
    '/webhooks/deliveries/:delivery_id/retry',
    {
      schema: {
        tags,
        operationId: 'retryWebhookDelivery',
        summary: 'Send a delivery again now',
        description: 'Works in any state; the receiver gets the same webhook-id, so it can tell a retry from a new event.',
        params: DeliveryParams,
        response: { 202: DeliveryDetail, ...notFound },
      },
      config: manage,
    },
    async (request, reply) => reply.code(202).send(await webhooks.retryDelivery(requireAuth(request).organizationId, request.params.delivery_id)),
  );

  app.post(
    '/webhooks/:id/replay',
    {
      schema: {
        tags,
        operationId: 'replayWebhook',
        summary: 'Deliver every event of a time window again',
        description: 'Every stored event in [from, to) the endpoint subscribes to, as new deliveries (at most 10,000; events are kept RETENTION_EVENTS_DAYS).',
        params: IdParams,
        body: Type.Object({ from: Type.String({ format: 'date-time' }), to: Type.String({ format: 'date-time' }) }, { additionalProperties: false }),
        response: { 202: Type.Object({ deliveries: Type.Integer({ description: 'Deliveries queued' }) }), ...notFound },
      },
      config: manage,
    },
    async (request, reply) =>
      reply.code(202).send(
        await webhooks.replay(requireAuth(request).organizationId, request.params.id, {
          from: new Date(request.body.from),
          to: new Date(request.body.to),
        }),
      ),
  );
};
