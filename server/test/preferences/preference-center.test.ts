import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.ts';
import { createSubscriber, createTags, dataLink, history, outbox, preferenceToken, tokenFromLink, waitForMail } from './helpers.ts';

let ctx: TestContext;
let key: string;
let slug: string;
let tagIds: Record<string, string>;

beforeAll(async () => {
  ctx = await createTestContext();
  ({ key, slug } = await ctx.createOrganization('Acme News'));
  tagIds = await createTags(ctx, key, [
    { name: 'Weekly digest', category: 'Newsletters', description: 'Every Monday' },
    { name: 'Product updates', category: 'Product' },
    { name: 'Breaking news', category: 'Newsletters' },
    { name: 'Events' },
    { name: 'VIP', is_public: false },
  ]);
});
afterAll(() => ctx.close());

const call = (method: 'GET' | 'PUT' | 'POST' | 'DELETE', path: string, token: string, payload?: object) =>
  ctx.app.inject({
    method,
    url: `/api/v1/preference-center${path}${path.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`,
    ...(payload ? { payload } : {}),
    headers: { 'user-agent': 'pref-test' },
  });

async function subscriberWithLink(body: Record<string, unknown>, access: 'topics' | 'data' = 'topics') {
  const id = await createSubscriber(ctx, key, body);
  return { id, token: access === 'data' ? await dataLink(ctx, body.email as string, slug) : await preferenceToken(ctx, key, id) };
}

describe('reading the preference center', () => {
  it('shows the subscriber, the public topics grouped by category with their state, and the organization', async () => {
    const { token } = await subscriberWithLink({ email: 'reader@example.com', first_name: 'Rita', tags: ['weekly-digest', 'vip'] });
    const res = await call('GET', '', token);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.subscriber).toEqual({ email: 'reader@example.com', first_name: 'Rita', status: 'active' });
    expect(body.organization).toMatchObject({ name: 'Acme News', locale: 'en', logo_url: null, accent_color: null, texts: {} });
    expect(body.categories).toEqual([
      { name: 'Newsletters', display_name: 'Newsletters' },
      { name: 'Product', display_name: 'Product' },
    ]);
    // Topics in the order they were created (until an admin sets one), under their category.
    expect(body.tags.map((t: { name: string; category: string | null; is_subscribed: boolean }) => [t.category, t.name, t.is_subscribed])).toEqual([
      ['Newsletters', 'Weekly digest', true],
      ['Newsletters', 'Breaking news', false],
      ['Product', 'Product updates', false],
      [null, 'Events', false],
    ]);
    expect(body.tags[0]).toMatchObject({ display_name: 'Weekly digest', description: 'Every Monday', translations: {} });
  });

  it('never shows private topics, even ones the subscriber holds', async () => {
    const { token } = await subscriberWithLink({ email: 'vip@example.com', tags: ['vip'] });
    const body = (await call('GET', '', token)).json();
    expect(body.tags.some((t: { name: string }) => t.name === 'VIP')).toBe(false);
  });

  it('is never cached and sends no referrer', async () => {
    const { token } = await subscriberWithLink({ email: 'nocache@example.com' });
    const res = await call('GET', '', token);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
  });
});

