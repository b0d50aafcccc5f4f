import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestContext, sessionApi, type TestContext } from '../support/context.ts';
import { createSubscriber, createTags, history, preferenceToken } from './helpers.ts';

// What an organization's admins decide about their preference center: the order of its topics, their
// names per language, the footer's address and legal links, and a preview that can change nothing.

let ctx: TestContext;
let org: { id: string; slug: string; key: string };
let call: ReturnType<typeof api>;
let tagIds: Record<string, string>;

beforeAll(async () => {
  ctx = await createTestContext({ PREFERENCES_APP_URL: 'https://prefs.example.com/' });
  org = await ctx.createOrganization('Order Co');
  call = api(ctx, org.key);
  tagIds = await createTags(ctx, org.key, [
    { name: 'Weekly digest', category: 'Newsletters' },
    { name: 'Product updates', category: 'Product' },
    { name: 'Breaking news', category: 'Newsletters' },
    { name: 'Events' },
    { name: 'Internal', is_public: false },
  ]);
});
afterAll(() => ctx.close());

const view = (token: string) => ctx.app.inject({ method: 'GET', url: `/api/v1/preference-center?token=${encodeURIComponent(token)}` });
const names = (body: { tags: { name: string }[] }) => body.tags.map((tag) => tag.name);

async function linkFor(email: string, tags: string[] = []) {
  const id = await createSubscriber(ctx, org.key, { email, tags });
  return { id, token: await preferenceToken(ctx, org.key, id) };
}

describe('topic order', () => {
  it('shows new topics in the order they were created, grouped under the category of their first topic', async () => {
    const { token } = await linkFor('order-default@example.com');
    const body = (await view(token)).json();
    expect(body.categories.map((c: { name: string }) => c.name)).toEqual(['Newsletters', 'Product']);
    expect(names(body)).toEqual(['Weekly digest', 'Breaking news', 'Product updates', 'Events']);
  });

  it('follows the order the admin sets, for topics and (through their first topic) for categories', async () => {
    const order = [tagIds['product-updates']!, tagIds['events']!, tagIds['breaking-news']!, tagIds['weekly-digest']!];
    const res = await call('PUT', '/api/v1/tags/order', { tag_ids: order });
    expect(res.statusCode).toBe(200);
    // Breaking news keeps its place (third); the other three move.
    expect(res.json().updated).toBe(3);
    const { token } = await linkFor('order-set@example.com');
    const body = (await view(token)).json();
    expect(body.categories.map((c: { name: string }) => c.name)).toEqual(['Product', 'Newsletters']);
    expect(names(body)).toEqual(['Product updates', 'Breaking news', 'Weekly digest', 'Events']);
    const positions = (await call('GET', `/api/v1/tags/${tagIds['events']}`)).json().position;
    expect(positions).toBe(1);
  });

  it("refuses an order naming another organization's tag and changes nothing", async () => {
    const other = await ctx.createOrganization('Other Co');
    const foreign = await createTags(ctx, other.key, [{ name: 'Theirs' }]);
    const before = (await call('GET', `/api/v1/tags/${tagIds['weekly-digest']}`)).json().position;
    const res = await call('PUT', '/api/v1/tags/order', { tag_ids: [foreign['theirs']!, tagIds['weekly-digest']!] });
    expect(res.statusCode).toBe(422);
    expect(res.json().error.code).toBe('unknown_tag');
    expect((await call('GET', `/api/v1/tags/${tagIds['weekly-digest']}`)).json().position).toBe(before);
    const theirs = await api(ctx, other.key)('GET', `/api/v1/tags/${foreign['theirs']}`);
    expect(theirs.json().position).toBe(0);
  });

  it('bounds the order: no duplicates, no empty list', async () => {
    expect((await call('PUT', '/api/v1/tags/order', { tag_ids: [] })).statusCode).toBe(422);
    expect((await call('PUT', '/api/v1/tags/order', { tag_ids: [tagIds['events']!, tagIds['events']!] })).statusCode).toBe(422);
  });
});

