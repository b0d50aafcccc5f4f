import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Config } from '../../config/index.ts';
import type { BackgroundTasks } from '../../lib/background.ts';
import type { AuditLog } from '../audit/index.ts';
import type { AuthService } from '../auth/index.ts';
import type { InvitationService } from './invitations.service.ts';
import { requireSession } from '../auth/index.ts';
import { EmailField, RoleSchema, SignedIn, TokenBody } from '../auth/index.ts';
import { requestMeta } from '../auth/index.ts';
import { SESSION_COOKIE, setSessionCookie } from '../auth/index.ts';
import { StringEnum, authErrors, Cursor, ErrorResponse, IdParams, Limit, NextCursor, NoContent, NullableTimestamp, Timestamp, Uuid } from '../common.schemas.ts';

const STATUSES = ['pending', 'accepted', 'revoked', 'expired'] as const;

const Invitation = Type.Object({
  id: Uuid,
  email: Type.String(),
  role: RoleSchema,
  status: StringEnum(STATUSES),
  invited_by_user_id: Type.Union([Uuid, Type.Null()]),
  expires_at: Timestamp,
  accepted_at: NullableTimestamp,
  revoked_at: NullableTimestamp,
  sent_count: Type.Integer(),
  created_at: Timestamp,
}, { $id: 'Invitation' });

const InvitationDetails = Type.Object({
  organization: Type.Object({ name: Type.String() }),
  role: RoleSchema,
  email: Type.String({ description: 'The address the invitation was sent to; accepting signs in as it' }),
  invited_by: Type.Union([Type.Object({ email: Type.String(), name: Type.Union([Type.String(), Type.Null()]) }), Type.Null()]),
  expires_at: Timestamp,
  status: StringEnum(STATUSES),
});

const Accepted = Type.Object({ ...SignedIn.properties, organization: Type.Object({ id: Uuid, role: RoleSchema }) });

export const invitationRoutes: FastifyPluginAsyncTypebox<{ config: Readonly<Config>; invitations: InvitationService; auth: AuthService; auditLog: AuditLog; background: BackgroundTasks }> = async (app, { config, invitations, auth, auditLog, background }) => {

  app.get('/invitations', {
    schema: {
      tags: ['members'], operationId: 'listInvitations', summary: 'Invitations of the organization, newest first',
      querystring: Type.Object({ limit: Type.Optional(Limit), cursor: Type.Optional(Cursor), status: Type.Optional(StringEnum(STATUSES)) }, { additionalProperties: false }),
      response: { 200: Type.Object({ items: Type.Array(Invitation), next_cursor: NextCursor }), 400: ErrorResponse, ...authErrors },
    },
    config: { access: { role: 'admin' } },
  }, async (request) => invitations.list(requireSession(request).organizationId, request.query));

  app.post('/invitations', {
    schema: {
      tags: ['members'], operationId: 'createInvitation', summary: 'Invite someone by email; the link expires in 7 days',
      body: Type.Object({ email: EmailField, role: RoleSchema }, { additionalProperties: false }),
      response: { 201: Invitation, 409: ErrorResponse, ...authErrors },
    },
    config: { access: { role: 'admin' }, idempotent: true },
  }, async (request, reply) => {
    const session = requireSession(request);
    const created = await invitations.create(session.organizationId, { userId: session.userId, role: session.role }, request.body);
    request.auditNote = { details: { role: created.role } };
    return reply.code(201).send(created);
  });

  app.post('/invitations/:id/resend', {
    schema: {
      tags: ['members'], operationId: 'resendInvitation', summary: 'Send a fresh link (the previous one stops working) valid for another 7 days',
      params: IdParams, response: { 200: Invitation, 404: ErrorResponse, 409: ErrorResponse, ...authErrors },
    },
    config: { access: { role: 'admin' } },
  }, async (request) => invitations.resend(requireSession(request).organizationId, request.params.id));

  app.delete('/invitations/:id', {
    schema: {
      tags: ['members'], operationId: 'revokeInvitation', summary: 'Withdraw an invitation',
      params: IdParams, response: { 204: NoContent, 404: ErrorResponse, 409: ErrorResponse, ...authErrors },
    },
    config: { access: { role: 'admin' } },
  }, async (request, reply) => {
    await invitations.revoke(requireSession(request).organizationId, request.params.id);
    return reply.code(204).send(null);
  });

  // Public: the link itself is the credential. It signs the invitee in, so it gets the login CSRF check.
  app.post('/invitations/details', {
    schema: {
      tags: ['members'], operationId: 'describeInvitation',
      summary: 'What an invitation link is for (organization, role, inviter, expiry), shown before accepting; changes nothing',
      body: TokenBody, response: { 200: InvitationDetails, 401: ErrorResponse, 422: ErrorResponse, 429: ErrorResponse },
    },
    config: { access: { public: true, csrf: true } },
  }, async (request) => {
    await auth.limitTokenAttempts(requestMeta(request, config.TRUST_CF_CONNECTING_IP));
    return invitations.details(request.body.token);
  });

  app.post('/invitations/accept', {
    schema: {
      tags: ['members'], operationId: 'acceptInvitation', summary: 'Accept an invitation: join the organization and sign in',
      body: TokenBody, response: { 200: Accepted, 401: ErrorResponse, 403: ErrorResponse, 422: ErrorResponse, 429: ErrorResponse },
    },
    config: { access: { public: true, csrf: true } },
  }, async (request, reply) => {
    const meta = requestMeta(request, config.TRUST_CF_CONNECTING_IP);
    await auth.limitTokenAttempts(meta);
    const joined = await invitations.accept(request.body.token);
    await auth.endSessionByCookie(request.cookies[SESSION_COOKIE]);
    const started = await auth.startSession(joined.userId, meta, 'auth.login');
    background.run('audit-invitation-accept', () => auditLog.record({
      organizationId: joined.organizationId, actor: { type: 'user', id: joined.userId }, action: 'invitation.accept', targetType: 'member',
      targetId: joined.memberId, ip: meta.ip, userAgent: meta.userAgent, requestId: meta.requestId, details: { role: joined.role },
    }));
    setSessionCookie(reply, request, config, started.cookieValue, started.session.expiresAt);
    const principal = await auth.authenticate(started.cookieValue);
    return {
      user: { id: principal.userId, email: principal.email, name: principal.name, is_platform_admin: principal.isPlatformAdmin },
      session: { id: started.session.id, expires_at: started.session.expiresAt },
      organization: { id: joined.organizationId, role: joined.role },
    };
  });
};