describe('changing one topic', () => {
  it('subscribes and unsubscribes, with consent history (source preference_center) and outbox events', async () => {
    const { id, token } = await subscriberWithLink({ email: 'toggle@example.com' });
    const on = await call('PUT', `/tags/${tagIds['events']}`, token, { subscribed: true });
    expect(on.statusCode).toBe(200);
    expect(on.json()).toEqual({ tag_id: tagIds['events'], is_subscribed: true, changed: true });
    const off = await call('PUT', `/tags/${tagIds['events']}`, token, { subscribed: false });
    expect(off.json().changed).toBe(true);

    const rows = (await history(ctx, id)).filter((h) => h.tag_id === tagIds['events']);
    expect(rows.map((h) => [h.action, h.source, h.user_agent])).toEqual([
      ['tag_subscribed', 'preference_center', 'pref-test'],
      ['tag_unsubscribed', 'preference_center', 'pref-test'],
    ]);
    const events = (await outbox(ctx, id)).filter((e) => e.type.startsWith('tag.'));
    expect(events.map((e) => [e.type, (e.payload.tag as { slug: string }).slug, e.payload.source])).toEqual([
      ['tag.subscribed', 'events', 'preference_center'],
      ['tag.unsubscribed', 'events', 'preference_center'],
    ]);
    expect((await call('GET', '', token)).json().tags.find((t: { id: string }) => t.id === tagIds['events']).is_subscribed).toBe(false);
  });

  it('writes nothing when the topic is already in the asked state', async () => {
    const { id, token } = await subscriberWithLink({ email: 'same@example.com', tags: ['events'] });
    const before = (await outbox(ctx, id)).length;
    const res = await call('PUT', `/tags/${tagIds['events']}`, token, { subscribed: true });
    expect(res.json().changed).toBe(false);
    expect((await outbox(ctx, id)).length).toBe(before);
  });

  it('answers 404 tag_not_found for a private or unknown topic', async () => {
    const { token } = await subscriberWithLink({ email: 'private@example.com' });
    for (const tagId of [tagIds['vip'], '01900000-0000-7000-8000-000000000000']) {
      const res = await call('PUT', `/tags/${tagId}`, token, { subscribed: true });
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe('tag_not_found');
    }
  });

  it("cannot reach another organization's topic", async () => {
    const other = await ctx.createOrganization('Other');
    const foreign = await createTags(ctx, other.key, [{ name: 'Foreign' }]);
    const { token } = await subscriberWithLink({ email: 'cross@example.com' });
    const res = await call('PUT', `/tags/${foreign['foreign']}`, token, { subscribed: true });
    expect(res.statusCode).toBe(404);
  });

  it('rolls the topic change back when its outbox event cannot be written (one transaction)', async () => {
    const { id, token } = await subscriberWithLink({ email: 'atomic@example.com' });
    await sql`create function fail_tag_events() returns trigger language plpgsql as $$
      begin if new.type = 'tag.subscribed' and new.payload->>'source' = 'preference_center' then raise exception 'outbox down'; end if; return new; end $$`.execute(
      ctx.container.db,
    );
    await sql`create trigger fail_tag_events before insert on events for each row execute function fail_tag_events()`.execute(ctx.container.db);
    try {
      const res = await call('PUT', `/tags/${tagIds['events']}`, token, { subscribed: true });
      expect(res.statusCode).toBe(500);
      expect((await call('GET', '', token)).json().tags.find((t: { id: string }) => t.id === tagIds['events']).is_subscribed).toBe(false);
      expect((await history(ctx, id)).some((h) => h.action === 'tag_subscribed' && h.source === 'preference_center')).toBe(false);
    } finally {
      await sql`drop trigger fail_tag_events on events; drop function fail_tag_events()`.execute(ctx.container.db);
    }
  });

  it('validates the body and the topic id', async () => {
    const { token } = await subscriberWithLink({ email: 'validate@example.com' });
    expect((await call('PUT', `/tags/${tagIds['events']}`, token, { subscribed: 'yes' })).statusCode).toBe(422);
    expect((await call('PUT', '/tags/not-a-uuid', token, { subscribed: true })).statusCode).toBe(422);
  });
});

