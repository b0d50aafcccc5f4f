import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestContext, type TestContext } from './support/context.ts';

let ctx: TestContext;
let call: ReturnType<typeof api>;

beforeAll(async () => {
  ctx = await createTestContext();
  call = api(ctx, (await ctx.createOrganization()).key);
});
afterAll(() => ctx.close());

describe('tags', () => {
  it('creates a tag with a slug derived from its name and every field in the response', async () => {
    const res = await call('POST', '/api/v1/tags', { name: 'Produkt-Neuigkeiten für Kunden', description: 'Monthly', category: 'Product', is_public: false });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      name: 'Produkt-Neuigkeiten für Kunden',
      slug: 'produkt-neuigkeiten-fur-kunden',
      description: 'Monthly',
      category: 'Product',
      is_public: false,
      subscriber_count: 0,
    });
  });

  it('accepts an explicit slug and rejects a malformed one', async () => {
    expect((await call('POST', '/api/v1/tags', { name: 'Offers', slug: 'deals' })).json().slug).toBe('deals');
    const bad = await call('POST', '/api/v1/tags', { name: 'Bad', slug: 'Not A Slug' });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().error.details[0].field).toBe('slug');
  });

  it('answers 409 tag_exists for a taken name or slug', async () => {
    expect((await call('POST', '/api/v1/tags', { name: 'offers' })).json().error.code).toBe('tag_exists');
    expect((await call('POST', '/api/v1/tags', { name: 'Other', slug: 'deals' })).statusCode).toBe(409);
  });

  it('finds a tag by name or slug and counts only subscribed subscribers', async () => {
    const { id: subscriberId } = (await call('POST', '/api/v1/subscribers', { email: 'a@tags.test', tags: ['deals'] })).json();
    await call('POST', '/api/v1/subscribers', { email: 'b@tags.test', tags: ['Offers'] });
    expect((await call('GET', '/api/v1/tags/by-name/OFFERS')).json().subscriber_count).toBe(2);
    await call('DELETE', `/api/v1/subscribers/${subscriberId}/tags/deals`);
    expect((await call('GET', '/api/v1/tags/by-name/deals')).json().subscriber_count).toBe(1);
    expect((await call('GET', '/api/v1/tags/by-name/missing')).json().error.code).toBe('tag_not_found');
  });

  it('lists with a category filter and cursor pagination', async () => {
    await call('POST', '/api/v1/tags', { name: 'Cat A1', category: 'cat-a' });
    await call('POST', '/api/v1/tags', { name: 'Cat A2', category: 'cat-a' });
    await call('POST', '/api/v1/tags', { name: 'Cat A3', category: 'cat-a' });
    const first = (await call('GET', '/api/v1/tags?category=cat-a&limit=2')).json();
    expect(first.items.map((t: { name: string }) => t.name)).toEqual(['Cat A3', 'Cat A2']);
    const second = (await call('GET', `/api/v1/tags?category=cat-a&limit=2&cursor=${first.next_cursor}`)).json();
    expect(second.items.map((t: { name: string }) => t.name)).toEqual(['Cat A1']);
    expect(second.next_cursor).toBeNull();
  });

  it('updates and deletes, removing every subscription to the tag', async () => {
    const tag = (await call('POST', '/api/v1/tags', { name: 'Temporary' })).json();
    const { id: subscriberId } = (await call('POST', '/api/v1/subscribers', { email: 'c@tags.test', tags: ['temporary'] })).json();
    const patched = await call('PATCH', `/api/v1/tags/${tag.id}`, { description: 'Soon gone', is_public: false });
    expect(patched.json()).toMatchObject({ description: 'Soon gone', is_public: false, subscriber_count: 1 });
    expect((await call('PATCH', `/api/v1/tags/${tag.id}`, { slug: 'deals' })).statusCode).toBe(409);
    expect((await call('DELETE', `/api/v1/tags/${tag.id}`)).statusCode).toBe(204);
    expect((await call('GET', `/api/v1/tags/${tag.id}`)).statusCode).toBe(404);
    expect((await call('GET', `/api/v1/subscribers/${subscriberId}`)).json().tags).toEqual([]);
  });
});

describe('tenant isolation for tags', () => {
  it("does not reveal or change another organization's tag", async () => {
    const other = api(ctx, (await ctx.createOrganization('Other')).key);
    const tag = (await call('POST', '/api/v1/tags', { name: 'Private to A' })).json();
    expect((await other('GET', `/api/v1/tags/${tag.id}`)).statusCode).toBe(404);
    expect((await other('GET', '/api/v1/tags/by-name/private-to-a')).statusCode).toBe(404);
    expect((await other('PATCH', `/api/v1/tags/${tag.id}`, { name: 'Hijacked' })).statusCode).toBe(404);
    expect((await other('DELETE', `/api/v1/tags/${tag.id}`)).statusCode).toBe(404);
    expect((await other('GET', '/api/v1/tags')).json().items).toEqual([]);
    // The same name is free in another organization.
    expect((await other('POST', '/api/v1/tags', { name: 'Private to A' })).statusCode).toBe(201);
    expect((await call('GET', `/api/v1/tags/${tag.id}`)).json().name).toBe('Private to A');
  });
});
