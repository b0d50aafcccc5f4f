import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { api, createTestContext, type TestContext } from '../support/context.ts';
import { createFakeResend } from '../support/fake-resend.ts';
import { messageRow, mjml, resendConfig, startWorker, waitFor } from './helpers.ts';

const fake = createFakeResend();
let ctx: TestContext;
let call: ReturnType<typeof api>;
let orgId: string;
let worker: Awaited<ReturnType<typeof startWorker>>;

beforeAll(async () => {
  await fake.start();
  ctx = await createTestContext(resendConfig(fake, { PROVIDER_RATE_LIMIT_PER_SECOND: '0' }));
  const org = await ctx.createOrganization('Acme');
  orgId = org.id;
  call = api(ctx, org.key);
  worker = await startWorker(ctx);
  await call('POST', '/api/v1/templates', {
    name: 'Receipt',
    slug: 'receipt',
    subject: 'Receipt {{ number }}',
    mjml_content: mjml('Thanks {{ name }}, order {{ number }}.'),
    variables_schema: { type: 'object', required: ['number'] },
  });
  await call('POST', '/api/v1/templates', {
    name: 'News',
    slug: 'news',
    category: 'marketing',
    subject: 'News',
    mjml_content: mjml('Hello {{ subscriber.email }}'),
  });
});
afterAll(async () => {
  await worker?.close();
  await ctx?.close();
  await fake.close();
});
beforeEach(() => {
  fake.reset();
  fake.setRateLimit(null);
});

const send = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  call('POST', '/api/v1/emails/send', { template_slug: 'receipt', variables: { name: 'Ada', number: 1 }, ...body }, headers);
const sentOrFailed = (id: string) =>
  waitFor(async () => {
    const res = await call('GET', `/api/v1/emails/${id}`);
    return ['sent', 'failed', 'suppressed'].includes(res.json().status) ? res.json() : undefined;
  });
const usage = async () =>
  (await ctx.container.db.selectFrom('organizations').select('emails_sent_this_month').where('id', '=', orgId).executeTakeFirstOrThrow())
    .emails_sent_this_month;

