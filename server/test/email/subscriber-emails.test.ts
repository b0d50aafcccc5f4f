import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/lib/ids.ts';
import { api, createTestContext, sessionApi, type TestContext } from '../support/context.ts';
import { mjml } from './helpers.ts';

let ctx: TestContext;
let call: ReturnType<typeof api>;
let orgId: string;
let ada: { id: string };
let grace: { id: string };
let template: { id: string };
// Ada's messages in the order they were sent.
const sent: string[] = [];

const send = async (to: string, number: number) => {
  const res = await call('POST', '/api/v1/emails/send', { template_slug: 'receipt', to, variables: { number } });
  expect(res.statusCode).toBe(202);
  return res.json().id as string;
};
const list = (subscriberId: string, query = '') => call('GET', `/api/v1/subscribers/${subscriberId}/emails${query}`);

beforeAll(async () => {
  ctx = await createTestContext();
  const org = await ctx.createOrganization('Acme');
  orgId = org.id;
  call = api(ctx, org.key);
  template = (
    await call('POST', '/api/v1/templates', {
      name: 'Receipt',
      slug: 'receipt',
      subject: 'Receipt {{ number }}',
      mjml_content: mjml('Order {{ number }}, thanks.'),
    })
  ).json();
  ada = (await call('POST', '/api/v1/subscribers', { email: 'ada@example.com' })).json();
  grace = (await call('POST', '/api/v1/subscribers', { email: 'grace@example.com' })).json();
  sent.push(await send(ada.id, 1));
  await send(grace.id, 2);
  sent.push(await send('ADA@example.com', 3));
  await send('nobody@example.com', 4);
  sent.push(await send(ada.id, 5));
});
afterAll(() => ctx.close());

describe("a subscriber's emails", () => {
  it("lists only that subscriber's messages, newest first, with template and status but never the body", async () => {
    const res = await list(ada.id);
    expect(res.statusCode).toBe(200);
    const { items, next_cursor } = res.json();
    expect(items.map((m: { id: string }) => m.id)).toEqual([...sent].reverse());
    expect(items.map((m: { subject: string }) => m.subject)).toEqual(['Receipt 5', 'Receipt 3', 'Receipt 1']);
    expect(next_cursor).toBeNull();
    expect(items[1]).toEqual({
      id: sent[1],
      template: { id: template.id, slug: 'receipt', name: 'Receipt' },
      category: 'transactional',
      to_address: 'ADA@example.com',
      subject: 'Receipt 3',
      status: 'queued',
      esp_message_id: null,
      error: null,
      created_at: expect.any(String),
      sent_at: null,
      delivered_at: null,
      opened_at: null,
      clicked_at: null,
      bounced_at: null,
      complained_at: null,
      failed_at: null,
    });
    expect(res.body).not.toContain('thanks.');
  });

  it('shows what the provider did: its message id and the sent time', async () => {
    await ctx.container.email.repositories.email.markSent('resend', [{ id: sent[0]!, providerMessageId: 're_accepted_1', attempt: 1 }]);
    const oldest = (await list(ada.id)).json().items.at(-1);
    expect(oldest).toMatchObject({ id: sent[0], status: 'sent', esp_message_id: 're_accepted_1', sent_at: expect.any(String) });
  });

  it('pages with the cursor it returns, newest first, and refuses a cursor it did not make', async () => {
    const first = (await list(ada.id, '?limit=2')).json();
    expect(first.items.map((m: { id: string }) => m.id)).toEqual([sent[2], sent[1]]);
    expect(first.next_cursor).toEqual(expect.any(String));
    const second = (await list(ada.id, `?limit=2&cursor=${first.next_cursor}`)).json();
    expect(second).toEqual({ items: [expect.objectContaining({ id: sent[0] })], next_cursor: null });
    const bad = await list(ada.id, '?cursor=not-ours');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('invalid_cursor');
  });

  it('answers an empty page for a subscriber without messages, and null for a template that is gone', async () => {
    const quiet = (await call('POST', '/api/v1/subscribers', { email: 'quiet@example.com' })).json();
    expect((await list(quiet.id)).json()).toEqual({ items: [], next_cursor: null });
    // A message without a template, as a campaign or a deleted template leaves it.
    const id = newId();
    await ctx.container.db
      .insertInto('email_messages')
      .values({
        id,
        organization_id: orgId,
        subscriber_id: quiet.id,
        template_id: null,
        category: 'marketing',
        to_address: 'quiet@example.com',
        from_address: 'no-reply@localhost',
        subject: 'Loose',
        html: '<p>Loose</p>',
        text: 'Loose',
        status: 'failed',
        error_code: 'rejected',
        error_message: 'No',
      })
      .execute();
    expect((await list(quiet.id)).json().items).toEqual([
      expect.objectContaining({ id, template: null, status: 'failed', error: { code: 'rejected', message: 'No' } }),
    ]);
  });

  it("erases the messages sent to a subscriber along with the subscriber (GDPR), and keeps everyone else's", async () => {
    const doomed = (await call('POST', '/api/v1/subscribers', { email: 'forget.me@example.com' })).json();
    const messageId = await send(doomed.id, 9);
    expect((await call('DELETE', `/api/v1/subscribers/${doomed.id}`)).statusCode).toBe(204);
    const left = await ctx.container.db.selectFrom('email_messages').select('id').where('id', '=', messageId).executeTakeFirst();
    expect(left).toBeUndefined();
    expect((await call('GET', `/api/v1/emails/${messageId}`)).statusCode).toBe(404);
    expect((await list(ada.id)).json().items).toHaveLength(sent.length);
  });

  it("does not reveal another organization's subscriber or messages", async () => {
    const other = await ctx.createOrganization('Other');
    const asOther = api(ctx, other.key);
    const byKey = await asOther('GET', `/api/v1/subscribers/${ada.id}/emails`);
    expect(byKey.statusCode).toBe(404);
    expect(byKey.json().error.code).toBe('subscriber_not_found');
    const owner = await ctx.createSession(other.id, 'owner');
    expect((await sessionApi(ctx, owner)('GET', `/api/v1/subscribers/${ada.id}/emails`)).statusCode).toBe(404);
    expect((await list(newId())).statusCode).toBe(404);
  });

  it('needs subscribers:read, which a viewer has', async () => {
    const reader = await ctx.createKey(orgId, ['subscribers:read']);
    expect((await api(ctx, reader.key)('GET', `/api/v1/subscribers/${ada.id}/emails`)).statusCode).toBe(200);
    const sender = await ctx.createKey(orgId, ['emails:send']);
    expect((await api(ctx, sender.key)('GET', `/api/v1/subscribers/${ada.id}/emails`)).json().error.code).toBe('insufficient_scope');
    const viewer = await ctx.createSession(orgId, 'viewer');
    expect((await sessionApi(ctx, viewer)('GET', `/api/v1/subscribers/${ada.id}/emails`)).json().items).toHaveLength(3);
  });
});
