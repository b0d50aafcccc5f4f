import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestContext } from '../../server/test/support/context.ts';
import { AuthenticationError, NotFoundError, PermissionDeniedError, SubscribeFlowClient, SubscribeFlowError, ValidationError } from '../src/index.ts';
import { dataLink } from '../../server/test/preferences/helpers.ts';
import { MJML, startApi } from './support.ts';

let ctx: TestContext;
let sf: SubscribeFlowClient;
let baseUrl: string;
let organizationId: string;
let organizationSlug: string;

beforeAll(async () => {
  const started = await startApi();
  ctx = started.ctx;
  baseUrl = started.baseUrl;
  organizationId = started.organization.id;
  organizationSlug = started.organization.slug;
  sf = new SubscribeFlowClient({ apiKey: started.organization.key, baseUrl });
});
afterAll(async () => ctx?.close());

describe('the SDK against the running API', () => {
  it('creates, finds, updates, tags, untags and deletes a subscriber', async () => {
    const ada = await sf.subscribers.create({ email: 'ada@example.com', first_name: 'Ada', tags: ['product-updates'] });
    expect(ada.email).toBe('ada@example.com');
    expect((await sf.subscribers.get(ada.id)).first_name).toBe('Ada');
    expect((await sf.subscribers.getByEmail('ADA@example.com')).id).toBe(ada.id);

    const updated = await sf.subscribers.update(ada.id, { last_name: 'Lovelace' });
    expect(updated.last_name).toBe('Lovelace');

    const tagged = await sf.subscribers.addTags(ada.id, ['release-notes']);
    expect(tagged.tags.map((t) => t.slug).sort()).toEqual(['product-updates', 'release-notes']);
    const untagged = await sf.subscribers.removeTag(ada.id, 'product-updates');
    expect(untagged.tags.map((t) => t.slug)).toEqual(['release-notes']);

    const events = await sf.subscribers.events(ada.id);
    expect(events.items.length).toBeGreaterThan(0);
    const { token } = await sf.subscribers.generatePreferenceToken(ada.id);
    expect(token.length).toBeGreaterThan(16);

    await expect(sf.subscribers.delete(ada.id)).resolves.toBeUndefined();
    await expect(sf.subscribers.get(ada.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('upserts a batch and iterates every page of a list with the async iterator', async () => {
    const emails = Array.from({ length: 7 }, (_, i) => `page${i}@example.com`);
    const batch = await sf.subscribers.batch({ subscribers: emails.map((email) => ({ email, tags: ['paged'] })) });
    expect(batch.results).toHaveLength(7);

    const firstPage = await sf.subscribers.list({ tag: 'paged', limit: 3 });
    expect(firstPage.items).toHaveLength(3);
    expect(firstPage.next_cursor).not.toBeNull();

    const seen: string[] = [];
    for await (const subscriber of sf.subscribers.listAll({ tag: 'paged', limit: 3 })) seen.push(subscriber.email);
    expect(seen.sort()).toEqual([...emails].sort());
  });

  it('creates and finds tags by id and by name, lists and deletes them', async () => {
    const tag = await sf.tags.create({ name: 'Weekly digest', description: 'Every Monday' });
    expect((await sf.tags.get(tag.id)).name).toBe('Weekly digest');
    expect((await sf.tags.getByName('Weekly digest')).id).toBe(tag.id);
    expect((await sf.tags.update(tag.id, { description: 'Mondays' })).description).toBe('Mondays');
    const all: string[] = [];
    for await (const t of sf.tags.listAll({ limit: 1 })) all.push(t.slug);
    expect(all).toContain(tag.slug);
    await sf.tags.delete(tag.id);
    await expect(sf.tags.get(tag.id)).rejects.toMatchObject({ status: 404, code: 'tag_not_found' });
  });

  it('creates a template, previews it, sends an email from it and reads the email back', async () => {
    const template = await sf.templates.create({ name: 'Welcome', slug: 'welcome', subject: 'Hi {{ first_name }}', mjml_content: MJML });
    expect((await sf.templates.get(template.id)).slug).toBe('welcome');
    expect((await sf.templates.list()).items.map((t) => t.id)).toContain(template.id);
    const preview = await sf.templates.preview(template.id, { variables: { first_name: 'Grace' } });
    expect(preview.subject).toBe('Hi Grace');

    const sent = await sf.emails.send({ template_slug: 'welcome', to: 'grace@example.com', variables: { first_name: 'Grace' } });
    expect(sent.id).toMatch(/^[0-9a-f-]{36}$/);
    expect((await sf.emails.get(sent.id)).id).toBe(sent.id);

    await sf.templates.archive(template.id);
    expect((await sf.templates.get(template.id)).status).toBe('archived');
  });

  it('sends the same Idempotency-Key twice and gets the first answer again, not a second subscriber', async () => {
    const first = await sf.subscribers.create({ email: 'once@example.com' }, { idempotencyKey: 'signup-42' });
    const again = await sf.subscribers.create({ email: 'once@example.com' }, { idempotencyKey: 'signup-42' });
    expect(again.id).toBe(first.id);
    // Without a key of the caller's, each call gets its own: the second create is a real conflict.
    await expect(sf.subscribers.create({ email: 'once@example.com' })).rejects.toMatchObject({ status: 409, code: 'subscriber_exists' });
  });

  it('adds, lists and removes suppressions, lists API keys and reads stats', async () => {
    const suppression = await sf.suppressions.add({ email: 'blocked@example.com', reason: 'manual' });
    expect((await sf.suppressions.list()).items.map((s) => s.id)).toContain(suppression.id);
    await sf.suppressions.remove(suppression.id);
    expect((await sf.suppressions.list()).items).toHaveLength(0);

    const key = await sf.apiKeys.create({ name: 'reporting', scopes: ['subscribers:read'] });
    expect(key.key).toMatch(/^sf_/);
    expect((await sf.apiKeys.list()).items.map((k) => k.id)).toContain(key.id);
    await sf.apiKeys.revoke(key.id);

    const overview = await sf.stats.overview();
    expect(overview).toHaveProperty('subscribers');
    expect(await sf.stats.growth({ days: 7 })).toBeTruthy();
  });

  it("lets a subscriber's token read, change and export their preferences without an API key", async () => {
    const tag = await sf.tags.create({ name: 'News', is_public: true });
    const sub = await sf.subscribers.create({ email: 'prefs@example.com', tags: [tag.slug] });
    const { token } = await sf.subscribers.generatePreferenceToken(sub.id);
    const center = new SubscribeFlowClient({ baseUrl }).preferenceCenter(token);

    const info = await center.getInfo();
    expect(info.subscriber.email).toBe('prefs@example.com');
    await center.update(tag.id, false);
    // A token minted by the API manages topics only; export and erasure need the link emailed on request.
    await expect(center.export()).rejects.toMatchObject({ status: 403, code: 'fresh_link_required' });
    const unsubscribed = await center.unsubscribeAll();
    expect(unsubscribed).toBeTruthy();

    const data = new SubscribeFlowClient({ baseUrl }).preferenceCenter(await dataLink(ctx, 'prefs@example.com', organizationSlug));
    const exported = await data.export();
    expect(JSON.stringify(exported)).toContain('prefs@example.com');
    await data.delete();
    await expect(sf.subscribers.get(sub.id)).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('errors carry the API code, status, details and request id', () => {
  it('maps 404 with the request id of the response', async () => {
    const error = await sf.subscribers.get('01900000-0000-7000-8000-000000000000').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toBeInstanceOf(SubscribeFlowError);
    expect(error).toMatchObject({ status: 404, code: 'subscriber_not_found' });
    expect((error as SubscribeFlowError).requestId).toMatch(/\S+/);
  });

  it('maps 422 with the field details', async () => {
    const error = await sf.subscribers.create({ email: 'not-an-email' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).details.length).toBeGreaterThan(0);
    expect((error as ValidationError).details[0]).toHaveProperty('message');
  });

  it('maps a revoked or wrong key to 401 and a read-only key writing to 403', async () => {
    const wrong = new SubscribeFlowClient({ apiKey: 'sf_live_wrong', baseUrl, maxRetries: 0 });
    await expect(wrong.tags.list()).rejects.toBeInstanceOf(AuthenticationError);

    const readOnly = await ctx.createKey(organizationId, ['subscribers:read']);
    const reader = new SubscribeFlowClient({ apiKey: readOnly.key, baseUrl });
    await expect(reader.subscribers.list()).resolves.toHaveProperty('items');
    const error = await reader.subscribers.create({ email: 'nope@example.com' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermissionDeniedError);
    expect((error as PermissionDeniedError).status).toBe(403);
  });
});
