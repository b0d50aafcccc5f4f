import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestContext, type TestContext } from './support/context.ts';

let ctx: TestContext;
let call: ReturnType<typeof api>;
let other: ReturnType<typeof api>;
let organizationId: string;

const MJML = '<mjml><mj-body><mj-section><mj-column><mj-text>Hello</mj-text></mj-column></mj-section></mj-body></mjml>';

beforeAll(async () => {
  ctx = await createTestContext();
  const org = await ctx.createOrganization('Suppressions A');
  organizationId = org.id;
  call = api(ctx, org.key);
  other = api(ctx, (await ctx.createOrganization('Suppressions B')).key);
});
afterAll(() => ctx.close());

describe('the suppression list', () => {
  it('adds an address once: the second add answers 200 with the same entry', async () => {
    const first = await call('POST', '/api/v1/suppressions', { email: 'Blocked@Example.com' });
    expect(first.statusCode).toBe(201);
    expect(first.json()).toMatchObject({ email: 'Blocked@Example.com', reason: 'manual', email_message_id: null });
    const again = await call('POST', '/api/v1/suppressions', { email: 'blocked@example.com' });
    expect(again.statusCode).toBe(200);
    expect(again.json().id).toBe(first.json().id);
  });

  it('lists newest first, pages with a cursor and finds part of an address', async () => {
    for (const email of ['one@list.example', 'two@list.example', 'three@other.example']) await call('POST', '/api/v1/suppressions', { email });
    const page = (await call('GET', '/api/v1/suppressions?limit=2')).json();
    expect(page.items.map((i: { email: string }) => i.email)).toEqual(['three@other.example', 'two@list.example']);
    const next = (await call('GET', `/api/v1/suppressions?limit=2&cursor=${page.next_cursor}`)).json();
    expect(next.items[0].email).toBe('one@list.example');
    const found = (await call('GET', '/api/v1/suppressions?q=LIST.EXAMPLE')).json();
    expect(found.items.map((i: { email: string }) => i.email).sort()).toEqual(['one@list.example', 'two@list.example']);
    expect((await call('GET', '/api/v1/suppressions?q=%25')).json().items).toEqual([]);
  });

  it('refuses a transactional send to a manually suppressed address', async () => {
    await call('POST', '/api/v1/templates', { name: 'Receipt', slug: 'receipt', subject: 'Hi', mjml_content: MJML });
    await call('POST', '/api/v1/suppressions', { email: 'nomail@example.com' });
    const sent = await call('POST', '/api/v1/emails/send', { template_slug: 'receipt', to: 'nomail@example.com' });
    expect(sent.statusCode).toBe(422);
  });

  it('removes an entry so the address can be sent to again', async () => {
    const { id } = (await call('POST', '/api/v1/suppressions', { email: 'again@example.com' })).json();
    expect((await call('DELETE', `/api/v1/suppressions/${id}`)).statusCode).toBe(204);
    expect((await call('DELETE', `/api/v1/suppressions/${id}`)).statusCode).toBe(404);
    expect((await call('POST', '/api/v1/emails/send', { template_slug: 'receipt', to: 'again@example.com' })).statusCode).toBe(202);
  });

  it("does not reveal or remove another organization's entries", async () => {
    const { id } = (await call('POST', '/api/v1/suppressions', { email: 'private@example.com' })).json();
    expect((await other('GET', '/api/v1/suppressions?q=private')).json().items).toEqual([]);
    expect((await other('DELETE', `/api/v1/suppressions/${id}`)).statusCode).toBe(404);
    expect((await call('GET', '/api/v1/suppressions?q=private')).json().items).toHaveLength(1);
  });

  it('lets a read-only key list but not change the list, and refuses other reasons than manual', async () => {
    const readOnly = api(ctx, (await ctx.createKey(organizationId, ['subscribers:read'])).key);
    expect((await readOnly('GET', '/api/v1/suppressions')).statusCode).toBe(200);
    expect((await readOnly('POST', '/api/v1/suppressions', { email: 'x@example.com' })).json().error.code).toBe('insufficient_scope');
    expect((await call('POST', '/api/v1/suppressions', { email: 'x@example.com', reason: 'complaint' })).statusCode).toBe(422);
  });
});