describe('topic names per language', () => {
  it('stores a German name and description and hands them to the preference center', async () => {
    const res = await call('PATCH', `/api/v1/tags/${tagIds['weekly-digest']}`, {
      translations: { de: { name: ' Wochenbrief ', description: 'Jeden Montag' } },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().translations).toEqual({ de: { name: 'Wochenbrief', description: 'Jeden Montag' } });
    const { token } = await linkFor('german@example.com');
    const tag = (await view(token)).json().tags.find((t: { id: string }) => t.id === tagIds['weekly-digest']);
    expect(tag).toMatchObject({ name: 'Weekly digest', translations: { de: { name: 'Wochenbrief', description: 'Jeden Montag' } } });
  });

  it('refuses languages the preference center does not speak, empty and overlong names', async () => {
    const patch = (translations: unknown) => call('PATCH', `/api/v1/tags/${tagIds['events']}`, { translations });
    expect((await patch({ fr: { name: 'Événements' } })).statusCode).toBe(422);
    expect((await patch({ de: { name: '' } })).statusCode).toBe(422);
    expect((await patch({ de: { name: 'x'.repeat(101) } })).statusCode).toBe(422);
    expect((await patch({ de: { name: 'Termine', description: 'x'.repeat(1001) } })).statusCode).toBe(422);
    expect((await call('GET', `/api/v1/tags/${tagIds['events']}`)).json().translations).toEqual({});
  });

  it('removes translations when sent an empty object', async () => {
    await call('PATCH', `/api/v1/tags/${tagIds['events']}`, { translations: { de: { name: 'Termine' } } });
    const res = await call('PATCH', `/api/v1/tags/${tagIds['events']}`, { translations: {} });
    expect(res.json().translations).toEqual({});
  });
});

describe('footer', () => {
  // Organization settings are changed by people (a signed-in owner), not API keys.
  const settings = async (...args: Parameters<ReturnType<typeof api>>) => sessionApi(ctx, await ctx.createSession(org.id, 'owner'))(...args);

  it('accepts only https links for privacy policy and imprint', async () => {
    for (const bad of ['http://order.example/privacy', 'javascript:alert(1)', 'https://order.example/a b', 'ftp://x']) {
      const res = await settings('PATCH', '/api/v1/organizations/current', { privacy_url: bad });
      expect(res.statusCode, bad).toBe(422);
    }
    expect((await settings('PATCH', '/api/v1/organizations/current', { imprint_url: 'https://x.example/' + 'a'.repeat(2048) })).statusCode).toBe(422);
  });

  it('shows the postal address and the legal links in the preference center when set', async () => {
    const { token } = await linkFor('footer@example.com');
    expect((await view(token)).json().organization).toMatchObject({ postal_address: null, privacy_url: null, imprint_url: null });
    const res = await settings('PATCH', '/api/v1/organizations/current', {
      postal_address: 'Hauptstr. 1\n10115 Berlin',
      privacy_url: 'https://order.example/privacy',
      imprint_url: 'https://order.example/imprint',
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ privacy_url: 'https://order.example/privacy', imprint_url: 'https://order.example/imprint' });
    expect((await view(token)).json().organization).toMatchObject({
      postal_address: 'Hauptstr. 1\n10115 Berlin',
      privacy_url: 'https://order.example/privacy',
      imprint_url: 'https://order.example/imprint',
    });
  });
});

describe("the admin's preview", () => {
  async function previewLink() {
    const res = await call('POST', '/api/v1/settings/preference-center/preview');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    return { ...body, token: new URL(body.url).searchParams.get('token')! };
  }

  it('shows the real topics and footer with a sample subscriber, marked as a preview', async () => {
    const { url, unsubscribe_url, token } = await previewLink();
    expect(url.startsWith('https://prefs.example.com/?token=')).toBe(true);
    const unsubscribe = new URL(unsubscribe_url);
    expect(unsubscribe.searchParams.get('view')).toBe('unsubscribe');
    const res = await view(token);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.preview).toBe(true);
    expect(body.can_manage_data).toBe(false);
    expect(body.subscriber).toEqual({ email: 'subscriber@example.com', first_name: 'Alex', status: 'active' });
    expect(body.organization.name).toBe('Order Co');
    expect(names(body)).not.toContain('Internal');
    expect(unsubscribe.searchParams.get('topics')).toBe(body.tags[0].id);
  });

  it('can never change consent: every change answers 401 and no history is written', async () => {
    const { id } = await linkFor('bystander@example.com', ['weekly-digest']);
    const { token } = await previewLink();
    const before = await history(ctx, id);
    const q = `token=${encodeURIComponent(token)}`;
    const attempts = [
      ctx.app.inject({ method: 'PUT', url: `/api/v1/preference-center/tags/${tagIds['events']}?${q}`, payload: { subscribed: true } }),
      ctx.app.inject({ method: 'POST', url: `/api/v1/preference-center/unsubscribe-all?${q}` }),
      ctx.app.inject({ method: 'POST', url: `/api/v1/preference-center/resubscribe?${q}`, payload: {} }),
      ctx.app.inject({ method: 'GET', url: `/api/v1/preference-center/export?${q}` }),
      ctx.app.inject({ method: 'DELETE', url: `/api/v1/preference-center?${q}` }),
      ctx.app.inject({ method: 'POST', url: `/u/${token}` }),
    ];
    for (const res of await Promise.all(attempts)) {
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('invalid_token');
    }
    expect(await history(ctx, id)).toEqual(before);
    const changed = await ctx.container.db
      .selectFrom('subscription_history')
      .select('id')
      .where('organization_id', '=', org.id)
      .where('created_at', '>', new Date(Date.now() - 5000))
      .where('source', '=', 'preference_center')
      .execute();
    expect(changed).toEqual([]);
  });

  it("is not opened by an email preview's link, nor by another organization's preview", async () => {
    const emailPreview = new URL(ctx.container.services.links.previewUrl(org.id, null)).pathname.split('/').pop()!;
    expect((await view(emailPreview)).statusCode).toBe(401);
    const other = await ctx.createOrganization('Preview Other');
    const theirs = new URL((await api(ctx, other.key)('POST', '/api/v1/settings/preference-center/preview')).json().url).searchParams.get('token')!;
    expect((await view(theirs)).json().organization.name).toBe('Preview Other');
  });

  it('is for admins only', async () => {
    const reader = await ctx.createKey(org.id, ['subscribers:read', 'tags:read']);
    expect((await api(ctx, reader.key)('POST', '/api/v1/settings/preference-center/preview')).statusCode).toBe(403);
  });
});

