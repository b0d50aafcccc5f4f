import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Config } from '../../config/index.ts';
import type { AuthService } from './auth.service.ts';
import { organizationIdHeader, requireUser } from './access.ts';
import { clientIp } from '../../lib/client-ip.ts';
import { authErrors, ErrorResponse, IdParams, NoContent } from '../common.schemas.ts';
import { EmailField, MagicLinkAccepted, Me, SessionPage, SignedIn, TokenBody } from './auth.schemas.ts';
import type { Principal, RequestMeta } from './auth.service.ts';
import { clearSessionCookie, SESSION_COOKIE, setSessionCookie } from './session-cookie.ts';

const MAGIC_LINK_ANSWER = { message: 'If this address may sign in, a sign-in link is on its way. It expires in a few minutes.' };

export const userView = (principal: Principal) => ({
  id: principal.userId,
  email: principal.email,
  name: principal.name,
  is_platform_admin: principal.isPlatformAdmin,
});

export function requestMeta(request: FastifyRequest, trustCfConnectingIp: boolean): RequestMeta {
  return { ip: clientIp(request, trustCfConnectingIp), userAgent: request.headers['user-agent']?.slice(0, 512) ?? null, requestId: request.id };
}

export const authRoutes: FastifyPluginAsyncTypebox<{ config: Readonly<Config>; auth: AuthService }> = async (app, { config, auth }) => {
  const meta = (request: FastifyRequest) => requestMeta(request, config.TRUST_CF_CONNECTING_IP);

  app.post(
    '/auth/magic-link',
    {
      schema: {
        tags: ['auth'],
        operationId: 'requestMagicLink',
        summary: 'Email a sign-in link (the answer is the same whether or not the address has an account)',
        body: Type.Object({ email: EmailField }, { additionalProperties: false }),
        response: { 202: MagicLinkAccepted, 422: ErrorResponse, 429: ErrorResponse },
      },
      config: { access: { public: true } },
    },
    async (request, reply) => {
      await auth.requestMagicLink(request.body.email, meta(request));
      // The same for every address; only whether this deployment keeps mail in the dev mailbox.
      return reply.code(202).send({ ...MAGIC_LINK_ANSWER, dev_mailbox: config.EMAIL_PROVIDER === 'dev' });
    },
  );

  // A POST, not a GET: mail scanners and link previews follow GET links and would burn the token.
  app.post(
    '/auth/verify',
    {
      schema: {
        tags: ['auth'],
        operationId: 'verifyMagicLink',
        summary: 'Exchange a sign-in link token for a session cookie',
        body: TokenBody,
        response: { 200: SignedIn, 401: ErrorResponse, 403: ErrorResponse, 422: ErrorResponse, 429: ErrorResponse },
      },
      config: { access: { public: true, csrf: true } },
    },
    async (request, reply) => {
      const started = await auth.verifyMagicLink(request.body.token, meta(request));
      await auth.endSessionByCookie(request.cookies[SESSION_COOKIE]);
      setSessionCookie(reply, request, config, started.cookieValue, started.session.expiresAt);
      return { user: started.user, session: { id: started.session.id, expires_at: started.session.expiresAt } };
    },
  );

  app.post(
    '/auth/logout',
    {
      schema: { tags: ['auth'], operationId: 'logout', summary: 'End this session', response: { 204: NoContent, ...authErrors } },
      config: { access: { user: true }, audit: { action: 'auth.logout', targetType: 'session' } },
    },
    async (request, reply) => {
      const principal = requireUser(request);
      await auth.logout(principal);
      request.auditNote = { targetId: principal.session.id };
      clearSessionCookie(reply, request, config);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/auth/me',
    {
      schema: {
        tags: ['auth'],
        operationId: 'getMe',
        summary: 'The signed-in user, their organizations and the current one',
        response: { 200: Me, ...authErrors },
      },
      config: { access: { user: true } },
    },
    async (request) => {
      const principal = requireUser(request);
      const current = auth.currentOrganization(principal, organizationIdHeader(request));
      const summary = (m: { organizationId: string; name: string; slug: string; status: string }) => ({
        id: m.organizationId,
        name: m.name,
        slug: m.slug,
        status: m.status,
      });
      return {
        user: userView(principal),
        memberships: principal.memberships.map((m) => ({ organization: summary(m), role: m.role })),
        current_organization: current ? { ...summary(current), role: current.role } : null,
        session: { id: principal.session.id, expires_at: principal.session.expiresAt },
        features: { billing: config.BILLING_ENABLED },
      };
    },
  );

  app.get(
    '/auth/sessions',
    {
      schema: { tags: ['auth'], operationId: 'listSessions', summary: 'Your active sessions, newest first', response: { 200: SessionPage, ...authErrors } },
      config: { access: { user: true } },
    },
    async (request) => {
      const principal = requireUser(request);
      const sessions = await auth.listSessions(principal);
      return {
        items: sessions.map((s) => ({
          id: s.id,
          created_at: s.createdAt,
          last_seen_at: s.lastSeenAt,
          expires_at: s.expiresAt,
          ip: s.ip,
          user_agent: s.userAgent,
          current: s.id === principal.session.id,
        })),
        next_cursor: null,
      };
    },
  );

  app.delete(
    '/auth/sessions/:id',
    {
      schema: {
        tags: ['auth'],
        operationId: 'revokeSession',
        summary: 'End one of your sessions (for example on a lost device)',
        params: IdParams,
        response: { 204: NoContent, 404: ErrorResponse, ...authErrors },
      },
      config: { access: { user: true } },
    },
    async (request, reply) => {
      const principal = requireUser(request);
      await auth.revokeSession(principal, request.params.id);
      if (request.params.id === principal.session.id) clearSessionCookie(reply, request, config);
      return reply.code(204).send(null);
    },
  );
};
