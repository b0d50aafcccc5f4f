import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestContext, type TestContext } from './support/context.ts';
import { createSubscriber, createTags, history, outbox, preferenceToken, tokenFromLink, waitForMail } from './preferences/helpers.ts';

let ctx: TestContext;
let org: { id: string; slug: string; key: string };
let call: ReturnType<typeof api>;

beforeAll(async () => {
  ctx = await createTestContext({ RATE_LIMIT_PUBLIC_FORM_PER_MINUTE: '1000' });
  org = await ctx.createOrganization('Consent');
  call = api(ctx, org.key);
  await createTags(ctx, org.key, [{ name: 'News' }]);
});
afterAll(() => ctx.close());

const setStatus = (id: string, status: string) => ctx.container.db.updateTable('subscribers').set({ status }).where('id', '=', id).execute();
const statusOf = async (id: string) => (await call('GET', `/api/v1/subscribers/${id}`)).json().status as string;
const statusRows = async (id: string) => (await history(ctx, id)).filter((h) => h.action === 'status_changed');

let nextIp = 1;
/** A confirmation link as the form mails it to an existing address. */
async function confirmationLink(email: string): Promise<string> {
  const since = new Date(Date.now() - 1000);
  const res = await ctx.app.inject({
    method: 'POST',
    url: `/api/v1/public/${org.slug}/subscribe`,
    payload: { email, tags: ['news'] },
    remoteAddress: `10.9.0.${nextIp++}`,
  });
  expect(res.statusCode).toBe(202);
  return tokenFromLink((await waitForMail(ctx, email, since)).text, '/confirm?token=');
}
const confirm = (token: string) => ctx.app.inject({ method: 'POST', url: '/api/v1/public/confirm', payload: { token } });

describe('double opt-in confirmation links', () => {
  it('work once', async () => {
    const email = 'once@example.com';
    await ctx.app.inject({ method: 'POST', url: `/api/v1/public/${org.slug}/subscribe`, payload: { email }, remoteAddress: '10.9.1.1' });
    const token = tokenFromLink((await waitForMail(ctx, email, new Date(Date.now() - 5000))).text, '/confirm?token=');
    expect((await confirm(token)).statusCode).toBe(200);
    const again = await confirm(token);
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('link_used');
  });

  it('never change a complained or bounced subscriber, even on the first click', async () => {
    for (const status of ['complained', 'bounced']) {
      const id = await createSubscriber(ctx, org.key, { email: `${status}-link@example.com` });
      await setStatus(id, 'unsubscribed');
      const token = await confirmationLink(`${status}-link@example.com`);
      // The provider reports the address after the link went out.
      await setStatus(id, status);
      const eventsBefore = (await outbox(ctx, id)).length;
      const res = await confirm(token);
      expect(res.statusCode).toBe(409);
      expect(res.json().error.code).toBe('confirmation_refused');
      expect(await statusOf(id)).toBe(status);
      expect((await call('GET', `/api/v1/subscribers/${id}`)).json().tags).toEqual([]);
      expect((await outbox(ctx, id)).length).toBe(eventsBefore);
    }
  });

  it('do not undo an unsubscribe made after the link was sent', async () => {
    const id = await createSubscriber(ctx, org.key, { email: 'later@example.com', status: 'pending' });
    const token = await confirmationLink('later@example.com');
    // The person unsubscribes (one click in the preference center) after the link was mailed.
    const prefs = await preferenceToken(ctx, org.key, id);
    expect((await ctx.app.inject({ method: 'POST', url: `/api/v1/preference-center/unsubscribe-all?token=${prefs}` })).statusCode).toBe(200);
    expect(await statusOf(id)).toBe('unsubscribed');
    const res = await confirm(token);
    expect(res.statusCode).toBe(409);
    expect(await statusOf(id)).toBe('unsubscribed');
  });

  it('make a pending subscriber active with a status_changed row next to the consent record', async () => {
    const id = await createSubscriber(ctx, org.key, { email: 'pending@example.com', status: 'pending' });
    expect((await confirm(await confirmationLink('pending@example.com'))).statusCode).toBe(200);
    expect(await statusOf(id)).toBe('active');
    expect(await statusRows(id)).toEqual([
      expect.objectContaining({ source: 'form', details: expect.objectContaining({ from: 'pending', to: 'active', via: 'double_opt_in' }) }),
    ]);
  });
});

