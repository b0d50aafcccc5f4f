import type { FastifyRequest } from 'fastify';
import type { Config } from '../../config/index.ts';
import { forbidden } from '../../lib/errors.ts';

/** The header (and value) the admin and preference apps send with every state-changing request. */
export const CSRF_HEADER = 'x-requested-with';
export const CSRF_HEADER_VALUE = 'subscribe-flow';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function originOf(url: string): string | null {
  try {
    const origin = new URL(url).origin;
    return origin === 'null' ? null : origin;
  } catch {
    return null;
  }
}

/** The origins of our own apps and of the API itself: the only pages allowed to use a session cookie. */
export function allowedOrigins(config: Pick<Config, 'ADMIN_APP_URL' | 'PREFERENCES_APP_URL' | 'PUBLIC_API_URL' | 'CORS_ORIGINS'>): ReadonlySet<string> {
  const urls = [config.ADMIN_APP_URL, config.PREFERENCES_APP_URL, config.PUBLIC_API_URL, ...config.CORS_ORIGINS];
  return new Set(urls.map(originOf).filter((o): o is string => o !== null));
}

export const isSafeMethod = (method: string): boolean => SAFE_METHODS.has(method);

/**
 * Cookie-authenticated mutations must come from one of our origins AND carry a custom header. SameSite=Lax
 * already stops most cross-site posts; the Origin check covers same-site sibling hosts, and the custom
 * header cannot be sent cross-origin without a CORS preflight we would refuse.
 */
export function checkCsrf(request: FastifyRequest, origins: ReadonlySet<string>): void {
  const origin = request.headers.origin;
  if (typeof origin !== 'string' || !origins.has(origin)) {
    throw forbidden('csrf_failed', 'This request must come from the Subscribe Flow apps (Origin header missing or not allowed)');
  }
  if (request.headers[CSRF_HEADER] !== CSRF_HEADER_VALUE) {
    throw forbidden('csrf_failed', `This request must carry the header "X-Requested-With: ${CSRF_HEADER_VALUE}"`);
  }
}
