import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/lib/ids.ts';
import { api, createTestContext, sessionApi, type TestContext } from '../support/context.ts';
import { mjml } from './helpers.ts';

let ctx: TestContext;
let call: ReturnType<typeof api>;
let orgId: string;
let template: { id: string };
let ada: { id: string };
// Every message of the organization, oldest first.
const sent: string[] = [];

const send = async (to: string, number: number) => {
  const res = await call('POST', '/api/v1/emails/send', { template_slug: 'receipt', to, variables: { number } });
  expect(res.statusCode).toBe(202);
  sent.push(res.json().id as string);
  return res.json().id as string;
};
const log = (query = '') => call('GET', `/api/v1/emails${query}`);
const ids = (res: { json: () => { items: { id: string }[] } }) => res.json().items.map((m) => m.id);

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
  await send(ada.id, 1);
  await send('grace@example.org', 2);
  await send('Ada.Two@Example.com', 3);
  await send('under_score@example.com', 4);
});
afterAll(() => ctx.close());

describe('the email log', () => {
  it('lists every message of the organization newest first, with template and status but never the body', async () => {
    const res = await log();
    expect(res.statusCode).toBe(200);
    expect(ids(res)).toEqual([...sent].reverse());
    expect(res.json().items[0]).toEqual({
      id: sent[3],
      status: 'queued',
      category: 'transactional',
      to_address: 'under_score@example.com',
      from_address: expect.any(String),
      subject: 'Receipt 4',
      template: { id: template.id, slug: 'receipt', name: 'Receipt' },
      subscriber_id: null,
      campaign_id: null,
      esp_message_id: null,
      error: null,
      open_count: 0,
      click_count: 0,
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

  it('finds messages by the beginning of the address in any case, with LIKE wildcards taken literally', async () => {
    expect(ids(await log('?to=ADA'))).toEqual([sent[2], sent[0]]);
    expect(ids(await log('?to=ada.two@example.com'))).toEqual([sent[2]]);
    // "_" would match any character if it were a wildcard: "under_" must not find "underXscore".
    expect(ids(await log('?to=under_'))).toEqual([sent[3]]);
    expect(ids(await log('?to=%25'))).toEqual([]);
  });

  it('filters by status, subscriber, template and time, and pages with its cursor', async () => {
    await ctx.container.email.repositories.email.markSent('resend', [{ id: sent[1]!, providerMessageId: 're_1', attempt: 1 }]);
    expect(ids(await log('?status=sent'))).toEqual([sent[1]]);
    expect(ids(await log(`?subscriber_id=${ada.id}`))).toEqual([sent[0]]);
    expect(ids(await log(`?template_id=${template.id}&category=transactional`))).toHaveLength(4);
    expect(ids(await log(`?template_id=${newId()}`))).toEqual([]);
    expect(ids(await log(`?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`))).toEqual([]);
    expect(ids(await log(`?until=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`))).toHaveLength(4);
    const first = (await log('?limit=3')).json();
    expect(first.items).toHaveLength(3);
    const second = (await log(`?limit=3&cursor=${first.next_cursor}`)).json();
    expect(second).toEqual({ items: [expect.objectContaining({ id: sent[0] })], next_cursor: null });
    expect((await log('?status=lost')).statusCode).toBe(422);
    expect((await log('?cursor=not-ours')).statusCode).toBe(400);
  });

  it("shows one message's headers, HTML, text and the provider's events", async () => {
    await ctx.container.db
      .insertInto('provider_events')
      .values([
        { id: `evt_log_${newId()}`, provider: 'resend', type: 'email.sent', organization_id: orgId, email_message_id: sent[1]! },
        { id: `evt_log_${newId()}`, provider: 'resend', type: 'email.delivered', organization_id: orgId, email_message_id: sent[1]! },
      ])
      .execute();
    const res = await call('GET', `/api/v1/emails/${sent[1]}/content`);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.html).toContain('Order 2, thanks.');
    expect(body.text).toContain('Order 2, thanks.');
    expect(body.headers).toEqual(expect.any(Object));
    expect(body.events.map((e: { type: string }) => e.type).sort()).toEqual(['email.delivered', 'email.sent']);
    expect((await call('GET', `/api/v1/emails/${newId()}/content`)).statusCode).toBe(404);
  });

  it("does not reveal another organization's messages", async () => {
    const other = await ctx.createOrganization('Other');
    const asOther = api(ctx, other.key);
    expect((await asOther('GET', '/api/v1/emails')).json()).toEqual({ items: [], next_cursor: null });
    expect((await asOther('GET', `/api/v1/emails/${sent[0]}/content`)).statusCode).toBe(404);
  });

  it('needs subscribers:read (it shows addresses and bodies), which a viewer has and a sending-only key has not', async () => {
    const sender = await ctx.createKey(orgId, ['emails:send']);
    expect((await api(ctx, sender.key)('GET', '/api/v1/emails')).json().error.code).toBe('insufficient_scope');
    expect((await api(ctx, sender.key)('GET', `/api/v1/emails/${sent[0]}/content`)).json().error.code).toBe('insufficient_scope');
    const reader = await ctx.createKey(orgId, ['subscribers:read']);
    expect(ids(await api(ctx, reader.key)('GET', '/api/v1/emails'))).toHaveLength(4);
    const viewer = await ctx.createSession(orgId, 'viewer');
    expect((await sessionApi(ctx, viewer)('GET', `/api/v1/emails/${sent[0]}/content`)).statusCode).toBe(200);
  });
});
