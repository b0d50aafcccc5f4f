import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AuditLog } from './audit.repository.ts';
import { decodeCursor, toPage } from '../../lib/pagination.ts';
import { requireAuth } from '../auth/index.ts';
import { authErrors, Cursor, ErrorResponse, Limit, NextCursor, Timestamp, Uuid } from '../common.schemas.ts';

const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()]);

const AuditEntry = Type.Object(
  {
    id: Uuid,
    actor: Type.Object({ type: Type.String({ enum: ['user', 'api_key', 'system'] }), id: Nullable(Uuid) }),
    action: Type.String({ description: 'What was done, e.g. subscriber.create' }),
    target_type: Nullable(Type.String()),
    target_id: Nullable(Uuid),
    ip: Nullable(Type.String()),
    user_agent: Nullable(Type.String()),
    request_id: Nullable(Type.String()),
    details: Type.Record(Type.String(), Type.Unknown()),
    created_at: Timestamp,
  },
  { $id: 'AuditEntry' },
);

const ListQuery = Type.Object(
  {
    limit: Type.Optional(Limit),
    cursor: Type.Optional(Cursor),
    actor_id: Type.Optional(Uuid),
    action: Type.Optional(Type.String({ minLength: 1, maxLength: 100, pattern: '^[a-z0-9_.:-]+$' })),
  },
  { additionalProperties: false },
);

export const auditRoutes: FastifyPluginAsyncTypebox<{ auditLog: AuditLog }> = async (app, { auditLog }) => {
  app.get(
    '/audit-logs',
    {
      schema: {
        tags: ['audit'],
        operationId: 'listAuditLogs',
        summary: 'Who changed what in the organization, newest first',
        querystring: ListQuery,
        response: { 200: Type.Object({ items: Type.Array(AuditEntry), next_cursor: NextCursor }), 400: ErrorResponse, ...authErrors },
      },
      config: { access: { role: 'admin' } },
    },
    async (request) => {
      const { organizationId } = requireAuth(request);
      const limit = request.query.limit ?? 50;
      const rows = await auditLog.list(organizationId, {
        limit,
        beforeId: decodeCursor(request.query.cursor),
        actorId: request.query.actor_id,
        action: request.query.action,
      });
      return toPage(
        rows.map(({ actor_type, actor_id, details, ...row }) => ({
          ...row,
          actor: { type: actor_type, id: actor_id },
          details: details as Record<string, unknown>,
        })),
        limit,
      );
    },
  );
};