describe('one status-change rule', () => {
  it('PATCH: back to active only with a consent reason, which the history keeps', async () => {
    const id = await createSubscriber(ctx, org.key, { email: 'patch@example.com' });
    expect((await call('PATCH', `/api/v1/subscribers/${id}`, { status: 'unsubscribed' })).statusCode).toBe(200);
    const refused = await call('PATCH', `/api/v1/subscribers/${id}`, { status: 'active' });
    expect(refused.statusCode).toBe(422);
    expect(refused.json().error).toMatchObject({ code: 'status_change_not_allowed', details: [{ field: 'consent_reason', code: 'required' }] });
    expect(await statusOf(id)).toBe('unsubscribed');
    const allowed = await call('PATCH', `/api/v1/subscribers/${id}`, { status: 'active', consent_reason: 'Signed up again at our booth' });
    expect(allowed.statusCode).toBe(200);
    expect(allowed.json().status).toBe('active');
    expect((await statusRows(id)).map((r) => r.details)).toEqual(
      expect.arrayContaining([
        { from: 'active', to: 'unsubscribed', via: 'api' },
        { from: 'unsubscribed', to: 'active', via: 'api', consent_reason: 'Signed up again at our booth' },
      ]),
    );
  });

  it('PATCH: a complained address needs an explicit consent reason too', async () => {
    const id = await createSubscriber(ctx, org.key, { email: 'complained-patch@example.com' });
    await setStatus(id, 'complained');
    expect((await call('PATCH', `/api/v1/subscribers/${id}`, { status: 'unsubscribed' })).statusCode).toBe(422);
    expect((await call('PATCH', `/api/v1/subscribers/${id}`, { status: 'active' })).statusCode).toBe(422);
    expect(await statusOf(id)).toBe('complained');
  });

  it('batch: never moves an unsubscribed subscriber back to active without a consent reason, and writes status_changed', async () => {
    const id = await createSubscriber(ctx, org.key, { email: 'batch-unsub@example.com' });
    expect((await call('PATCH', `/api/v1/subscribers/${id}`, { status: 'unsubscribed' })).statusCode).toBe(200);
    const res = await call('POST', '/api/v1/subscribers/batch', { subscribers: [{ email: 'batch-unsub@example.com', status: 'active', first_name: 'Back' }] });
    expect(res.statusCode).toBe(200);
    expect(res.json().results[0]).toMatchObject({
      status: 'failed',
      error: { code: 'status_change_not_allowed', details: [{ field: 'consent_reason', code: 'required' }] },
    });
    expect(await statusOf(id)).toBe('unsubscribed');

    const withReason = await call('POST', '/api/v1/subscribers/batch', {
      subscribers: [{ email: 'batch-unsub@example.com', status: 'active', consent_reason: 'Re-subscribed in our shop' }],
    });
    expect(withReason.json().results[0].status).toBe('updated');
    expect(await statusOf(id)).toBe('active');
    expect((await statusRows(id)).map((r) => r.details)).toContainEqual({
      from: 'unsubscribed',
      to: 'active',
      via: 'batch',
      consent_reason: 'Re-subscribed in our shop',
    });
    const updated = (await outbox(ctx, id)).filter((e) => e.type === 'subscriber.updated').pop();
    expect((updated!.payload as { changed_fields: string[] }).changed_fields).toContain('status');
  });

  it('batch: never reactivates a bounced or complained subscriber, with or without a reason; other items go through', async () => {
    for (const status of ['bounced', 'complained']) {
      const id = await createSubscriber(ctx, org.key, { email: `batch-${status}@example.com` });
      await setStatus(id, status);
      const res = await call('POST', '/api/v1/subscribers/batch', {
        subscribers: [
          { email: `batch-${status}@example.com`, status: 'active', consent_reason: 'CRM says so' },
          { email: `batch-${status}@example.com`.replace('batch-', 'batch-new-') },
        ],
      });
      expect(res.json().results.map((r: { status: string }) => r.status)).toEqual(['failed', 'created']);
      expect(res.json().results[0].error).toMatchObject({ code: 'status_change_not_allowed', details: [{ field: 'status', code: 'not_allowed' }] });
      expect(await statusOf(id)).toBe(status);
      // An item that does not name a status keeps the current one.
      await call('POST', '/api/v1/subscribers/batch', { subscribers: [{ email: `batch-${status}@example.com`, first_name: 'Kept' }] });
      expect(await statusOf(id)).toBe(status);
    }
  });

  it('batch: unsubscribing writes its status_changed row (it used to write only "updated")', async () => {
    const id = await createSubscriber(ctx, org.key, { email: 'batch-out@example.com' });
    await call('POST', '/api/v1/subscribers/batch', { subscribers: [{ email: 'batch-out@example.com', status: 'unsubscribed' }] });
    expect(await statusOf(id)).toBe('unsubscribed');
    expect(await statusRows(id)).toEqual([expect.objectContaining({ details: { from: 'active', to: 'unsubscribed', via: 'batch' } })]);
  });
});