describe('unsubscribing from everything', () => {
  it('unsubscribes every public topic and all email, keeps private tags, and records it', async () => {
    const { id, token } = await subscriberWithLink({ email: 'leave@example.com', tags: ['weekly-digest', 'events', 'vip'] });
    const res = await call('POST', '/unsubscribe-all', token);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'unsubscribed', unsubscribed_tags: 2 });
    const view = (await call('GET', '', token)).json();
    expect(view.subscriber.status).toBe('unsubscribed');
    expect(view.tags.every((t: { is_subscribed: boolean }) => !t.is_subscribed)).toBe(true);
    const admin = await ctx.app.inject({ method: 'GET', url: `/api/v1/subscribers/${id}`, headers: { authorization: `Bearer ${key}` } });
    expect(admin.json().tags.map((t: { slug: string }) => t.slug)).toEqual(['vip']);
    expect(
      (await outbox(ctx, id))
        .slice(-3)
        .map((e) => e.type)
        .sort(),
    ).toEqual(['subscriber.updated', 'tag.unsubscribed', 'tag.unsubscribed']);
    const statusRow = (await history(ctx, id)).find((h) => h.action === 'status_changed');
    expect(statusRow).toMatchObject({ source: 'preference_center', details: { from: 'active', to: 'unsubscribed' } });
  });

  it('keeps the reason the person gave, from a fixed list, in the consent history', async () => {
    const { id, token } = await subscriberWithLink({ email: 'reason@example.com', tags: ['weekly-digest'] });
    expect((await call('POST', '/unsubscribe-all?reason=made-up', token)).statusCode).toBe(422);
    const res = await call('POST', '/unsubscribe-all?reason=too_many', token);
    expect(res.statusCode).toBe(200);
    const rows = await history(ctx, id);
    expect(rows.find((h) => h.action === 'status_changed')).toMatchObject({ details: { from: 'active', to: 'unsubscribed', reason: 'too_many' } });
    expect(rows.find((h) => h.action === 'tag_unsubscribed')).toMatchObject({ details: { reason: 'too_many' } });
  });

  it('can be undone on the same link, restoring the topics and the status', async () => {
    const { id, token } = await subscriberWithLink({ email: 'undo@example.com', tags: ['weekly-digest', 'product-updates'] });
    const { undo_token: undoToken } = (await call('POST', '/unsubscribe-all', token)).json();
    const res = await call('POST', '/unsubscribe-all/undo', token, { undo_token: undoToken });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'active', resubscribed_tags: 2 });
    const view = (await call('GET', '', token)).json();
    expect(view.subscriber.status).toBe('active');
    expect(
      view.tags
        .filter((t: { is_subscribed: boolean }) => t.is_subscribed)
        .map((t: { name: string }) => t.name)
        .sort(),
    ).toEqual(['Product updates', 'Weekly digest']);
    expect((await history(ctx, id)).at(-1)).toMatchObject({ action: 'status_changed', details: { from: 'unsubscribed', to: 'active' } });
  });

  it('refuses an undo a second time, or after the status changed since', async () => {
    const { token } = await subscriberWithLink({ email: 'undo-twice@example.com', tags: ['events'] });
    const first = (await call('POST', '/unsubscribe-all', token)).json().undo_token;
    expect((await call('POST', '/unsubscribe-all/undo', token, { undo_token: first })).statusCode).toBe(200);
    const again = await call('POST', '/unsubscribe-all/undo', token, { undo_token: first });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('undo_not_possible');

    // An admin reactivates and then unsubscribes them again: the old undo must not override that.
    const second = (await call('POST', '/unsubscribe-all', token)).json().undo_token;
    const subscriber = await ctx.container.db.selectFrom('subscribers').select('id').where('email', '=', 'undo-twice@example.com').executeTakeFirstOrThrow();
    for (const payload of [{ status: 'active', consent_reason: 'asked us by phone' }, { status: 'unsubscribed' }]) {
      const res = await ctx.app.inject({ method: 'PATCH', url: `/api/v1/subscribers/${subscriber.id}`, headers: { authorization: `Bearer ${key}` }, payload });
      expect(res.statusCode).toBe(200);
    }
    expect((await call('POST', '/unsubscribe-all/undo', token, { undo_token: second })).statusCode).toBe(409);
  });

  it("refuses another subscriber's undo token", async () => {
    const a = await subscriberWithLink({ email: 'undo-a@example.com', tags: ['events'] });
    const b = await subscriberWithLink({ email: 'undo-b@example.com', tags: ['events'] });
    const undoToken = (await call('POST', '/unsubscribe-all', a.token)).json().undo_token;
    const res = await call('POST', '/unsubscribe-all/undo', b.token, { undo_token: undoToken });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('invalid_token');
  });
});

