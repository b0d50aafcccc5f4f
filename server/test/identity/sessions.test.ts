import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/lib/crypto.ts';
import { createTestContext, sessionApi, type TestContext } from '../support/context.ts';
import { appHeaders, requestLink, tokenFromMail, verify } from './helpers.ts';

let ctx: TestContext;
let orgA: { id: string; slug: string; key: string };
let orgB: { id: string; slug: string; key: string };

beforeAll(async () => {
  ctx = await createTestContext({ CORS_ORIGINS: 'https://dashboard.example.com' });
  orgA = await ctx.createOrganization('Alpha');
  orgB = await ctx.createOrganization('Beta');
});
afterAll(() => ctx.close());

const redisKey = (cookie: string) => `${ctx.config.REDIS_PREFIX}:sess:${sha256Hex(cookie.replace(/^sf_session=/, ''))}`;

describe('session storage', () => {
  it('keeps only a hash of the session id in Redis, with a 7-day expiry', async () => {
    const session = await ctx.createSession(orgA.id, 'admin');
    const raw = session.cookie.replace(/^sf_session=/, '');
    expect(raw.length).toBeGreaterThanOrEqual(43);
    const ttl = await ctx.container.redis.ttl(redisKey(session.cookie));
    expect(ttl).toBeGreaterThan(604_700);
    expect(ttl).toBeLessThanOrEqual(604_800);
    const keys = await ctx.container.redis.keys(`${ctx.config.REDIS_PREFIX}:*`);
    expect(keys.some((k) => k.includes(raw))).toBe(false);
    const values = await Promise.all(keys.filter((k) => k.includes(':sess:') && !k.includes(':user:')).map((k) => ctx.container.redis.get(k)));
    expect(values.some((v) => v?.includes(raw))).toBe(false);
  });

  it('slides the expiry forward on use and re-sends the cookie', async () => {
    const session = await ctx.createSession(orgA.id, 'admin');
    const key = redisKey(session.cookie);
    // Pretend the session was last used an hour ago, with only a day left.
    const stored = JSON.parse((await ctx.container.redis.get(key))!);
    await ctx.container.redis.set(key, JSON.stringify({ ...stored, lat: Date.now() - 3_600_000 }), 'EX', 86_400);
    const res = await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: session.cookie } });
    expect(res.statusCode).toBe(200);
    expect(String(res.headers['set-cookie'])).toContain('Max-Age=604800');
    expect(await ctx.container.redis.ttl(key)).toBeGreaterThan(604_700);
  });

  it('ends a session at its absolute maximum age however active it is', async () => {
    const session = await ctx.createSession(orgA.id, 'admin');
    const key = redisKey(session.cookie);
    const stored = JSON.parse((await ctx.container.redis.get(key))!);
    await ctx.container.redis.set(key, JSON.stringify({ ...stored, cat: Date.now() - ctx.config.SESSION_MAX_AGE_SECONDS * 1000 - 1000 }), 'EX', 600);
    const res = await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: session.cookie } });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('invalid_session');
    expect(await ctx.container.redis.exists(key)).toBe(0);
  });

  it('rejects an unknown or malformed cookie with 401 invalid_session and clears it', async () => {
    for (const cookie of ['sf_session=' + 'x'.repeat(43), 'sf_session=short']) {
      const res = await ctx.app.inject({ method: 'GET', url: '/api/v1/subscribers', headers: { cookie } });
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('invalid_session');
      expect(String(res.headers['set-cookie'])).toMatch(/^sf_session=;/);
    }
  });
});

describe('listing and revoking own sessions', () => {
  it("lists the user's sessions, marks the current one, and revokes another one", async () => {
    const first = await ctx.createSession(orgA.id, 'viewer', { email: 'multi@example.com' });
    const second = await ctx.createSession(orgA.id, 'viewer', { email: 'multi@example.com' });
    const list = await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/sessions', headers: second.headers });
    expect(list.statusCode).toBe(200);
    const items = list.json().items as { id: string; current: boolean }[];
    expect(items.map((s) => s.id).sort()).toEqual([first.sessionId, second.sessionId].sort());
    expect(items.find((s) => s.current)?.id).toBe(second.sessionId);
    expect(list.body).not.toContain(first.cookie.slice(11));

    // A viewer may manage their own sessions: these are user routes, not organization mutations.
    const revoke = await ctx.app.inject({ method: 'DELETE', url: `/api/v1/auth/sessions/${first.sessionId}`, headers: second.headers });
    expect(revoke.statusCode).toBe(204);
    expect((await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: first.cookie } })).statusCode).toBe(401);
    expect((await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: second.cookie } })).statusCode).toBe(200);
  });

  it("cannot revoke another user's session", async () => {
    const mine = await ctx.createSession(orgA.id, 'owner');
    const theirs = await ctx.createSession(orgA.id, 'viewer');
    const res = await ctx.app.inject({ method: 'DELETE', url: `/api/v1/auth/sessions/${theirs.sessionId}`, headers: mine.headers });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('session_not_found');
    expect((await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: theirs.cookie } })).statusCode).toBe(200);
  });
});