describe('transactional sending', () => {
  it('queues with 202, sends through the worker and the Resend SDK, and shows the provider message id', async () => {
    const res = await send({ to: 'ada@example.com' });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ id: expect.any(String), status: 'queued' });
    const email = await sentOrFailed(res.json().id);
    expect(email).toMatchObject({ status: 'sent', to_address: 'ada@example.com', subject: 'Receipt 1', provider: 'resend', attempts: 1, error: null });
    expect(fake.emails).toHaveLength(1);
    const accepted = fake.emails[0]!;
    expect(email.esp_message_id).toBe(accepted.id);
    expect(accepted).toMatchObject({
      from: '"Acme" <no-reply@news.example.net>',
      to: ['ada@example.com'],
      subject: 'Receipt 1',
      idempotencyKey: `email-message/${res.json().id}`,
    });
    expect(accepted.tags).toEqual([
      { name: 'organization_id', value: orgId },
      { name: 'message_id', value: res.json().id },
    ]);
    expect(accepted.text).toContain('Thanks Ada, order 1.');
    expect(accepted.headers).not.toHaveProperty('List-Unsubscribe');
    const events = await ctx.container.db.selectFrom('events').select(['type', 'payload']).where('subject_id', '=', res.json().id).execute();
    expect(events).toEqual([
      { type: 'email.sent', payload: expect.objectContaining({ email_send_id: res.json().id, esp_message_id: accepted.id, email: 'ada@example.com' }) },
    ]);
  });

  it('refuses marketing mail while the organization has no postal address, naming the setting', async () => {
    const subscriber = (await call('POST', '/api/v1/subscribers', { email: 'early@example.com' })).json();
    const res = await send({ template_slug: 'news', to: subscriber.id, variables: {} });
    expect(res.statusCode).toBe(422);
    expect(res.json().error).toMatchObject({ code: 'postal_address_missing', details: [{ field: 'postal_address', message: 'is not set' }] });
    expect(await ctx.container.db.selectFrom('email_messages').select('id').where('to_address', '=', 'early@example.com').execute()).toEqual([]);
    // Transactional mail needs no address.
    const receipt = await send({ to: 'early@example.com' });
    expect(receipt.statusCode).toBe(202);
    await sentOrFailed(receipt.json().id);
  });

  it('sends marketing mail only to active subscribers, with one-click unsubscribe headers and the footer', async () => {
    await ctx.container.db.updateTable('organizations').set({ postal_address: '1 Main Street\nSpringfield' }).where('id', '=', orgId).execute();
    const subscriber = (await call('POST', '/api/v1/subscribers', { email: 'reader@example.com' })).json();
    const res = await send({ template_slug: 'news', to: subscriber.id, variables: {} });
    expect(res.statusCode).toBe(202);
    await sentOrFailed(res.json().id);
    const headers = fake.emails[0]!.headers;
    expect(headers['List-Unsubscribe']).toMatch(/^<https:\/\/api\.news\.example\.net\/u\/[\w-]+\.[\w-]+>$/);
    expect(headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    expect(fake.emails[0]!.text).toContain('Unsubscribe (https://api.news.example.net/u/');
    expect(fake.emails[0]!.text).toContain('You receive this email because you subscribed to updates from Acme.');
    const news = fake.emails.find((e) => e.to.includes('reader@example.com'))!;
    expect(news.headers['List-Id']).toMatch(/^"Acme" <org-[\w-]+\.news\.example\.net>$/);
    expect(news.headers['X-Entity-Ref-ID']).toBe(`m.${res.json().id}`);

    expect((await send({ template_slug: 'news', to: 'stranger@example.com', variables: {} })).json().error.code).toBe('recipient_not_subscribed');
    await call('PATCH', `/api/v1/subscribers/${subscriber.id}`, { status: 'unsubscribed' });
    expect((await send({ template_slug: 'news', to: subscriber.id, variables: {} })).json().error.code).toBe('recipient_not_subscribed');
  });

  it('answers 422 recipient_suppressed for suppressed, bounced and complained recipients', async () => {
    await ctx.container.db
      .insertInto('suppressions')
      .values({ id: crypto.randomUUID(), organization_id: orgId, email: 'Gone@Example.com', reason: 'hard_bounce' })
      .execute();
    expect((await send({ to: 'gone@example.com' })).json().error.code).toBe('recipient_suppressed');
    const bounced = (await call('POST', '/api/v1/subscribers', { email: 'bounced@example.com' })).json();
    await ctx.container.db.updateTable('subscribers').set({ status: 'complained' }).where('id', '=', bounced.id).execute();
    const res = await send({ to: bounced.id });
    expect(res.statusCode).toBe(422);
    expect(res.json().error.code).toBe('recipient_suppressed');
  });

  it('never sends twice for one idempotency key, from the body or the header, and refuses the key for another email', async () => {
    const before = await usage();
    const first = await send({ to: 'once@example.com', idempotency_key: 'order-1' });
    const again = await send({ to: 'once@example.com', idempotency_key: 'order-1' });
    expect(again.json().id).toBe(first.json().id);
    const parallel = await Promise.all(Array.from({ length: 5 }, () => send({ to: 'race@example.com', idempotency_key: 'order-2' })));
    expect(new Set(parallel.map((r) => r.json().id)).size).toBe(1);
    const byHeader = await send({ to: 'header@example.com' }, { 'idempotency-key': 'order-3' });
    const byHeaderAgain = await send({ to: 'header@example.com' }, { 'idempotency-key': 'order-3' });
    expect(byHeaderAgain.json().id).toBe(byHeader.json().id);
    const reused = await send({ to: 'someone-else@example.com', idempotency_key: 'order-1' });
    expect(reused.statusCode).toBe(422);
    expect(reused.json().error.code).toBe('idempotency_key_reused');

    for (const id of [first.json().id, parallel[0]!.json().id, byHeader.json().id]) await sentOrFailed(id);
    expect(fake.emails.map((e) => e.to[0]).sort()).toEqual(['header@example.com', 'once@example.com', 'race@example.com']);
    expect(await usage()).toBe(before + 3);
  });

  it('counts each accepted email once against the plan and answers 402 plan_limit_exceeded at the limit', async () => {
    const used = await usage();
    await ctx.container.db
      .updateTable('organizations')
      .set({ max_emails_per_month: used + 2 })
      .where('id', '=', orgId)
      .execute();
    try {
      expect((await send({ to: 'a@example.com' })).statusCode).toBe(202);
      expect((await send({ to: 'b@example.com', idempotency_key: 'limit-b' })).statusCode).toBe(202);
      expect((await send({ to: 'b@example.com', idempotency_key: 'limit-b' })).statusCode).toBe(202);
      const over = await send({ to: 'c@example.com' });
      expect(over.statusCode).toBe(402);
      expect(over.json().error.code).toBe('plan_limit_exceeded');
      expect(await usage()).toBe(used + 2);
    } finally {
      await ctx.container.db.updateTable('organizations').set({ max_emails_per_month: null }).where('id', '=', orgId).execute();
    }
  });

  it('fails an email the provider rejects without retrying, and gives its quota back', async () => {
    const used = await usage();
    fake.failNext({ status: 422, name: 'invalid_from_address', message: 'Invalid `from` field.', path: /^\/emails$/ });
    const res = await send({ to: 'rejected@example.com' });
    const email = await sentOrFailed(res.json().id);
    expect(email).toMatchObject({ status: 'failed', attempts: 1, error: { code: 'provider_invalid_from_address', message: 'Invalid `from` field.' } });
    expect(await usage()).toBe(used);
    const failedEvent = await ctx.container.db.selectFrom('events').select('type').where('subject_id', '=', res.json().id).execute();
    expect(failedEvent.map((e) => e.type)).toEqual(['email.failed']);
  });

  it("fails at once on the provider's quota errors", async () => {
    fake.failNext({ status: 429, name: 'daily_quota_exceeded', path: /^\/emails$/ });
    const email = await sentOrFailed((await send({ to: 'quota@example.com' })).json().id);
    expect(email).toMatchObject({ status: 'failed', attempts: 1, error: { code: 'provider_quota_exceeded' } });
    expect(fake.emails).toHaveLength(0);
  });

  it('waits out 429 answers for the time in Retry-After and sends every email exactly once', async () => {
    fake.setRateLimit({ requests: 2 });
    const ids = await Promise.all(Array.from({ length: 6 }, async (_, i) => (await send({ to: `burst${i}@example.com` })).json().id as string));
    for (const id of ids) expect((await sentOrFailed(id)).status).toBe('sent');
    expect(fake.requests.some((r) => r.status === 429)).toBe(true);
    expect(fake.emails).toHaveLength(6);
    const rows = await Promise.all(ids.map((id) => messageRow(ctx, id)));
    expect(rows.every((r) => r.attempts >= 1 && r.status === 'sent')).toBe(true);
  });

  it("retries after an outage that hid the provider's acceptance, and the retry sends nothing new", async () => {
    fake.failNext({ status: 500, name: 'internal_server_error', path: /^\/emails$/, afterAccept: true });
    const res = await send({ to: 'lost-answer@example.com' });
    const email = await waitFor(async () => {
      const row = (await call('GET', `/api/v1/emails/${res.json().id}`)).json();
      return row.status === 'sent' ? row : undefined;
    }, 20_000);
    expect(email.attempts).toBe(2);
    expect(fake.emails).toHaveLength(1);
    expect(email.esp_message_id).toBe(fake.emails[0]!.id);
  }, 30_000);

  it('names what is wrong with a send request', async () => {
    expect((await send({ to: 'x@example.com', template_id: crypto.randomUUID() })).json().error.code).toBe('validation_error');
    expect((await send({ to: 'x@example.com', template_slug: 'nope' })).json().error.code).toBe('template_not_found');
    expect((await send({ to: crypto.randomUUID() })).json().error.code).toBe('subscriber_not_found');
    const missing = await send({ to: 'x@example.com', variables: { name: 'Ada' } });
    expect(missing.json().error).toMatchObject({ code: 'template_variables_invalid', details: [{ field: 'variables.number' }] });
    expect((await send({ to: 'not an address' })).statusCode).toBe(422);
  });

  it("does not show another organization's email", async () => {
    const res = await send({ to: 'private@example.com' });
    const other = await ctx.createOrganization('Other');
    expect((await api(ctx, other.key)('GET', `/api/v1/emails/${res.json().id}`)).statusCode).toBe(404);
  });
});
