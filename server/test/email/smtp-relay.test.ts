import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestContext, sessionApi, type TestContext } from '../support/context.ts';
import { createFakeSmtp, type ReceivedMessage } from '../support/fake-smtp.ts';
import { messageRow, mjml, PUBLIC_SETTINGS, signedHeaders, startWorker, waitFor, WEBHOOK_SECRET } from './helpers.ts';

// Mail sent through a generic SMTP relay, received by a real SMTP server and parsed with a real MIME
// parser: the headers every message carries, and the two ways its delivery events come back (Resend's
// webhook for mail relayed by Resend's SMTP, and a bounce returned to the VERP bounce mailbox).

const smtp = createFakeSmtp();
const BOUNCE_SECRET = 'bounce-forwarder-token-0123456789abcdef';
let ctx: TestContext;
let call: ReturnType<typeof api>;
let orgId: string;
let orgSlug: string;
let worker: Awaited<ReturnType<typeof startWorker>>;
let eventCounter = 0;

beforeAll(async () => {
  await smtp.start();
  ctx = await createTestContext({
    ...PUBLIC_SETTINGS,
    EMAIL_PROVIDER: 'smtp',
    SMTP_URL: smtp.url,
    SMTP_RETURN_PATH: 'bounces@bounce.example.net',
    BOUNCE_WEBHOOK_SECRET: BOUNCE_SECRET,
    RESEND_WEBHOOK_SECRET: WEBHOOK_SECRET,
  });
  const org = await ctx.createOrganization('Acme');
  orgId = org.id;
  orgSlug = org.slug;
  call = api(ctx, org.key);
  const owner = sessionApi(ctx, await ctx.createSession(orgId, 'owner'));
  const settings = await owner('PATCH', '/api/v1/organizations/current', {
    postal_address: '1 Main Street\n12345 Springfield',
    email_reply_to: 'help@acme.example.org',
  });
  expect(settings.statusCode).toBe(200);
  expect(settings.json()).toMatchObject({ email_reply_to: 'help@acme.example.org' });
  worker = await startWorker(ctx);
  await call('POST', '/api/v1/templates', {
    name: 'News',
    slug: 'news',
    category: 'marketing',
    subject: '{{ title }}',
    mjml_content: mjml('Hello {{ subscriber.email }}, here is the news.'),
  });
  await call('POST', '/api/v1/templates', { name: 'Receipt', slug: 'receipt', subject: 'Receipt', mjml_content: mjml('Thanks.') });
});
afterAll(async () => {
  await worker?.close();
  await ctx?.close();
  await smtp.close();
});

async function sendNews(email: string, title = 'Our news'): Promise<{ id: string; received: ReceivedMessage }> {
  const subscriber = (await call('POST', '/api/v1/subscribers', { email })).json();
  const res = await call('POST', '/api/v1/emails/send', { template_slug: 'news', to: subscriber.id, variables: { title } });
  expect(res.statusCode).toBe(202);
  const id = res.json().id as string;
  await waitFor(async () => (await messageRow(ctx, id)).status === 'sent');
  return { id, received: smtp.to(email).at(-1)! };
}

const headerLines = (raw: string) => raw.slice(0, raw.search(/\r\n\r\n/)).split('\r\n');
/** A header as written on the wire, unfolded. */
const rawHeader = (raw: string, name: string) =>
  raw
    .slice(0, raw.search(/\r\n\r\n/))
    .replace(/\r\n[ \t]+/g, ' ')
    .split('\r\n')
    .find((line) => line.toLowerCase().startsWith(`${name.toLowerCase()}:`))
    ?.slice(name.length + 1)
    .trim();

