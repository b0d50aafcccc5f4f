import cookie from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { Container } from '../container.ts';
import { appendRouteHook } from './route-hooks.ts';
import { AppError, forbidden, unauthorized } from '../lib/errors.ts';
import type { Scope } from '../modules/api-keys/scopes.ts';
import type { Principal } from '../modules/auth/auth.service.ts';
import { allowedOrigins, checkCsrf, isSafeMethod } from '../modules/auth/csrf.ts';
import { clearSessionCookie, SESSION_COOKIE, setSessionCookie } from '../modules/auth/session-cookie.ts';
import type { Role } from '../modules/auth/users.repository.ts';

export type { Role };

/** Who is calling. Every tenant query takes `organizationId` from here, never from the request body. */
export interface ApiKeyAuthContext {
  kind: 'api_key';
  organizationId: string;
  apiKeyId: string;
  scopes: ReadonlySet<Scope>;
  actor: { type: 'api_key'; id: string };
}

/** A signed-in dashboard user acting in one organization (chosen with `X-Organization-Id`). */
export interface SessionAuthContext {
  kind: 'session';
  organizationId: string;
  userId: string;
  sessionId: string;
  role: Role;
  actor: { type: 'user'; id: string };
}

export type AuthContext = ApiKeyAuthContext | SessionAuthContext;

/**
 * The access rule every /api/v1 route declares. Sessions are checked by role, API keys by scope; the
 * one table that maps one to the other is `requiredRole` below.
 * - `{ public: true }`: no credentials (the route does its own checks, e.g. a signed token). `csrf: true`
 *   for public routes that set the session cookie, so another site cannot log a browser in.
 * - `{ scope }`: an API key holding the scope, or a session whose role is at least the scope's implied
 *   role (`…:read` → viewer, anything else → admin), or at least `role` when given (e.g. owner for billing).
 * - `{ role }`: sessions only, at least that role in the organization; API keys get 403 session_required.
 * - `{ user: true }`: any signed-in user, no organization needed (own profile, own sessions, create org).
 * - `{ platform: true }`: signed-in platform operators (`users.is_platform_admin`), across organizations.
 */
export type Access =
  | { public: true; csrf?: boolean }
  | { scope: Scope; role?: Role }
  | { role: Role }
  | { user: true }
  | { platform: true };

export const ROLE_RANK: Readonly<Record<Role, number>> = { viewer: 0, admin: 1, owner: 2 };

/** The least role a session needs for a route: the one role table of the application. */
export function requiredRole(access: Access): Role | null {
  if ('scope' in access) return access.role ?? (access.scope.endsWith(':read') ? 'viewer' : 'admin');
  if ('role' in access) return access.role;
  return null;
}

/** Routes that act inside one organization (and so need `X-Organization-Id` or a single membership). */
export const actsInOrganization = (access: Access): boolean => 'scope' in access || 'role' in access;

/** One entry per route, collected as routes are added: the test matrix and the docs read it. */
export interface RouteRule {
  method: string;
  url: string;
  access: Access | undefined;
  operationId: string | undefined;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
    idempotent?: boolean;
  }
  interface FastifyRequest {
    auth: AuthContext | null;
    authFailure: AppError | null;
    /** The signed-in user of a session request, whether or not an organization was selected. */
    principal: Principal | null;
  }
  interface FastifyInstance {
    routeRules: RouteRule[];
  }
}

const API_PREFIX = '/api/v1/';

/** The `X-Organization-Id` a dashboard request names, if any (an empty header counts as none). */
export function organizationIdHeader(request: FastifyRequest): string | undefined {
  const header = request.headers['x-organization-id'];
  const value = typeof header === 'string' ? header.trim() : '';
  return value === '' ? undefined : value;
}

function presentedKey(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header) {
    const [scheme, value] = header.split(' ', 2);
    if (scheme?.toLowerCase() === 'bearer' && value) return value.trim();
    return '';
  }
  const apiKey = request.headers['x-api-key'];
  return typeof apiKey === 'string' ? apiKey.trim() : undefined;
}

/**
 * Authentication runs in two steps so that the rate limiter between them can key on the caller:
 * `identify` (app-wide onRequest) resolves credentials without failing, the limiter counts, then
 * `enforce` (appended to each route) rejects missing or bad credentials, checks CSRF for cookie
 * requests, and checks the route's scope (API keys) or role (sessions).
 */
