import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.ts';
import { createSubscriber, createTags, expectNoMail, history, outbox, tokenFromLink, waitForMail } from './helpers.ts';

let ctx: TestContext;
let org: { id: string; slug: string; key: string };
let tagIds: Record<string, string>;
const SITE = 'https://www.acme.example';

beforeAll(async () => {
  ctx = await createTestContext({ RATE_LIMIT_PUBLIC_FORM_PER_MINUTE: '5' });
  org = await ctx.createOrganization('Acme');
  tagIds = await createTags(ctx, org.key, [{ name: 'News' }, { name: 'Offers' }, { name: 'Internal', is_public: false }]);
  await ctx.app.inject({ method: 'PATCH', url: '/api/v1/settings/preference-center', headers: { authorization: `Bearer ${org.key}` }, payload: { form_origins: [SITE] } });
});
afterAll(() => ctx.close());

let nextIp = 1;
const subscribe = (payload: object, headers: Record<string, string> = {}, slug = org.slug) =>
  ctx.app.inject({ method: 'POST', url: `/api/v1/public/${slug}/subscribe`, payload, headers: { 'user-agent': 'form-ua', ...headers }, remoteAddress: `10.1.0.${nextIp++}` });
const subscriberByEmail = (email: string) =>
  ctx.app.inject({ method: 'GET', url: `/api/v1/subscribers/by-email?email=${encodeURIComponent(email)}`, headers: { authorization: `Bearer ${org.key}` } }).then((r) => r.json());
const confirm = (token: string, locale?: string) =>
  ctx.app.inject({ method: 'POST', url: '/api/v1/public/confirm', payload: { token, ...(locale ? { locale } : {}) }, headers: { 'user-agent': 'confirm-ua' }, remoteAddress: '192.0.2.7' });

