import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../../config/index.ts';
import type { Links } from './links.ts';
import type { PreferenceCenterRepository } from './preference-center.repository.ts';
import { readSettings } from './settings.ts';

// web/dist of this checkout; deployments that keep the build elsewhere set WEB_DIST_DIR.
const CHECKOUT_WEB_DIST = fileURLToPath(new URL('../../../../web/dist', import.meta.url));
const PREFIX = '/preferences';

/**
 * Single-box mode: serves the built preference-center SPA at /preferences/ when the build exists
 * (`npm run build -w web`); otherwise the API serves no pages and the SPA lives elsewhere (Cloudflare
 * Pages). The page is embeddable only by the origins its organization lists (CSP frame-ancestors, which
 * needs the organization, so it is read from the link on every page load) and is never indexed.
 */
export async function registerPreferenceSite(
  app: FastifyInstance,
  deps: { config: Pick<Config, 'WEB_DIST_DIR'>; links: Links; repository: PreferenceCenterRepository },
): Promise<void> {
  const root = path.join(deps.config.WEB_DIST_DIR || CHECKOUT_WEB_DIST, 'preferences');
  const indexFile = path.join(root, 'index.html');
  if (!existsSync(indexFile)) return;
  const indexHtml = readFileSync(indexFile);
  const { links, repository } = deps;

  async function frameAncestors(request: FastifyRequest): Promise<string> {
    const query = request.query as { token?: unknown; org?: unknown };
    let organization;
    if (typeof query.token === 'string' && query.token.length <= 2048) {
      const claims = links.genuinePreference(query.token) ?? links.genuineConfirmation(query.token);
      if (claims) organization = await repository.organizationById(claims.organizationId);
    } else if (typeof query.org === 'string' && /^[a-z0-9-]{1,64}$/.test(query.org)) {
      organization = await repository.organizationBySlug(query.org);
    }
    const origins = organization ? readSettings(organization.preference_center).embed_origins : [];
    return ["'self'", ...origins].join(' ');
  }

  await app.register(async (site) => {
    // Assets are precompressed at build (web/precompress.ts): send the .br or .gz copy the client accepts.
    await site.register(fastifyStatic, { root: path.join(root, 'assets'), serve: false, preCompressed: true });

    // Hashed file names never change content, so browsers may keep them for a year.
    site.get(`${PREFIX}/assets/*`, { schema: { hide: true }, config: { rateLimit: false } }, (request, reply) =>
      reply.sendFile((request.params as { '*': string })['*'], { maxAge: '365d', immutable: true }),
    );

    site.get(PREFIX, { schema: { hide: true }, config: { rateLimit: false } }, (request, reply) => {
      const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
      return reply.redirect(`${PREFIX}/${query}`, 301);
    });

    // Every other path is the SPA, which routes on the client (/preferences/ and /preferences/confirm).
    site.get(`${PREFIX}/*`, { schema: { hide: true }, config: { rateLimit: false } }, async (request, reply) => {
      const csp = [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' https: data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        `frame-ancestors ${await frameAncestors(request)}`,
      ].join('; ');
      // The page's first API call starts with the HTML instead of after the JavaScript has run.
      const token = (request.query as { token?: unknown }).token;
      if (typeof token === 'string' && /^[A-Za-z0-9._-]{16,2048}$/.test(token) && !request.url.split('?')[0]!.endsWith('/confirm')) {
        void reply.header('link', `</api/v1/preference-center?token=${token}>; rel=preload; as=fetch; crossorigin=use-credentials`);
      }
      return reply
        .type('text/html; charset=utf-8')
        .headers({
          'content-security-policy': csp,
          'x-robots-tag': 'noindex, nofollow',
          'referrer-policy': 'no-referrer',
          'x-content-type-options': 'nosniff',
          'cache-control': 'no-cache',
        })
        .send(indexHtml);
    });
  });
}
