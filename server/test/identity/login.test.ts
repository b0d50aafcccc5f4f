import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/lib/crypto.ts';
import { createTestContext, type TestContext } from '../support/context.ts';
import { appHeaders, latestMail, requestLink, sessionCookie, tokenFromMail, verify } from './helpers.ts';

let ctx: TestContext;
let orgId: string;
const ADMIN = 'ada.admin@example.com';

beforeAll(async () => {
  // Room for the many links this file requests for one address; the brute-force tests read the limits back.
  ctx = await createTestContext({ ADMIN_APP_URL: 'http://admin.test/app', MAGIC_LINK_PER_EMAIL_PER_HOUR: '30', MAGIC_LINK_PER_IP_PER_HOUR: '40' });
  orgId = (await ctx.createOrganization('Login Org')).id;
  await ctx.createSession(orgId, 'admin', { email: ADMIN });
});
afterAll(() => ctx.close());

async function signIn(email: string): Promise<string> {
  expect((await requestLink(ctx, email)).statusCode).toBe(202);
  const token = await tokenFromMail(ctx, email, '/login/verify');
  const res = await verify(ctx, token);
  expect(res.statusCode).toBe(200);
  return sessionCookie(res);
}

describe('signing in with a magic link', () => {
  it('emails a link to the admin app, signs in with it, and the cookie then works until logout', async () => {
    const res = await requestLink(ctx, 'ADA.admin@example.com');
    expect(res.statusCode).toBe(202);
    const message = await latestMail(ctx, ADMIN);
    expect(message).toMatchObject({ organization_id: null, subject: 'Your Subscribe Flow sign-in link' });
    const link = new URL(message!.text.match(/https?:\/\/\S+/)![0]);
    expect(`${link.origin}${link.pathname}`).toBe('http://admin.test/app/login/verify');
    const token = link.searchParams.get('token')!;
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const verified = await verify(ctx, token);
    expect(verified.statusCode).toBe(200);
    expect(verified.json().user).toMatchObject({ email: ADMIN, is_platform_admin: false });
    const setCookie = String(verified.headers['set-cookie']);
    expect(setCookie).toMatch(/^sf_session=[A-Za-z0-9_-]{43};/);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Lax');
    expect(setCookie).toContain('Path=/');
    expect(setCookie).toContain('Max-Age=604800');
    expect(setCookie).not.toContain('Secure');
    const cookie = sessionCookie(verified);

    const me = await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie } });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({
      user: { email: ADMIN },
      memberships: [{ organization: { id: orgId, name: 'Login Org' }, role: 'admin' }],
      current_organization: { id: orgId, role: 'admin' },
    });
    // Dual auth: the same cookie works on an API-key route, in the only organization of the user.
    const subscribers = await ctx.app.inject({ method: 'GET', url: '/api/v1/subscribers', headers: { cookie } });
    expect(subscribers.statusCode).toBe(200);

    const logout = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: { cookie, ...appHeaders(ctx) } });
    expect(logout.statusCode).toBe(204);
    expect(String(logout.headers['set-cookie'])).toMatch(/^sf_session=;/);
    const after = await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie } });
    expect(after.statusCode).toBe(401);
    expect(after.json().error.code).toBe('invalid_session');
  });

  it('answers an unknown address exactly like a known one and sends it nothing', async () => {
    const known = await requestLink(ctx, ADMIN);
    const unknown = await requestLink(ctx, 'nobody@example.com');
    expect(unknown.statusCode).toBe(known.statusCode);
    expect(unknown.body).toBe(known.body);
    expect(await latestMail(ctx, 'nobody@example.com')).toBeUndefined();
  });

  it('stores only the SHA-256 of a token, with a 15-minute lifetime', async () => {
    await requestLink(ctx, ADMIN);
    const token = await tokenFromMail(ctx, ADMIN, '/login/verify');
    const rows = await ctx.container.db.selectFrom('magic_link_tokens').select(['token_hash', 'expires_at', 'created_at']).execute();
    const row = rows.find((r) => r.token_hash === sha256Hex(token));
    expect(row).toBeDefined();
    expect(rows.some((r) => r.token_hash.includes(token))).toBe(false);
    expect(Math.round((row!.expires_at.getTime() - row!.created_at.getTime()) / 1000)).toBe(900);
  });

  it('never consumes a token on GET', async () => {
    await requestLink(ctx, ADMIN);
    const token = await tokenFromMail(ctx, ADMIN, '/login/verify');
    const get = await ctx.app.inject({ method: 'GET', url: `/api/v1/auth/verify?token=${token}` });
    expect(get.statusCode).toBe(404);
    expect((await verify(ctx, token)).statusCode).toBe(200);
  });
});