describe('what the SMTP path emits', () => {
  it('carries the reference, the list headers, Reply-To and a VERP return path, and no Resend-only header', async () => {
    const { id, received } = await sendNews('reader@example.com');
    const headers = received.parsed.headers;
    expect(headers.get('x-entity-ref-id')).toBe(`m.${id}`);
    expect(received.parsed.messageId).toBe(`<m.${id}@news.example.net>`);
    expect(received.mailFrom).toBe(`bounces+m.${id}@bounce.example.net`);
    expect(received.parsed.replyTo?.text).toBe('help@acme.example.org');
    expect(rawHeader(received.raw, 'List-Id')).toBe(`"Acme" <${orgSlug}.news.example.net>`);
    expect(rawHeader(received.raw, 'Feedback-ID')).toMatch(new RegExp(`^[0-9a-f-]{36}:${orgId}:marketing:subscribe-flow$`));
    expect(rawHeader(received.raw, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');
    expect(rawHeader(received.raw, 'List-Unsubscribe')).toMatch(/^<https:\/\/api\.news\.example\.net\/u\/[\w.-]+>$/);
    expect(headers.has('resend-idempotency-key')).toBe(false);
    expect(headers.has('auto-submitted')).toBe(false);
    // The stored Message-ID is what Resend reports back for relayed mail.
    expect((await messageRow(ctx, id)).provider_message_id).toBe(`<m.${id}@news.example.net>`);
  });

  it("writes <html lang> in the organization's language, loads no web fonts and ends the footer with the postal address once", async () => {
    const { received } = await sendNews('lang@example.com');
    expect(received.parsed.html).toMatch(/^<!doctype html>\s*<html lang="en"/i);
    expect(received.raw).not.toMatch(/fonts\.googleapis|@import url/);
    const text = received.parsed.text ?? '';
    expect(text).toContain('1 Main Street');
    expect(text.match(/Acme/g)).toHaveLength(2); // once in "updates from Acme.", once above the address
  });

  it('keeps every header line within 998 characters, folding long values', async () => {
    const title = Array.from({ length: 20 }, (_, i) => `word${i}`).join(' ');
    const { received } = await sendNews('long@example.com', `${title} ${'é'.repeat(60)}`);
    for (const line of headerLines(received.raw)) expect(line.length).toBeLessThanOrEqual(998);
    expect(received.parsed.subject).toBe(`${title} ${'é'.repeat(60)}`);
  });

  it('refuses a subject longer than 250 characters with 422 before anything is queued', async () => {
    await call('POST', '/api/v1/subscribers', { email: 'toolong@example.com' });
    const res = await call('POST', '/api/v1/emails/send', { template_slug: 'news', to: 'toolong@example.com', variables: { title: 'x'.repeat(1200) } });
    expect(res.statusCode).toBe(422);
    expect(res.json().error.code).toBe('subject_too_long');
    const queued = await ctx.container.db.selectFrom('email_messages').select('id').where('to_address', '=', 'toolong@example.com').execute();
    expect(queued).toEqual([]);
  });
});

describe('delivery events of SMTP-sent mail', () => {
  const deliver = (body: string) =>
    ctx.app.inject({ method: 'POST', url: '/hooks/resend', payload: body, headers: signedHeaders(body, `msg_smtp_${(eventCounter += 1)}`) });
  const suppression = (email: string) =>
    ctx.container.db
      .selectFrom('suppressions')
      .select(['reason', 'email_message_id'])
      .where('organization_id', '=', orgId)
      .where('email', '=', email)
      .executeTakeFirst();

  it("matches a Resend event for relayed mail (no tags, Resend's own id) by its Message-ID", async () => {
    const { id } = await sendNews('relayed@example.com');
    const body = JSON.stringify({
      type: 'email.bounced',
      created_at: new Date().toISOString(),
      data: {
        email_id: randomUUID(),
        message_id: `m.${id}@news.example.net`,
        to: ['relayed@example.com'],
        subject: 'Our news',
        bounce: { type: 'Permanent', subType: 'General', message: 'No such user' },
      },
    });
    const res = await deliver(body);
    expect(res.json()).toEqual({ received: true, result: 'applied' });
    expect(await messageRow(ctx, id)).toMatchObject({ status: 'bounced', error_code: 'hard_bounce' });
    expect(await suppression('relayed@example.com')).toEqual({ reason: 'hard_bounce', email_message_id: id });
  });

  const dsn = (to: string, recipient: string, status: string, action = 'failed') =>
    [
      'From: Mail Delivery System <MAILER-DAEMON@mx.example.org>',
      `To: ${to}`,
      'Subject: Undelivered Mail Returned to Sender',
      `Message-ID: <dsn-${randomUUID()}@mx.example.org>`,
      'MIME-Version: 1.0',
      'Content-Type: multipart/report; report-type=delivery-status;',
      '\tboundary="B0UND"',
      '',
      'This is a MIME-encapsulated message.',
      '',
      '--B0UND',
      'Content-Type: text/plain; charset=us-ascii',
      '',
      "I'm sorry to have to inform you that your message could not be delivered.",
      '',
      '--B0UND',
      'Content-Type: message/delivery-status',
      '',
      'Reporting-MTA: dns; mx.example.org',
      'Arrival-Date: Mon,  7 Dec 2026 12:00:00 +0000 (UTC)',
      '',
      `Final-Recipient: rfc822; ${recipient}`,
      `Original-Recipient: rfc822;${recipient}`,
      `Action: ${action}`,
      `Status: ${status}`,
      'Remote-MTA: dns; inbox.example.org',
      `Diagnostic-Code: smtp; ${status.startsWith('5') ? '550 5.1.1 user unknown' : '452 4.2.2 mailbox full'}`,
      '',
      '--B0UND',
      'Content-Type: text/rfc822-headers',
      '',
      'From: "Acme" <no-reply@news.example.net>',
      `To: ${recipient}`,
      'Subject: Our news',
      '',
      '--B0UND--',
      '',
    ].join('\r\n');
  const bounce = (raw: string, token = BOUNCE_SECRET) =>
    ctx.app.inject({ method: 'POST', url: '/hooks/bounces', payload: raw, headers: { 'content-type': 'message/rfc822', authorization: `Bearer ${token}` } });

  it('applies a hard bounce returned to the VERP address, and refuses a wrong token', async () => {
    const { id, received } = await sendNews('gone@example.com');
    const raw = dsn(received.mailFrom, 'gone@example.com', '5.1.1');
    expect((await bounce(raw, 'wrong-token-wrong-token-wrong-token')).statusCode).toBe(401);
    expect((await bounce(raw)).json()).toEqual({ received: true, result: 'applied' });
    expect((await bounce(raw)).json()).toEqual({ received: true, result: 'duplicate' });
    expect(await messageRow(ctx, id)).toMatchObject({ status: 'bounced', error_code: 'hard_bounce' });
    expect(await suppression('gone@example.com')).toEqual({ reason: 'hard_bounce', email_message_id: id });
    const subscriber = (await call('GET', '/api/v1/subscribers/by-email?email=gone%40example.com')).json();
    expect(subscriber.status).toBe('bounced');
  });

  it('suppresses after the third soft bounce within 30 days, not before', async () => {
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      const received =
        attempt === 1
          ? (await sendNews('full@example.com')).received
          : await (async () => {
              const res = await call('POST', '/api/v1/emails/send', { template_slug: 'news', to: 'full@example.com', variables: { title: `Try ${attempt}` } });
              await waitFor(async () => (await messageRow(ctx, res.json().id)).status === 'sent');
              return smtp.to('full@example.com').at(-1)!;
            })();
      expect((await bounce(dsn(received.mailFrom, 'full@example.com', '4.2.2'))).json().result).toBe('applied');
      expect((await suppression('full@example.com'))?.reason).toBe(attempt < 3 ? undefined : 'soft_bounce');
    }
  });

  it('finds the message from the returned headers when the bounce went to the plain bounce address', async () => {
    const { id, received } = await sendNews('noverp@example.com');
    const raw = dsn('bounces@bounce.example.net', 'noverp@example.com', '5.1.1').replace(
      'Subject: Our news\r\n',
      `Subject: Our news\r\nMessage-ID: ${received.parsed.messageId}\r\n`,
    );
    expect((await bounce(raw)).json().result).toBe('applied');
    expect((await messageRow(ctx, id)).status).toBe('bounced');
  });
});

describe('system mail through the suppression-checked path', () => {
  const subscribe = (email: string) =>
    ctx.app.inject({ method: 'POST', url: `/api/v1/public/${orgSlug}/subscribe`, payload: { email }, remoteAddress: `10.9.0.${(eventCounter += 1)}` });

  it('sends no confirmation to a suppressed address', async () => {
    await call('POST', '/api/v1/suppressions', { email: 'blocked@example.com' });
    expect((await subscribe('blocked@example.com')).statusCode).toBe(202);
    const control = await subscribe('welcome@example.com');
    expect(control.statusCode).toBe(202);
    await waitFor(() => smtp.to('welcome@example.com').length > 0);
    await ctx.container.background.drain();
    expect(smtp.to('blocked@example.com')).toEqual([]);
  });

  it('marks a confirmation as automatic and suppresses its address when it bounces', async () => {
    await subscribe('confirm-bounce@example.com');
    const received = await waitFor(() => smtp.to('confirm-bounce@example.com')[0]);
    const headers = received.parsed.headers;
    expect(headers.get('auto-submitted')).toBe('auto-generated');
    expect(received.parsed.replyTo?.text).toBe('help@acme.example.org');
    const ref = String(headers.get('x-entity-ref-id'));
    expect(ref).toMatch(new RegExp(`^s\\.${orgId}\\.[0-9a-f]{8}$`));
    expect(received.mailFrom).toBe(`bounces+${ref}@bounce.example.net`);
    const body = JSON.stringify({
      type: 'email.bounced',
      created_at: new Date().toISOString(),
      data: {
        email_id: randomUUID(),
        message_id: received.parsed.messageId,
        to: ['confirm-bounce@example.com'],
        subject: received.parsed.subject,
        bounce: { type: 'Permanent', subType: 'General', message: 'No such user' },
      },
    });
    const res = await ctx.app.inject({ method: 'POST', url: '/hooks/resend', payload: body, headers: signedHeaders(body, `msg_sys_${eventCounter}`) });
    expect(res.json()).toEqual({ received: true, result: 'applied' });
    const row = await ctx.container.db
      .selectFrom('suppressions')
      .select(['reason', 'email_message_id'])
      .where('organization_id', '=', orgId)
      .where('email', '=', 'confirm-bounce@example.com')
      .executeTakeFirst();
    expect(row).toEqual({ reason: 'hard_bounce', email_message_id: null });
  });
});
