import cookie from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { Config } from '../config/index.ts';
import { appendRouteHook } from './route-hooks.ts';
import { AppError, forbidden, unauthorized } from '../lib/errors.ts';
import {
  actsInOrganization,
  allowedOrigins,
  checkCsrf,
  clearSessionCookie,
  isSafeMethod,
  organizationIdHeader,
  requiredRole,
  ROLE_RANK,
  SESSION_COOKIE,
  setSessionCookie,
  type Access,
  type AuthService,
  type Principal,
  type RouteRule,
} from '../modules/auth/index.ts';
import type { ApiKeyService } from '../modules/api-keys/index.ts';

const API_PREFIX = '/api/v1/';

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
export async function registerAuth(
  app: FastifyInstance,
  deps: { config: Readonly<Config>; auth: AuthService; apiKeys: Pick<ApiKeyService, 'authenticate'> },
): Promise<void> {
  const { config } = deps;
  const authService = deps.auth;
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
      const auth = await deps.apiKeys.authenticate(key);
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
      kind: 'session',
      organizationId: membership.organizationId,
      userId: principal.userId,
      sessionId: principal.session.id,
      role: membership.role,
      actor: { type: 'user', id: principal.userId },
    };
  }

  // A callback hook: public routes (the preference page, forms, links) return at once, without a promise.
  app.addHook('onRequest', (request, reply, done) => {
    const access = request.routeOptions.config.access;
    if (!access || 'public' in access) return done();
    identify(request, reply, access).then(
      () => done(),
      (error: unknown) => {
        if (!(error instanceof AppError)) return done(error as Error);
        request.authFailure = error;
        done();
      },
    );
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
          throw new AppError(403, 'insufficient_scope', `This API key lacks the "${access.scope}" scope`, {
            details: [{ message: `required scope: ${access.scope}` }],
          });
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
        throw new AppError(403, 'insufficient_role', `This action needs the ${role} role in the organization`, {
          details: [{ message: `required role: ${role}` }],
        });
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
