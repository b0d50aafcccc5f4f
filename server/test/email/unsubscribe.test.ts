import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestContext, type TestContext } from '../support/context.ts';

let ctx: TestContext;
let call: ReturnType<typeof api>;
let orgId: string;

beforeAll(async () => {
  ctx = await createTestContext({ PREFERENCES_APP_URL: 'https://prefs.example.com/' });
  const org = await ctx.createOrganization();
  orgId = org.id;
  call = api(ctx, org.key);
});
afterAll(() => ctx.close());

async function subscriberWithLink(email: string) {
  const subscriber = (await call('POST', '/api/v1/subscribers', { email })).json();
  const url = ctx.container.services.links.unsubscribeUrl(orgId, subscriber.id, '0190c0de-0000-7000-8000-000000000001');
  return { id: subscriber.id as string, path: new URL(url).pathname };
}

const oneClick = (path: string, headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' }, payload = 'List-Unsubscribe=One-Click') =>
  ctx.app.inject({ method: 'POST', url: path, headers, payload });

describe('one-click unsubscribe (RFC 8058)', () => {
  it('unsubscribes on POST with no further step, writing history and the outbox event together', async () => {
    const { id, path } = await subscriberWithLink('one@example.com');
    const res = await oneClick(path);
    expect(res.statusCode).toBe(200);
    expect(res.headers.location).toBeUndefined();
    expect(res.json()).toEqual({ status: 'unsubscribed' });
    const subscriber = (await call('GET', `/api/v1/subscribers/${id}`)).json();
    expect(subscriber.status).toBe('unsubscribed');
    expect(subscriber.unsubscribed_at).not.toBeNull();
    const history = (await call('GET', `/api/v1/subscribers/${id}/events`)).json().items;
    expect(history[0]).toMatchObject({ action: 'unsubscribed', source: 'one_click', details: { from: 'active', campaign_id: '0190c0de-0000-7000-8000-000000000001' } });
    const events = await ctx.container.db.selectFrom('events').select(['type', 'payload']).where('subject_id', '=', id).where('type', '=', 'subscriber.unsubscribed').execute();
    expect(events).toEqual([{ type: 'subscriber.unsubscribed', payload: { subscriber: { id, email: 'one@example.com' }, source: 'one_click', campaign_id: '0190c0de-0000-7000-8000-000000000001' } }]);
  });

  it('answers 200 again when already unsubscribed, and changes nothing more', async () => {
    const { id, path } = await subscriberWithLink('twice@example.com');
    expect((await oneClick(path)).statusCode).toBe(200);
    expect((await oneClick(path)).statusCode).toBe(200);
    const history = (await call('GET', `/api/v1/subscribers/${id}/events`)).json().items;
    expect(history.filter((h: { action: string }) => h.action === 'unsubscribed')).toHaveLength(1);
  });

  it('accepts multipart and empty bodies, as mail clients send them', async () => {
    const { path } = await subscriberWithLink('multipart@example.com');
    const boundary = 'x-boundary';
    const body = `--${boundary}\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--${boundary}--\r\n`;
    expect((await oneClick(path, { 'content-type': `multipart/form-data; boundary=${boundary}` }, body)).statusCode).toBe(200);
    const other = await subscriberWithLink('empty@example.com');
    expect((await ctx.app.inject({ method: 'POST', url: other.path })).statusCode).toBe(200);
  });

  it('does nothing on GET but redirect to the preference center, opened on the unsubscribe card, with a fresh preference token', async () => {
    const { id, path } = await subscriberWithLink('scanner@example.com');
    const res = await ctx.app.inject({ method: 'GET', url: path });
    expect(res.statusCode).toBe(302);
    const location = new URL(res.headers.location as string);
    expect(`${location.origin}${location.pathname}`).toBe('https://prefs.example.com/');
    expect(location.searchParams.get('view')).toBe('unsubscribe');
    // The footer's "Manage preferences" link opens the topics instead.
    const manage = new URL((await ctx.app.inject({ method: 'GET', url: `${path}?view=manage` })).headers.location as string);
    expect(manage.searchParams.get('view')).toBeNull();
    expect(manage.searchParams.get('token')).toBeTruthy();
    const claims = ctx.container.tokens.verify(location.searchParams.get('token')!, 'pref');
    expect(claims).toMatchObject({ organizationId: orgId, subjectId: id });
    expect(claims.expiresAt).toBeGreaterThan(Date.now() / 1000);
    expect((await call('GET', `/api/v1/subscribers/${id}`)).json().status).toBe('active');
  });

  it('refuses a forged or foreign-purpose token', async () => {
    const { path } = await subscriberWithLink('forged@example.com');
    const [, , token] = path.split('/');
    const [body] = token!.split('.');
    expect((await oneClick(`/u/${body}.${'A'.repeat(43)}`)).statusCode).toBe(401);
    const pref = ctx.container.tokens.sign({ purpose: 'pref', organizationId: orgId, subjectId: crypto.randomUUID(), expiresAt: Math.floor(Date.now() / 1000) + 60 });
    expect((await oneClick(`/u/${pref}`)).json().error.code).toBe('invalid_token');
    // A tampered link ends on the "send me a new link" form of the organization it names.
    const slug = (await ctx.container.db.selectFrom('organizations').select('slug').where('id', '=', orgId).executeTakeFirstOrThrow()).slug;
    const res = await ctx.app.inject({ method: 'GET', url: `/u/${body}.${'A'.repeat(43)}` });
    expect(res.headers.location).toBe(`https://prefs.example.com/?error=invalid_link&org=${slug}`);
  });

  it('sends a link cut short or mangled by a mail client to a page, never to a JSON error', async () => {
    for (const broken of ['/u/abc', '/u/not%20a%20token', `/u/${'x'.repeat(1000)}`, '/u/a.b.c']) {
      const res = await ctx.app.inject({ method: 'GET', url: broken });
      expect(res.statusCode, broken).toBe(302);
      expect(res.headers.location, broken).toBe('https://prefs.example.com/?error=invalid_link');
    }
  });

  it('answers 200 for a subscriber deleted since the email went out', async () => {
    const { id, path } = await subscriberWithLink('deleted@example.com');
    await call('DELETE', `/api/v1/subscribers/${id}`);
    expect((await oneClick(path)).statusCode).toBe(200);
  });
});