describe('rejected tokens', () => {
  it('refuses a reused token', async () => {
    await requestLink(ctx, ADMIN);
    const token = await tokenFromMail(ctx, ADMIN, '/login/verify');
    expect((await verify(ctx, token)).statusCode).toBe(200);
    const again = await verify(ctx, token);
    expect(again.statusCode).toBe(401);
    expect(again.json().error.code).toBe('magic_link_already_used');
    expect(again.headers['set-cookie']).toBeUndefined();
  });

  it('refuses an expired token', async () => {
    await requestLink(ctx, ADMIN);
    const token = await tokenFromMail(ctx, ADMIN, '/login/verify');
    await ctx.container.db
      .updateTable('magic_link_tokens')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('token_hash', '=', sha256Hex(token))
      .execute();
    const res = await verify(ctx, token);
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('magic_link_expired');
  });

  it('refuses a tampered or malformed token', async () => {
    await requestLink(ctx, ADMIN);
    const token = await tokenFromMail(ctx, ADMIN, '/login/verify');
    const tampered = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
    for (const bad of [tampered, token.slice(1), `${token}x`, 'not a token']) {
      const res = await verify(ctx, bad);
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('invalid_token');
    }
    // The genuine token is still good: failed attempts do not burn it.
    expect((await verify(ctx, token)).statusCode).toBe(200);
  });

  it('refuses tokens minted for something else: an organization-bound preference token and an invitation token', async () => {
    const preference = ctx.container.tokens.sign({ purpose: 'pref', organizationId: orgId, subjectId: orgId, expiresAt: Math.floor(Date.now() / 1000) + 600 });
    expect((await verify(ctx, preference)).json().error.code).toBe('invalid_token');

    const owner = await ctx.createSession(orgId, 'owner');
    const invite = await ctx.app.inject({
      method: 'POST',
      url: '/api/v1/invitations',
      headers: owner.headers,
      payload: { email: 'invitee@example.com', role: 'viewer' },
    });
    expect(invite.statusCode).toBe(201);
    const invitationToken = await tokenFromMail(ctx, 'invitee@example.com', '/invitations/accept');
    expect((await verify(ctx, invitationToken)).json().error.code).toBe('invalid_token');

    await requestLink(ctx, ADMIN);
    const loginToken = await tokenFromMail(ctx, ADMIN, '/login/verify');
    const accept = await ctx.app.inject({ method: 'POST', url: '/api/v1/invitations/accept', headers: appHeaders(ctx), payload: { token: loginToken } });
    expect(accept.json().error.code).toBe('invalid_token');
  });

  it('refuses a verification without the app Origin and CSRF header (login CSRF)', async () => {
    await requestLink(ctx, ADMIN);
    const token = await tokenFromMail(ctx, ADMIN, '/login/verify');
    const foreign = await verify(ctx, token, { headers: { origin: 'https://evil.example', 'x-requested-with': 'subscribe-flow' } });
    expect(foreign.statusCode).toBe(403);
    expect(foreign.json().error.code).toBe('csrf_failed');
    expect((await verify(ctx, token, { headers: { origin: 'http://admin.test' } })).statusCode).toBe(403);
    expect((await verify(ctx, token)).statusCode).toBe(200);
  });

  it("replaces the browser's previous session on a new sign-in", async () => {
    const first = await signIn(ADMIN);
    await requestLink(ctx, ADMIN);
    const token = await tokenFromMail(ctx, ADMIN, '/login/verify');
    const second = await verify(ctx, token, { headers: { ...appHeaders(ctx), cookie: first } });
    expect(second.statusCode).toBe(200);
    expect((await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: first } })).statusCode).toBe(401);
    expect((await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: sessionCookie(second) } })).statusCode).toBe(200);
  });
});

describe('brute force', () => {
  it('limits token guesses per IP with 429 and Retry-After', async () => {
    const limit = ctx.config.MAGIC_LINK_PER_IP_PER_HOUR;
    const statuses: number[] = [];
    for (let i = 0; i <= limit; i += 1) {
      statuses.push((await verify(ctx, 'A'.repeat(43), { remoteAddress: '203.0.113.7' })).statusCode);
    }
    expect(statuses.slice(0, limit).every((s) => s === 401)).toBe(true);
    const blocked = await verify(ctx, 'A'.repeat(43), { remoteAddress: '203.0.113.7' });
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json().error.code).toBe('rate_limited');
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    // Another address is not affected.
    expect((await verify(ctx, 'A'.repeat(43), { remoteAddress: '203.0.113.8' })).statusCode).toBe(401);
  });

  it('limits link requests per address and per IP', async () => {
    const perEmail = ctx.config.MAGIC_LINK_PER_EMAIL_PER_HOUR;
    for (let i = 0; i < perEmail; i += 1) expect((await requestLink(ctx, 'flood@example.com', `198.51.100.${i}`)).statusCode).toBe(202);
    const blocked = await requestLink(ctx, 'FLOOD@example.com', '198.51.100.200');
    expect(blocked.statusCode).toBe(429);

    const perIp = ctx.config.MAGIC_LINK_PER_IP_PER_HOUR;
    for (let i = 0; i < perIp; i += 1) expect((await requestLink(ctx, `spray${i}@example.com`, '192.0.2.55')).statusCode).toBe(202);
    expect((await requestLink(ctx, 'spray-last@example.com', '192.0.2.55')).statusCode).toBe(429);
  });
});