describe('signing up from a website form (double opt-in)', () => {
  it('creates a pending subscriber with the topics and emails a confirmation link', async () => {
    const since = new Date(Date.now() - 1000);
    const res = await subscribe({ email: 'new@example.com', first_name: 'Nia', tags: ['news'], consent_text: 'Send me the news' }, { origin: SITE });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ status: 'accepted', confirmation_required: true });
    const subscriber = await subscriberByEmail('new@example.com');
    expect(subscriber).toMatchObject({ status: 'pending', first_name: 'Nia', source: 'form', confirmed_at: null });
    expect(subscriber.tags.map((t: { slug: string }) => t.slug)).toEqual(['news']);
    const requested = (await history(ctx, subscriber.id)).find((h) => h.action === 'subscribe_requested');
    expect(requested).toMatchObject({ source: 'form', user_agent: 'form-ua', details: { consent_text: 'Send me the news', tags: ['news'], page_origin: SITE, double_opt_in: true } });
    const mail = await waitForMail(ctx, 'new@example.com', since);
    expect(mail.subject).toBe('Please confirm your subscription to Acme');
    expect(mail.text).toContain('/confirm?token=');
    // No verified sending domain yet: the platform's default address, under the organization's name.
    expect(mail.from_address).toBe('"Acme" <no-reply@localhost>');
  });

  it('shows the confirmation page\'s content, and a GET confirms nothing (link scanners)', async () => {
    const since = new Date(Date.now() - 1000);
    await subscribe({ email: 'scanner@example.com', tags: ['news', 'offers'] });
    const token = tokenFromLink((await waitForMail(ctx, 'scanner@example.com', since)).text, '/confirm?token=');
    const info = await ctx.app.inject({ method: 'GET', url: `/api/v1/public/confirmation?token=${token}` });
    expect(info.statusCode).toBe(200);
    expect(info.json()).toMatchObject({ email: 'scanner@example.com', status: 'pending', topics: ['News', 'Offers'], organization: { name: 'Acme', slug: org.slug } });
    expect(info.json().consent.de).toContain('Acme');
    expect((await subscriberByEmail('scanner@example.com')).status).toBe('pending');
  });

  it('confirms with a click: active, with consent recorded (time, IP, user agent, source, wording)', async () => {
    const since = new Date(Date.now() - 1000);
    await subscribe({ email: 'confirm@example.com', tags: ['news'] });
    const token = tokenFromLink((await waitForMail(ctx, 'confirm@example.com', since)).text, '/confirm?token=');
    const res = await confirm(token, 'en');
    expect(res.statusCode).toBe(200);
    expect(res.json().status).toBe('active');
    const page = await ctx.app.inject({ method: 'GET', url: res.json().preferences_url.replace(/^https?:\/\/[^/]+\/preferences\/\?/, '/api/v1/preference-center?') });
    expect(page.json().subscriber.status).toBe('active');
    const subscriber = await subscriberByEmail('confirm@example.com');
    expect(subscriber.confirmed_at).not.toBeNull();
    const row = (await history(ctx, subscriber.id)).find((h) => h.action === 'confirmed')!;
    expect(row).toMatchObject({ source: 'form', ip: '192.0.2.7', user_agent: 'confirm-ua', details: { from: 'pending', to: 'active', via: 'double_opt_in', locale: 'en' } });
    expect((row.details as { wording: string }).wording).toBe('Yes, I want to receive emails from Acme about the topics I chose. I can unsubscribe at any time with the link in every email.');
    expect(row.created_at).toBeInstanceOf(Date);
    expect((await outbox(ctx, subscriber.id)).map((e) => e.type)).toContain('subscriber.updated');
    // Automations can start on the confirmation itself.
    expect((await outbox(ctx, subscriber.id)).map((e) => e.type)).toContain('subscriber.confirmed');
    // A confirmation link works once.
    const again = await confirm(token);
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('link_used');
  });

  it('records the organization\'s own consent wording when it set one', async () => {
    await ctx.app.inject({ method: 'PATCH', url: '/api/v1/settings/preference-center', headers: { authorization: `Bearer ${org.key}` }, payload: { texts: { de: { consent: 'Ja, bitte.' } } } });
    const since = new Date(Date.now() - 1000);
    await subscribe({ email: 'wording@example.com', locale: 'de' });
    const mail = await waitForMail(ctx, 'wording@example.com', since);
    expect(mail.subject).toBe('Bitte bestätigen Sie Ihr Abonnement bei Acme');
    await confirm(tokenFromLink(mail.text, '/confirm?token='), 'de');
    const subscriber = await subscriberByEmail('wording@example.com');
    expect((await history(ctx, subscriber.id)).find((h) => h.action === 'confirmed')!.details).toMatchObject({ wording: 'Ja, bitte.', locale: 'de' });
  });

  it('sends no confirmation to an address that bounced or complained: it stays as it is', async () => {
    for (const status of ['bounced', 'complained'] as const) {
      const email = `${status}-again@example.com`;
      const id = await createSubscriber(ctx, org.key, { email });
      await ctx.container.db.updateTable('subscribers').set({ status }).where('id', '=', id).execute();
      const since = new Date(Date.now() - 1000);
      expect((await subscribe({ email, tags: ['offers'] })).json()).toMatchObject({ status: 'accepted' });
      await ctx.container.background.drain();
      await expectNoMail(ctx, email, since);
      expect((await subscriberByEmail(email))).toMatchObject({ status, tags: [] });
    }
  });

  it('never reactivates an unsubscribed address: it gets a confirmation email instead', async () => {
    for (const status of ['unsubscribed'] as const) {
      const email = `${status}@example.com`;
      const id = await createSubscriber(ctx, org.key, { email });
      await ctx.container.db.updateTable('subscribers').set({ status }).where('id', '=', id).execute();
      const since = new Date(Date.now() - 1000);
      expect((await subscribe({ email, tags: ['offers'] })).json()).toMatchObject({ status: 'accepted' });
      expect((await subscriberByEmail(email))).toMatchObject({ status, tags: [] });
      const token = tokenFromLink((await waitForMail(ctx, email, since)).text, '/confirm?token=');
      const res = await confirm(token);
      const after = await subscriberByEmail(email);
      if (status === 'unsubscribed') {
        expect(after.status).toBe('active');
        expect(after.tags.map((t: { slug: string }) => t.slug)).toEqual(['offers']);
      } else {
        // A bounced address stays bounced: a confirmation never undoes what the provider reported.
        expect(res.statusCode).toBe(409);
        expect(res.json().error.code).toBe('confirmation_refused');
        expect(after).toMatchObject({ status: 'bounced', tags: [] });
      }
    }
  });

  it('answers a known address exactly like a new one', async () => {
    await createSubscriber(ctx, org.key, { email: 'twin@example.com' });
    const known = await subscribe({ email: 'twin@example.com' });
    const fresh = await subscribe({ email: 'twin-new@example.com' });
    expect(known.statusCode).toBe(fresh.statusCode);
    expect(known.json()).toEqual(fresh.json());
  });

  it('accepts and ignores a filled honeypot', async () => {
    const since = new Date();
    const res = await subscribe({ email: 'bot@example.com', website: 'http://spam.example' });
    expect(res.statusCode).toBe(202);
    expect((await ctx.app.inject({ method: 'GET', url: '/api/v1/subscribers/by-email?email=bot@example.com', headers: { authorization: `Bearer ${org.key}` } })).statusCode).toBe(404);
    await expectNoMail(ctx, 'bot@example.com', since);
  });

  it('refuses private or unknown topics, naming them', async () => {
    const res = await subscribe({ email: 'topics@example.com', tags: ['news', 'internal', 'nope'] });
    expect(res.statusCode).toBe(422);
    expect(res.json().error).toMatchObject({ code: 'unknown_topic', details: [{ field: 'tags.1' }, { field: 'tags.2' }] });
    expect(tagIds['internal']).toBeDefined();
  });

  it('answers 404 for an unknown organization', async () => {
    const res = await subscribe({ email: 'x@example.com' }, {}, 'no-such-org');
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('organization_not_found');
  });

  it('refuses an invalid or expired confirmation link', async () => {
    const id = await createSubscriber(ctx, org.key, { email: 'late@example.com', status: 'pending' });
    const expired = ctx.container.tokens.sign({ purpose: 'confirm', organizationId: org.id, subjectId: id, expiresAt: Math.floor(Date.now() / 1000) - 1 });
    expect((await confirm(expired)).json().error.code).toBe('token_expired');
    const pref = ctx.container.tokens.sign({ purpose: 'pref', organizationId: org.id, subjectId: id, expiresAt: Math.floor(Date.now() / 1000) + 60 });
    expect((await confirm(pref)).json().error.code).toBe('invalid_token');
    expect((await subscriberByEmail('late@example.com')).status).toBe('pending');
  });
});

