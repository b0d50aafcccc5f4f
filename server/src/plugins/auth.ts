import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { Container } from '../container.ts';
import { AppError, forbidden, unauthorized } from '../lib/errors.ts';
import type { Scope } from '../modules/api-keys/scopes.ts';

/** Who is calling. Every tenant query takes `organizationId` from here, never from the request body. */
export interface AuthContext {
  kind: 'api_key';
  organizationId: string;
  apiKeyId: string;
  scopes: ReadonlySet<Scope>;
  actor: { type: 'api_key'; id: string };
}

/** A route is either public (its own checks, e.g. a signed token) or needs one scope. */
export type Access = { public: true } | { scope: Scope };

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
    idempotent?: boolean;
  }
  interface FastifyRequest {
    auth: AuthContext | null;
    authFailure: AppError | null;
  }
}

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
 * `enforce` (appended to each route) rejects missing or bad credentials and checks the route's scope.
 */
export function registerAuth(app: FastifyInstance, container: Container): void {
  app.decorateRequest('auth', null);
  app.decorateRequest('authFailure', null);

  app.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config.access;
    if (!access || 'public' in access) return;
    const key = presentedKey(request);
    if (key === undefined) {
      request.authFailure = unauthorized('unauthorized', 'Authentication required: send an API key as "Authorization: Bearer <key>" or "X-API-Key"');
      return;
    }
    try {
      request.auth = await container.services.apiKeys.authenticate(key);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      request.authFailure = error;
    }
  });

  app.addHook('onRoute', (route) => {
    const url = route.url;
    const access = route.config?.access;
    if (url.startsWith(API_PREFIX) && !access) {
      throw new Error(`Route ${route.method} ${url} declares no access rule`);
    }
    if (!access || 'public' in access) return;
    const enforce: onRequestHookHandler = async (request: FastifyRequest, _reply: FastifyReply) => {
      if (request.authFailure) throw request.authFailure;
      const auth = request.auth;
      if (!auth) throw unauthorized('unauthorized', 'Authentication required');
      if (!auth.scopes.has(access.scope)) {
        throw new AppError(403, 'insufficient_scope', `This API key lacks the "${access.scope}" scope`, { details: [{ message: `required scope: ${access.scope}` }] });
      }
    };
    const existing = route.onRequest ? (Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest]) : [];
    route.onRequest = [...existing, enforce];
  });
}

export function requireAuth(request: FastifyRequest): AuthContext {
  if (!request.auth) throw forbidden('forbidden', 'This route needs an authenticated caller');
  return request.auth;
}
