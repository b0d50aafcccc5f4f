import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestContext, type TestContext } from '../support/context.ts';
import { createFakeResend } from '../support/fake-resend.ts';
import { messageRow, mjml, resendConfig, signedHeaders, startWorker, waitFor } from './helpers.ts';

const fake = createFakeResend();
let ctx: TestContext;
let call: ReturnType<typeof api>;
let orgId: string;
let worker: Awaited<ReturnType<typeof startWorker>>;
let eventCounter = 0;

beforeAll(async () => {
  await fake.start();
  ctx = await createTestContext(resendConfig(fake, { PROVIDER_RATE_LIMIT_PER_SECOND: '0' }));
  const org = await ctx.createOrganization('Acme');
  orgId = org.id;
  call = api(ctx, org.key);
  worker = await startWorker(ctx);
  await call('POST', '/api/v1/templates', { name: 'Hello', slug: 'hello', subject: 'Hello', mjml_content: mjml('Hello') });
});
afterAll(async () => {
  await worker?.close();
  await ctx?.close();
  await fake.close();
});

/** Sends an email to a new subscriber and waits until the provider accepted it. */
async function sentEmail(email: string) {
  const subscriber = (await call('POST', '/api/v1/subscribers', { email })).json();
  const id = (await call('POST', '/api/v1/emails/send', { template_slug: 'hello', to: subscriber.id })).json().id as string;
  const row = await waitFor(async () => {
    const current = await messageRow(ctx, id);
    return current.status === 'sent' ? current : undefined;
  });
  return { id, subscriberId: subscriber.id as string, providerId: row.provider_message_id! };
}

function event(type: string, message: { id: string; providerId: string }, extra: Record<string, unknown> = {}) {
  return JSON.stringify({
    type,
    created_at: new Date().toISOString(),
    data: { email_id: message.providerId, to: ['x@example.com'], subject: 'Hello', tags: { organization_id: orgId, message_id: message.id }, ...extra },
  });
}

function post(body: string, headers: Record<string, string>) {
  return ctx.app.inject({ method: 'POST', url: '/hooks/resend', payload: body, headers });
}

const deliver = (body: string, id = `msg_${(eventCounter += 1)}`) => post(body, signedHeaders(body, id));
const events = (subjectId: string) =>
  ctx.container.db.selectFrom('events').select(['type', 'payload']).where('subject_id', '=', subjectId).orderBy('id').execute();