describe('without double opt-in', () => {
  it('creates active subscribers and adds topics to active ones, but still confirms unsubscribed ones', async () => {
    const other = await ctx.createOrganization('Direct');
    await createTags(ctx, other.key, [{ name: 'News' }]);
    const settings = await ctx.app.inject({ method: 'PATCH', url: '/api/v1/settings/preference-center', headers: { authorization: `Bearer ${other.key}` }, payload: { double_opt_in: false } });
    expect(settings.json().double_opt_in).toBe(false);
    const post = (payload: object) => subscribe(payload, {}, other.slug);
    expect((await post({ email: 'direct@example.com' })).json()).toMatchObject({ confirmation_required: false });
    const get = (email: string) => ctx.app.inject({ method: 'GET', url: `/api/v1/subscribers/by-email?email=${email}`, headers: { authorization: `Bearer ${other.key}` } }).then((r) => r.json());
    expect((await get('direct@example.com')).status).toBe('active');
    await post({ email: 'direct@example.com', tags: ['news'] });
    expect((await get('direct@example.com')).tags.map((t: { slug: string }) => t.slug)).toEqual(['news']);

    const id = await createSubscriber(ctx, other.key, { email: 'left@example.com', status: 'active' });
    await ctx.app.inject({ method: 'PATCH', url: `/api/v1/subscribers/${id}`, headers: { authorization: `Bearer ${other.key}` }, payload: { status: 'unsubscribed' } });
    const since = new Date(Date.now() - 1000);
    await post({ email: 'left@example.com', tags: ['news'] });
    expect((await get('left@example.com')).status).toBe('unsubscribed');
    await waitForMail(ctx, 'left@example.com', since);
  });
});

describe('browser access (CORS) and abuse limits', () => {
  it('answers a preflight from an allowed origin, and not from others', async () => {
    const allowed = await ctx.app.inject({ method: 'OPTIONS', url: `/api/v1/public/${org.slug}/subscribe`, headers: { origin: SITE, 'access-control-request-method': 'POST' } });
    expect(allowed.statusCode).toBe(204);
    expect(allowed.headers).toMatchObject({ 'access-control-allow-origin': SITE, 'access-control-allow-methods': 'POST', vary: 'origin' });
    expect(String(allowed.headers['access-control-allow-headers'])).toContain('content-type');
    const other = await ctx.app.inject({ method: 'OPTIONS', url: `/api/v1/public/${org.slug}/subscribe`, headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('refuses a post from an origin the organization does not list, with 403 origin_not_allowed', async () => {
    const res = await subscribe({ email: 'evil@example.com' }, { origin: 'https://evil.example' });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('origin_not_allowed');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    const ok = await subscribe({ email: 'good@example.com' }, { origin: SITE });
    expect(ok.headers['access-control-allow-origin']).toBe(SITE);
  });

  it('limits posts per client address', async () => {
    const codes = [];
    for (let i = 0; i < 6; i += 1) {
      codes.push((await ctx.app.inject({ method: 'POST', url: `/api/v1/public/${org.slug}/subscribe`, payload: { email: `flood${i}@example.com` }, remoteAddress: '10.7.7.7', headers: { origin: SITE } })));
    }
    expect(codes.map((r) => r.statusCode)).toEqual([202, 202, 202, 202, 202, 429]);
    expect(codes[5]!.headers['access-control-allow-origin']).toBe(SITE);
  });
});
