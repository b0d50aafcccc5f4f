import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.ts';
import { createSubscriber, preferenceToken } from './helpers.ts';

let ctx: TestContext;
let org: { id: string; slug: string; key: string };
let dist: string;
const EMBEDDER = 'https://blog.example.org';

beforeAll(async () => {
  // A stand-in for `npm run build -w web`: the server only needs index.html and the assets folder.
  dist = mkdtempSync(path.join(tmpdir(), 'sf-web-dist-'));
  mkdirSync(path.join(dist, 'preferences', 'assets'), { recursive: true });
  writeFileSync(
    path.join(dist, 'preferences', 'index.html'),
    '<!doctype html><title>Preferences</title><script type="module" src="./assets/app-1234.js"></script>',
  );
  writeFileSync(path.join(dist, 'preferences', 'assets', 'app-1234.js'), 'console.log("app")');
  // What the build's precompression step writes next to each asset.
  writeFileSync(path.join(dist, 'preferences', 'assets', 'app-1234.js.br'), brotliCompressSync('console.log("app")'));
  writeFileSync(path.join(dist, 'preferences', 'assets', 'app-1234.js.gz'), gzipSync('console.log("app")'));
  ctx = await createTestContext({ WEB_DIST_DIR: dist });
  org = await ctx.createOrganization();
  await ctx.app.inject({
    method: 'PATCH',
    url: '/api/v1/settings/preference-center',
    headers: { authorization: `Bearer ${org.key}` },
    payload: { embed_origins: [EMBEDDER] },
  });
});
afterAll(async () => {
  await ctx.close();
  rmSync(dist, { recursive: true, force: true });
});

const frameAncestors = (csp: unknown) => /frame-ancestors ([^;]+)/.exec(String(csp))?.[1];

describe('serving the preference center (single-box mode)', () => {
  it("serves the page, not indexable, embeddable only by the organization's origins", async () => {
    const id = await createSubscriber(ctx, org.key, { email: 'page@example.com' });
    const token = await preferenceToken(ctx, org.key, id);
    const res = await ctx.app.inject({ method: 'GET', url: `/preferences/?token=${token}` });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body).toContain('<title>Preferences</title>');
    expect(res.headers['x-robots-tag']).toBe('noindex, nofollow');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(frameAncestors(res.headers['content-security-policy'])).toBe(`'self' ${EMBEDDER}`);
    expect(String(res.headers['content-security-policy'])).toContain("script-src 'self'");
    // The page's data request starts with the HTML.
    expect(res.headers.link).toBe(`</api/v1/preference-center?token=${token}>; rel=preload; as=fetch; crossorigin=use-credentials`);
    expect((await ctx.app.inject({ method: 'GET', url: `/preferences/confirm?token=${token}` })).headers.link).toBeUndefined();
  });

  it("names the organization's origins for an expired link, a confirmation link and ?org=, and only itself otherwise", async () => {
    const id = await createSubscriber(ctx, org.key, { email: 'frames@example.com' });
    const expired = ctx.container.tokens.sign({ purpose: 'pref', organizationId: org.id, subjectId: id, expiresAt: 1 });
    const confirm = ctx.container.tokens.sign({ purpose: 'confirm', organizationId: org.id, subjectId: id, expiresAt: Math.floor(Date.now() / 1000) + 60 });
    for (const url of [`/preferences/?token=${expired}`, `/preferences/confirm?token=${confirm}`, `/preferences/?org=${org.slug}`]) {
      expect(frameAncestors((await ctx.app.inject({ method: 'GET', url })).headers['content-security-policy'])).toBe(`'self' ${EMBEDDER}`);
    }
    for (const url of ['/preferences/', '/preferences/?token=forged.token-value', '/preferences/?org=unknown-org']) {
      expect(frameAncestors((await ctx.app.inject({ method: 'GET', url })).headers['content-security-policy'])).toBe("'self'");
    }
  });

  it('redirects /preferences to /preferences/, keeping the link', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/preferences?token=abc' });
    expect(res.statusCode).toBe(301);
    expect(res.headers.location).toBe('/preferences/?token=abc');
  });

  it('serves hashed assets with a long cache and nothing outside the build', async () => {
    const asset = await ctx.app.inject({ method: 'GET', url: '/preferences/assets/app-1234.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toContain('immutable');
    expect(asset.body).toBe('console.log("app")');
    expect((await ctx.app.inject({ method: 'GET', url: '/preferences/assets/missing.js' })).statusCode).toBe(404);
    expect([403, 404]).toContain((await ctx.app.inject({ method: 'GET', url: '/preferences/assets/..%2f..%2findex.html' })).statusCode);
  });

  it('sends the precompressed copy of an asset the browser accepts, and the original to one that accepts none', async () => {
    const url = '/preferences/assets/app-1234.js';
    const br = await ctx.app.inject({ method: 'GET', url, headers: { 'accept-encoding': 'gzip, deflate, br' } });
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers['content-type']).toContain('javascript');
    expect(br.headers.vary).toContain('accept-encoding');
    expect(brotliDecompressSync(br.rawPayload).toString()).toBe('console.log("app")');
    const gz = await ctx.app.inject({ method: 'GET', url, headers: { 'accept-encoding': 'gzip' } });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.rawPayload).toString()).toBe('console.log("app")');
    const plain = await ctx.app.inject({ method: 'GET', url, headers: { 'accept-encoding': 'identity' } });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body).toBe('console.log("app")');
  });
});

describe('without a web build', () => {
  it('serves no pages', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'sf-web-empty-'));
    const bare = await createTestContext({ WEB_DIST_DIR: empty });
    try {
      expect((await bare.app.inject({ method: 'GET', url: '/preferences/' })).statusCode).toBe(404);
    } finally {
      await bare.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
