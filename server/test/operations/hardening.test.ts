import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.ts';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext({ ADMIN_APP_URL: 'https://app.example.test', CORS_ORIGINS: 'https://partner-app.example.test' });
});
afterAll(() => ctx.close());

describe('security headers', () => {
  it('gives JSON responses a policy that loads nothing and is framed by no one, plus HSTS and nosniff', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/health' });
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res.headers['strict-transport-security']).toMatch(/max-age=\d+/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['cross-origin-opener-policy']).toBe('same-origin');
    // Frame control is CSP's job here; the preference center's embedders are allowed by frame-ancestors.
    expect(res.headers['x-frame-options']).toBeUndefined();
  });

  it('lets the /docs reference UI load its own scripts and styles', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/docs/' });
    expect(res.statusCode).toBe(200);
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain("default-src 'none'");
    expect(csp).not.toContain('upgrade-insecure-requests');
  });
});

describe('CORS', () => {
  it('answers our own apps with credentials and a foreign origin with no allow header at all', async () => {
    for (const origin of ['https://app.example.test', 'https://partner-app.example.test']) {
      const res = await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { origin } });
      expect(res.headers['access-control-allow-origin'], origin).toBe(origin);
      expect(res.headers['access-control-allow-credentials']).toBe('true');
    }
    const foreign = await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { origin: 'https://evil.example' } });
    expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
    expect(foreign.headers['access-control-allow-credentials']).toBeUndefined();
    const preflight = await ctx.app.inject({
      method: 'OPTIONS',
      url: '/api/v1/subscribers',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    expect(preflight.headers['access-control-allow-methods']).toBeUndefined();
  });
});
