import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.ts';
import { createSubscriber } from './helpers.ts';

let ctx: TestContext;
let org: { id: string; slug: string; key: string };

beforeAll(async () => {
  ctx = await createTestContext({ PREFERENCES_APP_URL: 'https://prefs.example.com/preferences/' });
  org = await ctx.createOrganization();
});
afterAll(() => ctx.close());

const mint = (subscriberId: string, payload: object = {}, key = org.key) =>
  ctx.app.inject({ method: 'POST', url: `/api/v1/subscribers/${subscriberId}/preference-token`, headers: { authorization: `Bearer ${key}` }, payload });
const view = (token: string) => ctx.app.inject({ method: 'GET', url: `/api/v1/preference-center?token=${encodeURIComponent(token)}` });

describe('minting a preference link', () => {
  it('returns a token, the page URL with it, and an expiry 7 days out by default', async () => {
    const id = await createSubscriber(ctx, org.key, { email: 'mint@example.com' });
    const res = await mint(id);
    expect(res.statusCode).toBe(200);
    const { token, url, expires_at: expiresAt } = res.json();
    expect(url).toBe(`https://prefs.example.com/preferences/?token=${token}`);
    const days = (new Date(expiresAt).getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(6.99);
    expect(days).toBeLessThanOrEqual(7);
    expect((await view(token)).statusCode).toBe(200);
  });

  it('accepts a lifetime of up to 90 days and no more', async () => {
    const id = await createSubscriber(ctx, org.key, { email: 'ttl@example.com' });
    const ok = await mint(id, { expires_in: 90 * 86_400 });
    expect((new Date(ok.json().expires_at).getTime() - Date.now()) / 86_400_000).toBeGreaterThan(89.99);
    const tooLong = await mint(id, { expires_in: 90 * 86_400 + 1 });
    expect(tooLong.statusCode).toBe(422);
    expect(tooLong.json().error.details[0].field).toBe('expires_in');
  });

  it('needs the subscribers:write scope', async () => {
    const id = await createSubscriber(ctx, org.key, { email: 'scope@example.com' });
    const reader = await ctx.createKey(org.id, ['subscribers:read']);
    const res = await mint(id, {}, reader.key);
    expect(res.statusCode).toBe(403);
    expect((await ctx.app.inject({ method: 'POST', url: `/api/v1/subscribers/${id}/preference-token`, payload: {} })).statusCode).toBe(401);
  });

  it('answers 404 for another organization\'s subscriber', async () => {
    const other = await ctx.createOrganization();
    const foreign = await createSubscriber(ctx, other.key, { email: 'foreign@example.com' });
    const res = await mint(foreign);
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('subscriber_not_found');
  });
});

describe('a link that does not work', () => {
  it('is 401 invalid_token when tampered with, and names nothing', async () => {
    const id = await createSubscriber(ctx, org.key, { email: 'tamper@example.com' });
    const { token } = (await mint(id)).json();
    const [body, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString());
    const forged = `${Buffer.from(JSON.stringify({ ...claims, s: '01900000-0000-7000-8000-000000000000' })).toString('base64url')}.${signature}`;
    for (const bad of [forged, `${token.slice(0, -2)}xx`, 'not-a-token-at-all-0123456789']) {
      const res = await view(bad);
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('invalid_token');
      expect(res.json().error.details).toBeUndefined();
    }
  });

  it('is 401 token_expired when expired, naming the organization so the page can offer a fresh link', async () => {
    const id = await createSubscriber(ctx, org.key, { email: 'expired@example.com' });
    const token = ctx.container.tokens.sign({ purpose: 'pref', organizationId: org.id, subjectId: id, expiresAt: Math.floor(Date.now() / 1000) - 1 });
    const res = await view(token);
    expect(res.statusCode).toBe(401);
    expect(res.json().error).toMatchObject({ code: 'token_expired', details: [{ field: 'token', organization: org.slug, organization_name: expect.any(String) }] });
  });

  it('is refused when minted for another purpose', async () => {
    const id = await createSubscriber(ctx, org.key, { email: 'purpose@example.com' });
    const token = ctx.container.tokens.sign({ purpose: 'unsub', organizationId: org.id, subjectId: id, expiresAt: Math.floor(Date.now() / 1000) + 600 });
    expect((await view(token)).json().error.code).toBe('invalid_token');
  });

  it('is 401 invalid_token once its subscriber is deleted', async () => {
    const id = await createSubscriber(ctx, org.key, { email: 'gone@example.com' });
    const { token } = (await mint(id)).json();
    await ctx.app.inject({ method: 'DELETE', url: `/api/v1/subscribers/${id}`, headers: { authorization: `Bearer ${org.key}` } });
    const res = await view(token);
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('invalid_token');
  });

  it('is 422 when missing', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/api/v1/preference-center' });
    expect(res.statusCode).toBe(422);
    expect(res.json().error.details[0].field).toBe('token');
  });
});

describe('rate limits', () => {
  it('counts requests per link, not per client address', async () => {
    const limited = await createTestContext({ RATE_LIMIT_PREFERENCE_TOKEN_PER_MINUTE: '3' });
    try {
      const o = await limited.createOrganization();
      const links = [];
      for (const email of ['one@example.com', 'two@example.com']) {
        const id = await createSubscriber(limited, o.key, { email });
        links.push((await limited.app.inject({ method: 'POST', url: `/api/v1/subscribers/${id}/preference-token`, headers: { authorization: `Bearer ${o.key}` }, payload: {} })).json().token);
      }
      const get = (token: string) => limited.app.inject({ method: 'GET', url: `/api/v1/preference-center?token=${token}` });
      const first = [];
      for (let i = 0; i < 4; i += 1) first.push((await get(links[0])).statusCode);
      expect(first).toEqual([200, 200, 200, 429]);
      expect((await get(links[1])).statusCode).toBe(200);
    } finally {
      await limited.close();
    }
  });
});
