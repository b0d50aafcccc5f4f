import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestContext, type TestContext } from './support/context.ts';

// Organization B holds a full-scope key and tries every subscriber route on A's subscriber: each read
// and each write must answer 404, and A's data must be unchanged afterwards.
let ctx: TestContext;
let a: ReturnType<typeof api>;
let b: ReturnType<typeof api>;
let subscriberId: string;

beforeAll(async () => {
  ctx = await createTestContext();
  a = api(ctx, (await ctx.createOrganization('A')).key);
  b = api(ctx, (await ctx.createOrganization('B')).key);
  subscriberId = (await a('POST', '/api/v1/subscribers', { email: 'private@a.test', tags: ['a-only'] })).json().id;
});
afterAll(() => ctx.close());

describe("another organization's subscriber", () => {
  const attempts: [string, 'GET' | 'POST' | 'PATCH' | 'DELETE', (id: string) => string, unknown?][] = [
    ['read', 'GET', (id) => `/api/v1/subscribers/${id}`],
    ['update', 'PATCH', (id) => `/api/v1/subscribers/${id}`, { first_name: 'Mallory' }],
    ['delete', 'DELETE', (id) => `/api/v1/subscribers/${id}`],
    ['add tags', 'POST', (id) => `/api/v1/subscribers/${id}/tags`, { tags: ['x'] }],
    ['remove a tag', 'DELETE', (id) => `/api/v1/subscribers/${id}/tags/a-only`],
    ['read history', 'GET', (id) => `/api/v1/subscribers/${id}/events`],
    ['add a note', 'POST', (id) => `/api/v1/subscribers/${id}/notes`, { body: 'x' }],
    ['read notes', 'GET', (id) => `/api/v1/subscribers/${id}/notes`],
  ];

  it.each(attempts)('cannot %s it (404)', async (_name, method, url, body) => {
    const res = await b(method, url(subscriberId), body);
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('subscriber_not_found');
  });

  it("is not found by email, in lists or by tag, and a batch in B creates B's own subscriber", async () => {
    expect((await b('GET', '/api/v1/subscribers/by-email?email=private%40a.test')).statusCode).toBe(404);
    expect((await b('GET', '/api/v1/subscribers')).json().items).toEqual([]);
    expect((await b('GET', '/api/v1/subscribers?tag=a-only')).json().items).toEqual([]);
    const batch = (await b('POST', '/api/v1/subscribers/batch', { subscribers: [{ email: 'private@a.test', first_name: 'B' }] })).json();
    expect(batch.results[0].status).toBe('created');
    expect(batch.results[0].id).not.toBe(subscriberId);
  });

  it('is unchanged after all those attempts', async () => {
    const res = (await a('GET', `/api/v1/subscribers/${subscriberId}`)).json();
    expect(res).toMatchObject({ email: 'private@a.test', first_name: null, status: 'active' });
    expect(res.tags.map((t: { slug: string }) => t.slug)).toEqual(['a-only']);
    expect((await a('GET', `/api/v1/subscribers/${subscriberId}/notes`)).json().items).toEqual([]);
  });
});