describe('the unsubscribe card of a campaign email', () => {
  it("names the campaign's public topics in the redirect, and only those", async () => {
    const campaign = await call('POST', '/api/v1/campaigns', {
      name: 'Digest 12',
      tag_filter: { include_tags: ['weekly-digest', tagIds['internal']!, tagIds['breaking-news']!] },
    });
    expect(campaign.statusCode).toBe(201);
    const { id } = await linkFor('card@example.com', ['weekly-digest', 'breaking-news']);
    const link = new URL(ctx.container.services.links.unsubscribeUrl(org.id, id, campaign.json().id));
    const res = await ctx.app.inject({ method: 'GET', url: link.pathname });
    expect(res.statusCode).toBe(302);
    const target = new URL(res.headers.location as string);
    expect(target.searchParams.get('view')).toBe('unsubscribe');
    expect(target.searchParams.get('topics')!.split(',').sort()).toEqual([tagIds['weekly-digest'], tagIds['breaking-news']].sort());
  });

  it('names no topics for an email without a campaign, or a campaign of another organization', async () => {
    const { id } = await linkFor('card-none@example.com');
    const plain = new URL(ctx.container.services.links.unsubscribeUrl(org.id, id));
    const res = await ctx.app.inject({ method: 'GET', url: plain.pathname });
    expect(new URL(res.headers.location as string).searchParams.get('topics')).toBeNull();
    const other = await ctx.createOrganization('Campaign Other');
    const theirTags = await createTags(ctx, other.key, [{ name: 'Theirs' }]);
    const theirs = (await api(ctx, other.key)('POST', '/api/v1/campaigns', { name: 'X', tag_filter: { include_tags: [theirTags['theirs']!] } })).json();
    const crossed = new URL(ctx.container.services.links.unsubscribeUrl(org.id, id, theirs.id));
    const res2 = await ctx.app.inject({ method: 'GET', url: crossed.pathname });
    expect(new URL(res2.headers.location as string).searchParams.get('topics')).toBeNull();
  });

  it('records the reason given when leaving one topic', async () => {
    const { id, token } = await linkFor('reason@example.com', ['weekly-digest']);
    const res = await ctx.app.inject({
      method: 'PUT',
      url: `/api/v1/preference-center/tags/${tagIds['weekly-digest']}?token=${encodeURIComponent(token)}`,
      payload: { subscribed: false, reason: 'too_many' },
    });
    expect(res.statusCode).toBe(200);
    const rows = await history(ctx, id);
    expect(rows.at(-1)).toMatchObject({ action: 'tag_unsubscribed', source: 'preference_center', details: { reason: 'too_many' } });
    const status = (await call('GET', `/api/v1/subscribers/${id}`)).json().status;
    expect(status).toBe('active');
  });
});