describe('Resend webhooks', () => {
  it('refuses a missing, wrong or old signature with 401 and changes nothing', async () => {
    const message = await sentEmail('sig@example.com');
    const body = event('email.delivered', message);
    const valid = signedHeaders(body, 'msg_sig');
    expect((await post(body, { 'content-type': 'application/json' })).statusCode).toBe(401);
    expect((await post(body, { ...valid, 'svix-signature': 'v1,AAAA' })).statusCode).toBe(401);
    expect((await post(`${body} `, valid)).statusCode).toBe(401);
    const old = Math.floor(Date.now() / 1000) - 6 * 60;
    const stale = await post(body, signedHeaders(body, 'msg_sig', old));
    expect(stale.statusCode).toBe(401);
    expect(stale.json().error.code).toBe('invalid_signature');
    expect((await messageRow(ctx, message.id)).status).toBe('sent');
    const recorded = await ctx.container.db.selectFrom('provider_events').select('id').execute();
    expect(recorded).toEqual([]);
  });

  it('applies delivered, opened and clicked, and ignores a redelivered event', async () => {
    const message = await sentEmail('reader@example.com');
    const delivered = event('email.delivered', message);
    expect((await deliver(delivered, 'msg_delivered')).json()).toEqual({ received: true, result: 'applied' });
    expect((await deliver(delivered, 'msg_delivered')).json()).toEqual({ received: true, result: 'duplicate' });
    await deliver(event('email.opened', message));
    await deliver(event('email.opened', message));
    await deliver(
      event('email.clicked', message, { click: { link: 'https://acme.test', ipAddress: '1.2.3.4', userAgent: 'x', timestamp: new Date().toISOString() } }),
    );
    const email = (await call('GET', `/api/v1/emails/${message.id}`)).json();
    expect(email).toMatchObject({ status: 'delivered', open_count: 2, click_count: 1 });
    expect(email.delivered_at).not.toBeNull();
    expect(email.opened_at).not.toBeNull();
    expect((await events(message.id)).map((e) => e.type)).toEqual(['email.sent', 'email.delivered', 'email.opened', 'email.opened', 'email.clicked']);
  });

  it('finds the message by the provider id when the tags are missing, and never moves it backwards', async () => {
    const message = await sentEmail('order@example.com');
    await deliver(JSON.stringify({ type: 'email.delivered', created_at: new Date().toISOString(), data: { email_id: message.providerId } }));
    await deliver(JSON.stringify({ type: 'email.delivery_delayed', created_at: new Date().toISOString(), data: { email_id: message.providerId } }));
    expect((await messageRow(ctx, message.id)).status).toBe('delivered');
  });

  it('turns a hard bounce into a bounced subscriber, a suppression and outbox events, in one go', async () => {
    const message = await sentEmail('bounce@example.com');
    const res = await deliver(event('email.bounced', message, { bounce: { type: 'Permanent', subType: 'General', message: 'mailbox does not exist' } }));
    expect(res.json().result).toBe('applied');
    expect(await messageRow(ctx, message.id)).toMatchObject({ status: 'bounced', error_code: 'hard_bounce' });
    expect((await call('GET', `/api/v1/subscribers/${message.subscriberId}`)).json().status).toBe('bounced');
    const suppression = await ctx.container.db
      .selectFrom('suppressions')
      .select(['email', 'reason'])
      .where('organization_id', '=', orgId)
      .where('email', '=', 'bounce@example.com')
      .execute();
    expect(suppression).toEqual([{ email: 'bounce@example.com', reason: 'hard_bounce' }]);
    expect((await events(message.id)).map((e) => e.type)).toEqual(['email.sent', 'email.bounced']);
    expect((await events(message.subscriberId)).map((e) => e.type)).toContain('subscriber.updated');
    const history = (await call('GET', `/api/v1/subscribers/${message.subscriberId}/events`)).json().items;
    expect(history[0]).toMatchObject({ action: 'status_changed', source: 'provider', details: { from: 'active', to: 'bounced' } });
    // And nothing more is sent to the address.
    const again = await call('POST', '/api/v1/emails/send', { template_slug: 'hello', to: 'bounce@example.com' });
    expect(again.json().error.code).toBe('recipient_suppressed');
  });

  it('keeps a soft bounce on the message only', async () => {
    const message = await sentEmail('soft@example.com');
    await deliver(event('email.bounced', message, { bounce: { type: 'Transient', subType: 'MailboxFull', message: 'full' } }));
    expect((await messageRow(ctx, message.id)).error_code).toBe('soft_bounce');
    expect((await call('GET', `/api/v1/subscribers/${message.subscriberId}`)).json().status).toBe('active');
  });

  it('turns a complaint into a complained subscriber and a suppression', async () => {
    const message = await sentEmail('complaint@example.com');
    await deliver(event('email.complained', message));
    expect((await messageRow(ctx, message.id)).status).toBe('complained');
    expect((await call('GET', `/api/v1/subscribers/${message.subscriberId}`)).json().status).toBe('complained');
    const reasons = await ctx.container.db.selectFrom('suppressions').select('reason').where('email', '=', 'complaint@example.com').execute();
    expect(reasons).toEqual([{ reason: 'complaint' }]);
  });

  it('records a provider failure on the message', async () => {
    const message = await sentEmail('failed@example.com');
    await deliver(event('email.failed', message, { failed: { reason: 'reached_daily_quota' } }));
    expect(await messageRow(ctx, message.id)).toMatchObject({ status: 'failed', error_code: 'provider_failed', error_message: 'reached_daily_quota' });
  });

  it('treats email.suppressed like a hard bounce: the address is suppressed and the subscriber bounced', async () => {
    const message = await sentEmail('resend-suppressed@example.com');
    const res = await deliver(event('email.suppressed', message, { suppressed: { type: 'OnAccountSuppressionList', message: 'previously bounced' } }));
    expect(res.json().result).toBe('applied');
    expect(await messageRow(ctx, message.id)).toMatchObject({ status: 'bounced', error_code: 'hard_bounce' });
    expect((await call('GET', `/api/v1/subscribers/${message.subscriberId}`)).json().status).toBe('bounced');
    const reasons = await ctx.container.db.selectFrom('suppressions').select('reason').where('email', '=', 'resend-suppressed@example.com').execute();
    expect(reasons).toEqual([{ reason: 'hard_bounce' }]);
  });

  it('does not stamp delivered_at when "delivered" arrives after a bounce', async () => {
    const message = await sentEmail('late-delivered@example.com');
    await deliver(event('email.bounced', message, { bounce: { type: 'Permanent', subType: 'General', message: 'gone' } }));
    await deliver(event('email.delivered', message));
    expect(await messageRow(ctx, message.id)).toMatchObject({ status: 'bounced', delivered_at: null });
  });

  it('suppresses an address at its third soft bounce within 30 days', async () => {
    const messages: { id: string; subscriberId: string; providerId: string }[] = [];
    for (let i = 0; i < 3; i += 1) {
      const sent: { id: string; subscriberId: string; providerId: string } =
        i === 0
          ? await sentEmail('mailbox-full@example.com')
          : await (async () => {
              const id = (await call('POST', '/api/v1/emails/send', { template_slug: 'hello', to: 'mailbox-full@example.com' })).json().id as string;
              const row = await waitFor(async () => ((await messageRow(ctx, id)).status === 'sent' ? messageRow(ctx, id) : undefined));
              return { id, subscriberId: messages[0]!.subscriberId, providerId: row.provider_message_id! };
            })();
      messages.push(sent);
      await deliver(event('email.bounced', sent, { bounce: { type: 'Transient', subType: 'MailboxFull', message: 'full' } }));
      const reasons = await ctx.container.db.selectFrom('suppressions').select('reason').where('email', '=', 'mailbox-full@example.com').execute();
      expect(reasons).toEqual(i < 2 ? [] : [{ reason: 'soft_bounce' }]);
    }
    expect((await call('GET', `/api/v1/subscribers/${messages[0]!.subscriberId}`)).json().status).toBe('bounced');
  });

  it('suppresses the address of a bounced confirmation email (not stored) in its organization', async () => {
    const body = JSON.stringify({
      type: 'email.bounced',
      created_at: new Date().toISOString(),
      data: {
        email_id: 'resend-id-of-a-confirmation',
        to: ['never-confirmed@example.com'],
        subject: 'Please confirm',
        tags: { organization_id: orgId, kind: 'confirmation' },
        bounce: { type: 'Permanent', subType: 'General', message: 'gone' },
      },
    });
    expect((await deliver(body)).json().result).toBe('applied');
    const rows = await ctx.container.db
      .selectFrom('suppressions')
      .select(['reason', 'email_message_id'])
      .where('organization_id', '=', orgId)
      .where('email', '=', 'never-confirmed@example.com')
      .execute();
    expect(rows).toEqual([{ reason: 'hard_bounce', email_message_id: null }]);
  });

  it('does not tell the sign-in page to look in a dev mailbox when a real provider sends', async () => {
    const res = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/magic-link', payload: { email: 'someone@example.com' } });
    expect(res.json().dev_mailbox).toBe(false);
  });

  it('accepts events about mail it does not know, and other event types, without changing anything', async () => {
    expect((await deliver(JSON.stringify({ type: 'email.delivered', data: { email_id: 'unknown' } }))).json().result).toBe('ignored');
    expect((await deliver(JSON.stringify({ type: 'domain.updated', data: { id: 'd' } }))).json().result).toBe('ignored');
  });
});