describe('CSRF', () => {
  it('refuses cookie-authenticated mutations without an allowed Origin or without the custom header', async () => {
    const session = await ctx.createSession(orgA.id, 'admin');
    const base = { cookie: session.cookie, 'x-organization-id': orgA.id };
    const attempts = [
      base,
      { ...base, 'x-requested-with': 'subscribe-flow' },
      { ...base, origin: 'https://evil.example', 'x-requested-with': 'subscribe-flow' },
      { ...base, origin: 'http://localhost:3000.evil.example', 'x-requested-with': 'subscribe-flow' },
      { ...base, origin: appHeaders(ctx).origin },
      { ...base, origin: appHeaders(ctx).origin, 'x-requested-with': 'XMLHttpRequest' },
    ];
    for (const headers of attempts) {
      const res = await ctx.app.inject({ method: 'POST', url: '/api/v1/tags', headers, payload: { name: 'csrf' } });
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('csrf_failed');
    }
    expect((await ctx.app.inject({ method: 'GET', url: '/api/v1/tags?limit=1', headers: base })).statusCode).toBe(200);
  });

  it('accepts the admin app, the API origin and CORS_ORIGINS', async () => {
    const session = await ctx.createSession(orgA.id, 'admin');
    const origins = ['http://localhost:3000', 'https://dashboard.example.com'];
    for (const [i, origin] of origins.entries()) {
      const res = await ctx.app.inject({
        method: 'POST',
        url: '/api/v1/tags',
        payload: { name: `allowed ${i}` },
        headers: { cookie: session.cookie, 'x-organization-id': orgA.id, origin, 'x-requested-with': 'subscribe-flow' },
      });
      expect(res.statusCode).toBe(201);
    }
  });

  it('does not apply to API keys, even with a stray cookie', async () => {
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/api/v1/tags',
      headers: { authorization: `Bearer ${orgA.key}`, cookie: 'sf_session=whatever' },
      payload: { name: 'keyed' },
    });
    expect(res.statusCode).toBe(201);
  });
});

describe('choosing the organization', () => {
  it('uses the only membership by default and requires X-Organization-Id with several', async () => {
    const single = await ctx.createSession(orgA.id, 'viewer');
    expect((await ctx.app.inject({ method: 'GET', url: '/api/v1/tags', headers: { cookie: single.cookie } })).statusCode).toBe(200);

    const multi = await ctx.createSession(orgA.id, 'viewer', { email: 'both@example.com' });
    await ctx.createSession(orgB.id, 'admin', { email: 'both@example.com' });
    const ambiguous = await ctx.app.inject({ method: 'GET', url: '/api/v1/tags', headers: { cookie: multi.cookie } });
    expect(ambiguous.statusCode).toBe(400);
    expect(ambiguous.json().error.code).toBe('organization_required');
    const me = await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: multi.cookie, 'x-organization-id': orgB.id } });
    expect(me.json().current_organization).toMatchObject({ id: orgB.id, role: 'admin' });
    expect(me.json().memberships).toHaveLength(2);
  });

  it('answers a foreign or unknown organization id exactly like a missing one', async () => {
    const session = await ctx.createSession(orgA.id, 'owner');
    const answers = [];
    for (const id of [orgB.id, '01890000-0000-7000-8000-000000000000', 'not-a-uuid']) {
      const res = await ctx.app.inject({ method: 'GET', url: '/api/v1/subscribers', headers: { cookie: session.cookie, 'x-organization-id': id } });
      expect(res.statusCode).toBe(404);
      answers.push(res.json().error.code);
    }
    expect(new Set(answers)).toEqual(new Set(['organization_not_found']));
  });

  it('refuses an API key whose organization differs from X-Organization-Id', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/api/v1/tags', headers: { authorization: `Bearer ${orgA.key}`, 'x-organization-id': orgB.id } });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('organization_mismatch');
  });

  it('lets a user without organizations sign in, see themselves and create one', async () => {
    const loner = await ctx.createSession(null);
    const call = sessionApi(ctx, loner);
    expect((await call('GET', '/api/v1/auth/me')).json()).toMatchObject({ memberships: [], current_organization: null });
    expect((await call('GET', '/api/v1/tags')).json().error.code).toBe('organization_required');
    expect((await call('POST', '/api/v1/organizations', { name: 'Loner Inc' })).statusCode).toBe(201);
    expect((await call('GET', '/api/v1/tags')).statusCode).toBe(200);
  });
});

describe('rate limits', () => {
  it('counts a session per user, not per IP', async () => {
    const session = await ctx.createSession(orgA.id, 'viewer');
    const res = await ctx.app.inject({ method: 'GET', url: '/api/v1/tags', headers: { cookie: session.cookie } });
    expect(Number(res.headers['ratelimit-limit'])).toBe(ctx.config.RATE_LIMIT_API_KEY_PER_MINUTE);
    const keys = await ctx.container.redis.keys(`${ctx.config.REDIS_PREFIX}:rl:*user:${session.userId}*`);
    expect(keys.length).toBe(1);
  });
});

describe('the Secure attribute', () => {
  it('is set when the public API URL is https', async () => {
    const secure = await createTestContext({ PUBLIC_API_URL: 'https://api.example.com', ADMIN_APP_URL: 'https://admin.example.com' });
    try {
      const org = await secure.createOrganization();
      await secure.createSession(org.id, 'owner', { email: 'secure@example.com' });
      await requestLink(secure, 'secure@example.com');
      const res = await verify(secure, await tokenFromMail(secure, 'secure@example.com', '/login/verify'));
      expect(res.statusCode).toBe(200);
      expect(String(res.headers['set-cookie'])).toContain('Secure');
    } finally {
      await secure.close();
    }
  });
});
