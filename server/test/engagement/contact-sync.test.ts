import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runJob } from '../campaigns/support.ts';
import { resendConfig, signedHeaders } from '../email/helpers.ts';
import { api, createTestContext, sessionApi, type TestContext } from '../support/context.ts';
import { createFakeResend } from '../support/fake-resend.ts';

const fake = createFakeResend();
let ctx: TestContext;
// The provider's rate gate at five requests a second: the sync shares it with sending.
const RATE = 5;

beforeAll(async () => {
  await fake.start();
  ctx = await createTestContext(resendConfig(fake, { PROVIDER_RATE_LIMIT_PER_SECOND: String(RATE) }));
});
afterAll(async () => {
  await ctx?.close();
  await fake.close();
});
beforeEach(() => fake.reset());

/** The event relay, then sync rounds until the contact outbox is empty (each round is one job). */
async function relayAndSync(tick: string) {
  const run = runJob(ctx);
  await run('events.relay', { tick: `2026-01-01T00${tick}Z` });
  for (let round = 0; round < 30; round += 1) {
    try {
      const result = (await run('resend.sync', { tick: `${tick}r${round}` })) as { more: boolean };
      if (!result.more) return;
    } catch (error) {
      // The gate had no slot within the job's wait: the worker puts the job back and pauses; so does this.
      if ((error as Error).message !== 'rate limited') throw error;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  }
  const left = await ctx.container.db.selectFrom('resend_contact_outbox').select(['email', 'attempts', 'last_error']).execute();
  throw new Error(`the outbox did not drain: ${JSON.stringify(left)}`);
}

async function outbox(organizationId: string) {
  return ctx.container.db
    .selectFrom('resend_contact_outbox')
    .select(['subscriber_id', 'attempts', 'last_error'])
    .where('organization_id', '=', organizationId)
    .execute();
}

describe('Resend contact sync', () => {
  let org: { id: string; key: string };
  let admin: ReturnType<typeof sessionApi>;
  let call: ReturnType<typeof api>;
  const ids: Record<string, string> = {};

  it('is off by default; turned on by an admin it mirrors every subscriber and the public topics to Resend, through the rate gate', async () => {
    org = await ctx.createOrganization('Contact sync');
    admin = sessionApi(ctx, await ctx.createSession(org.id, 'admin'));
    call = api(ctx, org.key);
    expect((await call('POST', '/api/v1/tags', { name: 'News', is_public: true })).statusCode).toBe(201);
    expect((await call('POST', '/api/v1/tags', { name: 'VIP', is_public: false })).statusCode).toBe(201);
    for (const [name, body] of [
      ['ada', { email: 'ada@example.com', first_name: 'Ada', last_name: 'Lovelace', tags: ['news'] }],
      ['bob', { email: 'bob@example.com', tags: ['vip'] }],
      ['cy', { email: 'cy@example.com', status: 'pending' }],
    ] as const) {
      const res = await call('POST', '/api/v1/subscribers', body);
      expect(res.statusCode, res.body).toBe(201);
      ids[name] = (res.json() as { id: string }).id;
    }
    expect((await admin('GET', '/api/v1/organizations/current')).json().resend_contact_sync).toBe(false);
    await relayAndSync('01');
    expect(fake.contacts.size).toBe(0);

    const on = await admin('PATCH', '/api/v1/organizations/current', { resend_contact_sync: true });
    expect(on.statusCode, on.body).toBe(200);
    expect(on.json().resend_contact_sync).toBe(true);
    await relayAndSync('02');

    // Only the public topic, opt-out by default: each contact's own choice is set explicitly.
    expect([...fake.topics.values()].map((t) => [t.name, t.default_subscription])).toEqual([['News', 'opt_out']]);
    const news = [...fake.topics.keys()][0]!;
    expect(fake.contacts.size).toBe(3);
    expect(fake.contact('ada@example.com')).toMatchObject({ first_name: 'Ada', last_name: 'Lovelace', unsubscribed: false });
    expect(fake.contact('ada@example.com')!.topics.get(news)).toBe('opt_in');
    expect(fake.contact('bob@example.com')!.topics.get(news)).toBe('opt_out');
    // A pending subscriber has not confirmed: Resend must not mail them either.
    expect(fake.contact('cy@example.com')!.unsubscribed).toBe(true);
    expect(await outbox(org.id)).toEqual([]);
    expect(fake.maxRequestsInWindow(1000)).toBeLessThanOrEqual(RATE);
  });

  it("allows one organization per Resend account; another organization's changes never reach Resend", async () => {
    const other = await ctx.createOrganization('Contact sync other');
    const otherAdmin = sessionApi(ctx, await ctx.createSession(other.id, 'admin'));
    const taken = await otherAdmin('PATCH', '/api/v1/organizations/current', { resend_contact_sync: true });
    expect(taken.statusCode).toBe(409);
    expect(taken.json().error.code).toBe('resend_sync_taken');
    // Changes of an organization that does not mirror never reach Resend.
    expect((await api(ctx, other.key)('POST', '/api/v1/subscribers', { email: 'other@example.com' })).statusCode).toBe(201);
    await relayAndSync('03');
    expect(fake.contact('other@example.com')).toBeUndefined();
  });

  it('mirrors later changes from the event outbox: names, topic choices, erasure; a repeated round changes nothing', async () => {
    const news = (await ctx.container.db.selectFrom('resend_topics').select('topic_id').where('organization_id', '=', org.id).executeTakeFirstOrThrow())
      .topic_id;
    fake.topics.set(news, { id: news, name: 'News', default_subscription: 'opt_out', created_at: new Date().toISOString() });
    // The fake was reset: what Resend holds now is only what this test's rounds send.
    expect((await call('PATCH', `/api/v1/subscribers/${ids.bob}`, { first_name: 'Robert' })).statusCode).toBe(200);
    expect((await call('DELETE', `/api/v1/subscribers/${ids.ada}/tags/news`)).statusCode).toBeLessThan(300);
    await relayAndSync('04');
    expect(fake.contact('bob@example.com')).toMatchObject({ first_name: 'Robert', unsubscribed: false });
    expect(fake.contact('ada@example.com')!.topics.get(news)).toBe('opt_out');

    const requests = fake.requests.length;
    await relayAndSync('05');
    expect(fake.requests.length).toBe(requests);

    expect((await call('DELETE', `/api/v1/subscribers/${ids.bob}`)).statusCode).toBeLessThan(300);
    await relayAndSync('06');
    expect(fake.contact('bob@example.com')).toBeUndefined();
  });

  it('keeps changes in the outbox while Resend refuses or limits, and sends them on the next round (resumable)', async () => {
    const news = (await ctx.container.db.selectFrom('resend_topics').select('topic_id').where('organization_id', '=', org.id).executeTakeFirstOrThrow())
      .topic_id;
    fake.topics.set(news, { id: news, name: 'News', default_subscription: 'opt_out', created_at: new Date().toISOString() });
    expect((await call('PATCH', `/api/v1/subscribers/${ids.cy}`, { first_name: 'Cyrus' })).statusCode).toBe(200);
    await runJob(ctx)('events.relay', { tick: '2026-01-01T0007Z' });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    fake.failNext({ status: 429, name: 'rate_limit_exceeded', path: /^\/contacts/, headers: { 'retry-after': '1' } });
    await expect(runJob(ctx)('resend.sync', { tick: 'limited' })).rejects.toThrow('rate limited');
    expect((await outbox(org.id)).map((r) => r.subscriber_id)).toEqual([ids.cy]);

    // Past the injected 429, so the local gate has a slot for this round.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    fake.failNext({ status: 422, name: 'validation_error', message: 'Invalid `email` field.', path: /^\/contacts/ });
    await runJob(ctx)('resend.sync', { tick: 'refused' });
    expect(await outbox(org.id)).toEqual([{ subscriber_id: ids.cy, attempts: 1, last_error: 'Invalid `email` field.' }]);

    await relayAndSync('08');
    expect(fake.contact('cy@example.com')).toMatchObject({ first_name: 'Cyrus', unsubscribed: true });
    expect(await outbox(org.id)).toEqual([]);
  });

  it("honours an unsubscribe made at Resend once, with the reason in the consent history, and never subscribes anyone from Resend's side", async () => {
    const ada = await call('GET', `/api/v1/subscribers/${ids.ada}`);
    expect(ada.json().status).toBe('active');
    const event = (unsubscribed: boolean) =>
      JSON.stringify({
        type: 'contact.updated',
        created_at: new Date().toISOString(),
        data: { id: 'c1', email: 'ADA@example.com', first_name: 'Ada', last_name: 'Lovelace', unsubscribed, created_at: new Date().toISOString() },
      });
    const post = (body: string, id: string) => ctx.app.inject({ method: 'POST', url: '/hooks/resend', headers: signedHeaders(body, id), payload: body });

    const first = await post(event(true), 'msg_contact_1');
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json().result).toBe('applied');
    expect((await post(event(true), 'msg_contact_1')).json().result).toBe('duplicate');
    expect((await call('GET', `/api/v1/subscribers/${ids.ada}`)).json().status).toBe('unsubscribed');
    const history = await ctx.container.db
      .selectFrom('subscription_history')
      .select(['action', 'source', 'details'])
      .where('subscriber_id', '=', ids.ada!)
      .where('action', '=', 'unsubscribed')
      .execute();
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({
      source: 'resend',
      details: { from: 'active', reason: 'resend_contact_unsubscribed', provider_event_id: 'msg_contact_1' },
    });

    // Resubscribed at Resend: consent is given here only, by the person.
    expect((await post(event(false), 'msg_contact_2')).json().result).toBe('ignored');
    expect((await call('GET', `/api/v1/subscribers/${ids.ada}`)).json().status).toBe('unsubscribed');
  });

  it('turned off, stops mirroring and drops what was waiting', async () => {
    expect((await call('PATCH', `/api/v1/subscribers/${ids.cy}`, { first_name: 'Cy' })).statusCode).toBe(200);
    const off = await admin('PATCH', '/api/v1/organizations/current', { resend_contact_sync: false });
    expect(off.statusCode, off.body).toBe(200);
    expect(off.json().resend_contact_sync).toBe(false);
    await relayAndSync('09');
    expect(await outbox(org.id)).toEqual([]);
    expect(fake.requests).toEqual([]);
  });
});