export async function registerAuth(app: FastifyInstance, container: Container): Promise<void> {
  const { config } = container;
  const authService = container.services.auth;
  const origins = allowedOrigins(config);
  // Parses the Cookie header in its own onRequest hook, which runs before `identify` below.
  await app.register(cookie, { hook: 'onRequest' });
  app.decorateRequest('auth', null);
  app.decorateRequest('authFailure', null);
  app.decorateRequest('principal', null);
  app.decorate('routeRules', [] as RouteRule[]);

  async function identify(request: FastifyRequest, reply: FastifyReply, access: Access): Promise<void> {
    const organizationHeader = organizationIdHeader(request);
    const key = presentedKey(request);
    if (key !== undefined) {
      // An API key wins over a cookie: a browser cannot attach one cross-origin, so no CSRF check is needed.
      const auth = await container.services.apiKeys.authenticate(key);
      if (organizationHeader !== undefined && organizationHeader.toLowerCase() !== auth.organizationId) {
        throw forbidden('organization_mismatch', 'The API key belongs to another organization than X-Organization-Id names');
      }
      request.auth = auth;
      return;
    }
    const cookieValue = request.cookies[SESSION_COOKIE];
    if (!cookieValue) {
      throw unauthorized('unauthorized', 'Authentication required: send an API key as "Authorization: Bearer <key>" or "X-API-Key", or sign in');
    }
    let principal: Principal;
    try {
      principal = await authService.authenticate(cookieValue);
    } catch (error) {
      if (error instanceof AppError && error.code === 'invalid_session') clearSessionCookie(reply, request, config);
      throw error;
    }
    request.principal = principal;
    if (principal.session.touched) setSessionCookie(reply, request, config, cookieValue, principal.session.expiresAt);
    if (!actsInOrganization(access)) return;
    const membership = authService.selectOrganization(principal, organizationHeader);
    request.auth = {
      kind: 'session', organizationId: membership.organizationId, userId: principal.userId, sessionId: principal.session.id,
      role: membership.role, actor: { type: 'user', id: principal.userId },
    };
  }

  // A callback hook: public routes (the preference page, forms, links) return at once, without a promise.
  app.addHook('onRequest', (request, reply, done) => {
    const access = request.routeOptions.config.access;
    if (!access || 'public' in access) return done();
    identify(request, reply, access).then(() => done(), (error: unknown) => {
      if (!(error instanceof AppError)) return done(error as Error);
      request.authFailure = error;
      done();
    });
  });

  function enforceFor(access: Access): onRequestHookHandler {
    return async (request: FastifyRequest) => {
      if ('public' in access) {
        if (access.csrf) checkCsrf(request, origins);
        return;
      }
      if (request.authFailure) throw request.authFailure;
      const auth = request.auth;
      if (auth?.kind === 'api_key') {
        if (!('scope' in access)) throw forbidden('session_required', 'This route is for signed-in dashboard users; API keys cannot call it');
        if (!auth.scopes.has(access.scope)) {
          throw new AppError(403, 'insufficient_scope', `This API key lacks the "${access.scope}" scope`, { details: [{ message: `required scope: ${access.scope}` }] });
        }
        return;
      }
      const principal = request.principal;
      if (!principal) throw unauthorized('unauthorized', 'Authentication required');
      if (!isSafeMethod(request.method)) checkCsrf(request, origins);
      if ('platform' in access) {
        if (!principal.isPlatformAdmin) throw forbidden('platform_admin_required', 'This route is for platform operators');
        return;
      }
      if ('user' in access) return;
      const role = requiredRole(access)!;
      if (!auth || ROLE_RANK[auth.role] < ROLE_RANK[role]) {
        throw new AppError(403, 'insufficient_role', `This action needs the ${role} role in the organization`, { details: [{ message: `required role: ${role}` }] });
      }
    };
  }

  app.addHook('onRoute', (route) => {
    const url = route.url;
    const access = route.config?.access;
    if (url.startsWith(API_PREFIX) && !access) {
      throw new Error(`Route ${String(route.method)} ${url} declares no access rule`);
    }
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const operationId = (route.schema as { operationId?: string } | undefined)?.operationId;
    for (const method of methods) app.routeRules.push({ method, url, access, operationId });
    if (!access || ('public' in access && !access.csrf)) return;
    appendRouteHook(route, 'onRequest', enforceFor(access));
  });
}

export function requireAuth(request: FastifyRequest): AuthContext {
  if (!request.auth) throw forbidden('forbidden', 'This route needs an authenticated caller');
  return request.auth;
}

/** The organization-scoped session of a `{ role }` route. */
export function requireSession(request: FastifyRequest): SessionAuthContext & { principal: Principal } {
  const auth = request.auth;
  if (auth?.kind !== 'session' || !request.principal) throw forbidden('session_required', 'This route is for signed-in dashboard users');
  return { ...auth, principal: request.principal };
}

/** The signed-in user of a `{ user }` or `{ platform }` route. */
export function requireUser(request: FastifyRequest): Principal {
  if (!request.principal) throw forbidden('session_required', 'This route is for signed-in dashboard users');
  return request.principal;
}
