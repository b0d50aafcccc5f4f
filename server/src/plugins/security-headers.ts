import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import helmet from 'helmet';

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

const OPTIONS = {
  contentSecurityPolicy: { useDefaults: false, directives: API_CSP },
  frameguard: false,
  referrerPolicy: { policy: 'no-referrer' as const },
};

/**
 * The headers helmet sets with these options, read once by letting its middleware write to a recording
 * response. They are the same for every response, so setting them costs one object copy per request,
 * where @fastify/helmet built helmet's middleware anew for every request (7 % of the API's CPU on the
 * preference page's read).
 */
export function securityHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader: (name: string, value: string | number | readonly string[]) => {
      headers[name.toLowerCase()] = String(value);
    },
    removeHeader: (name: string) => {
      delete headers[name.toLowerCase()];
    },
  };
  let finished = false;
  helmet(OPTIONS)({} as IncomingMessage, recorder as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error;
    finished = true;
  });
  if (!finished) throw new Error('helmet did not finish synchronously');
  return headers;
}

/**
 * Security headers on every response (helmet): the CSP above, HSTS, nosniff, no referrer, the
 * cross-origin isolation headers. X-Frame-Options is left out: CSP frame-ancestors says the same for
 * every page here, and an X-Frame-Options of its own would stop the embeddable preference center from
 * being framed by the sites its organization allows. Routes replace a header by setting it themselves.
 */
export function registerSecurityHeaders(app: FastifyInstance): void {
  const headers = securityHeaders();
  app.addHook('onRequest', (_request, reply, done) => {
    void reply.headers(headers);
    done();
  });
}
