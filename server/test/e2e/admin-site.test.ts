import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.ts';

const ADMIN_ORIGIN = 'https://admin.example.test';
let ctx: TestContext;
let dist: string;

beforeAll(async () => {
  // A stand-in for `npm run build:admin -w web`: the server only needs index.html and the assets folder.
  dist = mkdtempSync(path.join(tmpdir(), 'sf-admin-dist-'));
  mkdirSync(path.join(dist, 'admin', 'assets'), { recursive: true });
  writeFileSync(path.join(dist, 'admin', 'index.html'), '<!doctype html><title>Admin</title><script type="module" src="/admin/assets/main-abcd.js"></script>');
  writeFileSync(path.join(dist, 'admin', 'assets', 'main-abcd.js'), 'console.log("admin")');
  ctx = await createTestContext({ WEB_DIST_DIR: dist, ADMIN_APP_URL: `${ADMIN_ORIGIN}/` });
});
afterAll(async () => {
  await ctx.close();
  rmSync(dist, { recursive: true, force: true });
});

describe('serving the admin dashboard (single-box mode)', () => {
  it('answers every client route with the app, unframeable and not indexable', async () => {
    for (const url of ['/admin/', '/admin/subscribers/0190a2c4-0000-7000-8000-000000000000', '/admin/login/verify?token=abc']) {
      const res = await ctx.app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(200);
      expect(res.body).toContain('<title>Admin</title>');
      expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(res.headers['content-security-policy']).toContain("script-src 'self'");
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['cache-control']).toBe('no-cache');
    }
  });

  it('serves hashed assets with a year of caching, and redirects /admin to /admin/', async () => {
    const asset = await ctx.app.inject({ method: 'GET', url: '/admin/assets/main-abcd.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toContain('immutable');
    expect((await ctx.app.inject({ method: 'GET', url: '/admin/assets/missing.js' })).statusCode).toBe(404);
    const bare = await ctx.app.inject({ method: 'GET', url: '/admin?x=1' });
    expect(bare.statusCode).toBe(301);
    expect(bare.headers.location).toBe('/admin/?x=1');
  });

  it('serves nothing at /admin/ when the build is missing', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'sf-admin-empty-'));
    const bare = await createTestContext({ WEB_DIST_DIR: empty });
    try {
      expect((await bare.app.inject({ method: 'GET', url: '/admin/' })).statusCode).toBe(404);
    } finally {
      await bare.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('calling the API from the dashboard on another origin', () => {
  it('answers the preflight of the admin origin with the methods and headers the app sends', async () => {
    const res = await ctx.app.inject({
      method: 'OPTIONS',
      url: '/api/v1/subscribers',
      headers: { origin: ADMIN_ORIGIN, 'access-control-request-method': 'PATCH', 'access-control-request-headers': 'x-requested-with, x-organization-id' },
    });
    expect(res.statusCode).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(ADMIN_ORIGIN);
    expect(res.headers['access-control-allow-credentials']).toBe('true');
    expect(res.headers['access-control-allow-methods']).toContain('PATCH');
    expect(res.headers['access-control-allow-headers']).toContain('x-organization-id');
  });

  it('lets the admin origin read answers, errors included, and gives other origins nothing', async () => {
    const denied = await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { origin: ADMIN_ORIGIN } });
    expect(denied.statusCode).toBe(401);
    expect(denied.headers['access-control-allow-origin']).toBe(ADMIN_ORIGIN);
    expect(denied.headers['access-control-expose-headers']).toContain('x-request-id');

    const evil = await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { origin: 'https://evil.example' } });
    expect(evil.headers['access-control-allow-origin']).toBeUndefined();
    const evilPreflight = await ctx.app.inject({
      method: 'OPTIONS',
      url: '/api/v1/subscribers',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'DELETE' },
    });
    expect(evilPreflight.headers['access-control-allow-origin']).toBeUndefined();
    expect(evilPreflight.headers['access-control-allow-methods']).toBeUndefined();
  });
});