describe('resubscribing', () => {
  it('only sends a confirmation email; the subscriber stays unsubscribed until they confirm', async () => {
    const { id, token } = await subscriberWithLink({ email: 'comeback@example.com', tags: ['events'] });
    await call('POST', '/unsubscribe-all', token);
    const since = new Date(Date.now() - 1000);
    const res = await call('POST', '/resubscribe', token, { locale: 'de' });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ status: 'confirmation_sent' });
    expect((await call('GET', '', token)).json().subscriber.status).toBe('unsubscribed');

    const mail = await waitForMail(ctx, 'comeback@example.com', since);
    expect(mail.subject).toBe('Bitte bestätigen Sie Ihr Abonnement bei Acme News');
    const confirmToken = tokenFromLink(mail.text, '/confirm?token=');
    const confirmed = await ctx.app.inject({
      method: 'POST',
      url: '/api/v1/public/confirm',
      payload: { token: confirmToken, locale: 'de' },
      headers: { 'user-agent': 'confirm-ua' },
    });
    expect(confirmed.statusCode).toBe(200);
    expect((await call('GET', '', token)).json().subscriber.status).toBe('active');
    const row = (await history(ctx, id)).find((h) => h.action === 'confirmed');
    expect(row).toMatchObject({ source: 'preference_center', user_agent: 'confirm-ua', details: { from: 'unsubscribed', to: 'active', locale: 'de' } });
    expect((row!.details as { wording: string }).wording).toContain('Acme News');
  });

  it('answers already_active for an active subscriber and sends nothing', async () => {
    const { token } = await subscriberWithLink({ email: 'already@example.com' });
    const res = await call('POST', '/resubscribe', token, {});
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'already_active' });
    expect(await ctx.container.devMailbox.latestTo('already@example.com')).toBeUndefined();
  });
});

describe('exporting', () => {
  it('downloads everything held about the subscriber as JSON', async () => {
    const { id, token } = await subscriberWithLink(
      { email: 'export@example.com', first_name: 'Eve', metadata: { plan: 'pro' }, tags: ['events', 'vip'] },
      'data',
    );
    await call('PUT', `/tags/${tagIds['events']}`, token, { subscribed: false });
    await ctx.app.inject({
      method: 'POST',
      url: `/api/v1/subscribers/${id}/notes`,
      headers: { authorization: `Bearer ${key}` },
      payload: { body: 'Called support' },
    });
    const res = await call('GET', '/export', token);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-disposition']).toBe('attachment; filename="my-subscription-data.json"');
    const data = res.json();
    expect(data.organization).toEqual({ name: 'Acme News' });
    expect(data.subscriber).toMatchObject({ id, email: 'export@example.com', first_name: 'Eve', metadata: { plan: 'pro' }, status: 'active' });
    expect(data.tags.map((t: { slug: string; status: string }) => [t.slug, t.status])).toEqual([
      ['events', 'unsubscribed'],
      ['vip', 'subscribed'],
    ]);
    expect(data.consent_history.map((h: { action: string }) => h.action)).toEqual(expect.arrayContaining(['created', 'tag_subscribed', 'tag_unsubscribed']));
    expect(data.notes).toEqual([{ body: 'Called support', created_at: expect.any(String) }]);
    expect(data.messages).toEqual([]);
  });
});

describe('deleting', () => {
  it('erases the subscriber, leaves a subscriber.deleted event, and kills the link', async () => {
    const { id, token } = await subscriberWithLink({ email: 'erase@example.com', tags: ['events'] }, 'data');
    const res = await call('DELETE', '', token);
    expect(res.statusCode).toBe(204);
    expect((await outbox(ctx, id)).at(-1)).toMatchObject({ type: 'subscriber.deleted', payload: { source: 'preference_center' } });
    expect(await ctx.container.db.selectFrom('subscribers').select('id').where('id', '=', id).executeTakeFirst()).toBeUndefined();
    const after = await call('GET', '', token);
    expect(after.statusCode).toBe(401);
    expect(after.json().error).toMatchObject({ code: 'invalid_token', details: [{ field: 'token', organization: expect.any(String) }] });
    for (const [method, path] of [
      ['DELETE', ''],
      ['GET', '/export'],
      ['POST', '/unsubscribe-all'],
    ] as const) {
      expect((await call(method, path, token)).json().error.code).toBe('invalid_token');
    }
  });
});
