import type { FastifyInstance, FastifyRequest } from 'fastify';
import { allowedOrigins } from '../auth/index.ts';

const API_PREFIX = '/api/v1/';
// Website forms post here with their own, per-organization CORS answer.
const OWN_CORS_PREFIX = '/api/v1/public/';
const ALLOWED_HEADERS = 'content-type, x-requested-with, x-organization-id, idempotency-key';
const EXPOSED_HEADERS = 'x-request-id, retry-after, ratelimit-limit, ratelimit-remaining, ratelimit-reset';

/**
 * CORS with credentials for our own apps when they are deployed on another origin than the API (static
 * sites calling VITE_API_URL): the same origins the CSRF check accepts, nothing else. The cookie stays
 * SameSite=Lax, so this works for apps on a sibling host of the same site (app.example.com → api.example.com).
 */
export function registerAppCors(app: FastifyInstance, config: Parameters<typeof allowedOrigins>[0]): void {
  const origins = allowedOrigins(config);
  const allowed = (request: FastifyRequest): string | null => {
    const origin = request.headers.origin;
    if (typeof origin !== 'string' || !origins.has(origin)) return null;
    if (!request.url.startsWith(API_PREFIX) || request.url.startsWith(OWN_CORS_PREFIX)) return null;
    return origin;
  };

  // onSend, so errors (401, 403, 422, 429) carry the headers too and the app can read why a call failed.
  app.addHook('onSend', (request, reply, payload, done) => {
    const origin = allowed(request);
    if (origin) {
      void reply.headers({
        'access-control-allow-origin': origin,
        'access-control-allow-credentials': 'true',
        'access-control-expose-headers': EXPOSED_HEADERS,
      });
      void reply.header('vary', 'origin');
    }
    done(null, payload);
  });

  app.options(`${API_PREFIX}*`, { schema: { hide: true }, config: { access: { public: true }, rateLimit: false } }, async (request, reply) => {
    if (allowed(request)) {
      void reply.headers({
        'access-control-allow-methods': 'GET, POST, PUT, PATCH, DELETE',
        'access-control-allow-headers': ALLOWED_HEADERS,
        'access-control-max-age': '600',
      });
    }
    return reply.code(204).send(null);
  });
}
