import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';

// The API answers JSON, which a browser never renders as a page: it may load nothing, be framed by no
// one and submit nowhere. The HTML this process serves sets its own policy on its own routes, which
// replaces this one: the reference UI at /docs (plugins/openapi.ts), the admin dashboard
// (modules/admin-site) and the preference center, which its organization may embed
// (modules/preference-center/site.ts).
const API_CSP = {
  'default-src': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'none'"],
  'frame-ancestors': ["'none'"],
};

/**
 * Security headers on every response (@fastify/helmet): the CSP above, HSTS, nosniff, no referrer, the
 * cross-origin isolation headers. X-Frame-Options is left out: CSP frame-ancestors says the same for
 * every page here, and an X-Frame-Options of its own would stop the embeddable preference center from
 * being framed by the sites its organization allows.
 */
export async function registerSecurityHeaders(app: FastifyInstance): Promise<void> {
  await app.register(helmet, {
    contentSecurityPolicy: { useDefaults: false, directives: API_CSP },
    frameguard: false,
    referrerPolicy: { policy: 'no-referrer' },
  });
}
