import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { notFound } from '../../lib/errors.ts';
import { decodeCursor, toPage } from '../../lib/pagination.ts';
import { requireAuth } from '../auth/index.ts';
import { authErrors, Cursor, ErrorResponse, IdParams, Limit, NextCursor, NoContent, StringEnum, Timestamp, Uuid } from '../common.schemas.ts';
import { SUPPRESSION_REASONS, type SuppressionRepository } from './suppressions.repository.ts';

const Suppression = Type.Object(
  {
    id: Uuid,
    email: Type.String(),
    reason: StringEnum(SUPPRESSION_REASONS, {
      description: 'hard_bounce, soft_bounce (repeated soft bounces) and complaint come from delivery events; manual was added by someone',
    }),
    email_message_id: Type.Union([Uuid, Type.Null()], { description: 'The message whose bounce or complaint added the address' }),
    created_at: Timestamp,
  },
  { $id: 'Suppression', additionalProperties: false },
);

const ListQuery = Type.Object(
  {
    limit: Type.Optional(Limit),
    cursor: Type.Optional(Cursor),
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 254, description: 'Part of the address, case-insensitive' })),
    reason: Type.Optional(StringEnum(SUPPRESSION_REASONS)),
  },
  { additionalProperties: false },
);

const AddBody = Type.Object(
  {
    email: Type.String({ format: 'email', maxLength: 254 }),
    reason: Type.Optional(StringEnum(['manual'] as const, { description: 'Only manual: the others are recorded from provider events' })),
  },
  { additionalProperties: false },
);

export const suppressionRoutes: FastifyPluginAsyncTypebox<{ suppressions: SuppressionRepository }> = async (app, { suppressions }) => {
  app.get(
    '/suppressions',
    {
      schema: {
        tags: ['suppressions'],
        operationId: 'listSuppressions',
        summary: 'List suppressed addresses, newest first',
        querystring: ListQuery,
        response: { 200: Type.Object({ items: Type.Array(Suppression), next_cursor: NextCursor }), ...authErrors },
      },
      config: { access: { scope: 'subscribers:read' } },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const rows = await suppressions.list(requireAuth(request).organizationId, {
        limit,
        beforeId: decodeCursor(request.query.cursor),
        q: request.query.q?.trim() || undefined,
        reason: request.query.reason,
      });
      return toPage(rows, limit);
    },
  );

  app.post(
    '/suppressions',
    {
      schema: {
        tags: ['suppressions'],
        operationId: 'addSuppression',
        summary: 'Suppress an address: no email of any kind is sent to it',
        description: 'Answers 201 with the new entry, or 200 with the entry that already suppresses the address.',
        body: AddBody,
        response: { 200: Suppression, 201: Suppression, ...authErrors },
      },
      config: { access: { scope: 'subscribers:write' }, idempotent: true },
    },
    async (request, reply) => {
      const { row, created } = await suppressions.add(requireAuth(request).organizationId, request.body.email.trim(), 'manual');
      return reply.code(created ? 201 : 200).send(row);
    },
  );

  app.delete(
    '/suppressions/:id',
    {
      schema: {
        tags: ['suppressions'],
        operationId: 'removeSuppression',
        summary: 'Remove an address from the suppression list',
        description: "Email may go to the address again. The subscriber's status is not changed: a bounced or complained subscriber stays so until updated.",
        params: IdParams,
        response: { 204: NoContent, 404: ErrorResponse, ...authErrors },
      },
      config: { access: { scope: 'subscribers:write' } },
    },
    async (request, reply) => {
      if (!(await suppressions.remove(requireAuth(request).organizationId, request.params.id))) throw notFound('suppression');
      return reply.code(204).send(null);
    },
  );
};
