import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { MemberService } from './members.service.ts';
import { requireSession, requireUser } from '../auth/index.ts';
import { RoleSchema } from '../auth/index.ts';
import { authErrors, Cursor, ErrorResponse, IdParams, Limit, NextCursor, NoContent, NullableTimestamp, Timestamp, Uuid } from '../common.schemas.ts';

const Member = Type.Object(
  {
    id: Uuid,
    role: RoleSchema,
    created_at: Timestamp,
    user: Type.Object({ id: Uuid, email: Type.String(), name: Type.Union([Type.String(), Type.Null()]), last_login_at: NullableTimestamp }),
  },
  { $id: 'Member' },
);

export const memberRoutes: FastifyPluginAsyncTypebox<{ members: MemberService }> = async (app, { members }) => {
  const actor = (session: { userId: string; role: 'owner' | 'admin' | 'viewer' }) => ({ userId: session.userId, role: session.role });

  // Viewers may see who is on the team (read-only everywhere); changing it needs admin.
  app.get(
    '/members',
    {
      schema: {
        tags: ['members'],
        operationId: 'listMembers',
        summary: "The organization's members and their roles",
        querystring: Type.Object({ limit: Type.Optional(Limit), cursor: Type.Optional(Cursor) }, { additionalProperties: false }),
        response: { 200: Type.Object({ items: Type.Array(Member), next_cursor: NextCursor }), 400: ErrorResponse, ...authErrors },
      },
      config: { access: { role: 'viewer' } },
    },
    async (request) => members.list(requireSession(request).organizationId, request.query),
  );

  app.patch(
    '/members/:id',
    {
      schema: {
        tags: ['members'],
        operationId: 'updateMemberRole',
        summary: "Change a member's role (only owners grant or take the owner role; the last owner stays)",
        params: IdParams,
        body: Type.Object({ role: RoleSchema }, { additionalProperties: false }),
        response: { 200: Member, 404: ErrorResponse, 409: ErrorResponse, ...authErrors },
      },
      config: { access: { role: 'admin' }, audit: { action: 'member.update_role', targetType: 'member' } },
    },
    async (request) => {
      const session = requireSession(request);
      const { member, previousRole } = await members.changeRole(session.organizationId, actor(session), request.params.id, request.body.role);
      request.auditNote = { details: { from: previousRole, to: member.role } };
      return member;
    },
  );

  app.delete(
    '/members/:id',
    {
      schema: {
        tags: ['members'],
        operationId: 'removeMember',
        summary: 'Remove a member (only owners remove owners; the last owner stays)',
        params: IdParams,
        response: { 204: NoContent, 404: ErrorResponse, 409: ErrorResponse, ...authErrors },
      },
      config: { access: { role: 'admin' } },
    },
    async (request, reply) => {
      const session = requireSession(request);
      await members.remove(session.organizationId, actor(session), request.params.id);
      return reply.code(204).send(null);
    },
  );

  // Any member may leave, viewers included, so this is a user route naming the organization in the path.
  app.post(
    '/organizations/:id/leave',
    {
      schema: {
        tags: ['members'],
        operationId: 'leaveOrganization',
        summary: 'Leave an organization (the last owner cannot)',
        params: IdParams,
        response: { 204: NoContent, 404: ErrorResponse, 409: ErrorResponse, ...authErrors },
      },
      config: { access: { user: true }, audit: { action: 'member.leave', targetType: 'member' } },
    },
    async (request, reply) => {
      const principal = requireUser(request);
      const memberId = await members.leave(request.params.id, principal.userId);
      request.auditNote = { organizationId: request.params.id, targetId: memberId };
      return reply.code(204).send(null);
    },
  );
};
