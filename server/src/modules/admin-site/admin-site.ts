import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config/index.ts';

// web/dist of this checkout; deployments that keep the build elsewhere set WEB_DIST_DIR.
const CHECKOUT_WEB_DIST = fileURLToPath(new URL('../../../../web/dist', import.meta.url));
const PREFIX = '/admin';

// Scripts only from our origin. Inline styles are allowed because the dev mailbox and the template
// preview show email HTML (inline styles by nature) in sandboxed srcdoc frames, which inherit this policy.
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' https: data:",
  "connect-src 'self'",
  "font-src 'self'",
  "frame-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Single-box mode: serves the built admin dashboard at /admin/ when the build exists
 * (`npm run build:admin -w web`); otherwise the dashboard is deployed elsewhere as a static site and
 * talks to this API across origins. Every path under /admin/ that is not an asset is the SPA, which
 * routes on the client.
 */
export async function registerAdminSite(app: FastifyInstance, config: Pick<Config, 'WEB_DIST_DIR'>): Promise<void> {
  const root = path.join(config.WEB_DIST_DIR || CHECKOUT_WEB_DIST, 'admin');
  const indexFile = path.join(root, 'index.html');
  if (!existsSync(indexFile)) return;
  const indexHtml = readFileSync(indexFile);
  const noLimit = { rateLimit: false } as const;

  await app.register(async (site) => {
    // Assets are precompressed at build (web/precompress.ts): send the .br or .gz copy the client accepts.
    await site.register(fastifyStatic, { root: path.join(root, 'assets'), serve: false, preCompressed: true });

    // Hashed file names never change content, so browsers may keep them for a year.
    site.get(`${PREFIX}/assets/*`, { schema: { hide: true }, config: noLimit }, (request, reply) =>
      reply.sendFile((request.params as { '*': string })['*'], { maxAge: '365d', immutable: true }),
    );

    site.get(PREFIX, { schema: { hide: true }, config: noLimit }, (request, reply) => {
      const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
      return reply.redirect(`${PREFIX}/${query}`, 301);
    });

    site.get(`${PREFIX}/*`, { schema: { hide: true }, config: noLimit }, (_request, reply) =>
      reply
        .type('text/html; charset=utf-8')
        .headers({
          'content-security-policy': CSP,
          'x-frame-options': 'DENY',
          // Sign-in and invitation links carry their token in the query string: never pass it on.
          'referrer-policy': 'no-referrer',
          'x-robots-tag': 'noindex, nofollow',
          'x-content-type-options': 'nosniff',
          'cache-control': 'no-cache',
        })
        .send(indexHtml),
    );
  });
}
