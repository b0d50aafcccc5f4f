import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { requireAuth, requireScope } from '../auth/index.ts';
import { authErrors, ErrorResponse, IdParams, NullableTimestamp, StringEnum, Timestamp, Uuid } from '../common.schemas.ts';
import { BULK_ACTIONS } from './bulk-actions.repository.ts';
import type { BulkActionService } from './bulk-actions.service.ts';
import { ListFilterSchema } from './list-query.ts';
import { SubscriberTag } from './subscribers.schemas.ts';
import type { Author } from './subscribers.service.ts';

const BulkActionBody = Type.Object(
  {
    action: StringEnum(BULK_ACTIONS, {
      description:
        'add_tag, remove_tag (need `tag`), unsubscribe (needs `reason`; active and pending subscribers only), delete (GDPR erasure; needs subscribers:delete)',
    }),
    filter: { ...ListFilterSchema, description: 'The filters of GET /subscribers: every subscriber matching them when the action starts is affected' },
    tag: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'An existing tag, by slug or name' })),
    reason: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 500,
        pattern: '\\S',
        description: 'Why: kept in every affected subscriber’s consent history (required to unsubscribe)',
      }),
    ),
  },
  { additionalProperties: false },
);

const BulkAction = Type.Object(
  {
    id: Uuid,
    action: StringEnum(BULK_ACTIONS),
    status: StringEnum(['queued', 'running', 'completed', 'failed'] as const),
    filter: Type.Record(Type.String(), Type.String()),
    tag: Type.Union([SubscriberTag, Type.Null()]),
    reason: Type.Union([Type.String(), Type.Null()]),
    expected: Type.Union([Type.Integer(), Type.Null()], {
      description: 'How many subscribers matched when the action was asked for (an estimate above 100,000)',
    }),
    processed: Type.Integer({ description: 'Subscribers handled so far' }),
    changed: Type.Integer({ description: 'Subscribers the action actually changed (the others already were as asked)' }),
    error: Type.Union([Type.String(), Type.Null()]),
    created_at: Timestamp,
    started_at: NullableTimestamp,
    finished_at: NullableTimestamp,
  },
  { $id: 'SubscriberBulkAction' },
);

export const bulkActionRoutes: FastifyPluginAsyncTypebox<{ bulkActions: BulkActionService }> = async (app, { bulkActions }) => {
  const author = (request: FastifyRequest): Author => {
    const auth = requireAuth(request);
    return auth.kind === 'api_key' ? { type: 'api_key', id: auth.apiKeyId } : { type: 'user', id: auth.userId };
  };

  app.post(
    '/subscribers/bulk-actions',
    {
      schema: {
        tags: ['subscribers'],
        operationId: 'createSubscriberBulkAction',
        summary: 'Add or remove a tag, unsubscribe or delete every subscriber matching a filter, as one background job',
        body: BulkActionBody,
        response: { 202: BulkAction, 503: ErrorResponse, ...authErrors },
      },
      config: { access: { scope: 'subscribers:write' }, idempotent: true },
    },
    async (request, reply) => {
      // Erasing needs the delete scope on top of write (an admin session has both).
      if (request.body.action === 'delete') requireScope(request, 'subscribers:delete');
      const created = await bulkActions.create(requireAuth(request).organizationId, author(request), request.body);
      request.auditNote = { targetId: created.id, details: { action: created.action, expected: created.expected } };
      return reply.code(202).send(created);
    },
  );

  app.get(
    '/subscribers/bulk-actions/:id',
    {
      schema: {
        tags: ['subscribers'],
        operationId: 'getSubscriberBulkAction',
        summary: 'Progress of a bulk action',
        params: IdParams,
        response: { 200: BulkAction, 404: ErrorResponse, ...authErrors },
      },
      config: { access: { scope: 'subscribers:read' } },
    },
    async (request) => bulkActions.get(requireAuth(request).organizationId, request.params.id),
  );
};
