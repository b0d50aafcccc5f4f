import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runJob } from '../campaigns/support.ts';
import { resendConfig, signedHeaders } from '../email/helpers.ts';
import { api, createTestContext, sessionApi, type TestContext } from '../support/context.ts';
import { createFakeResend } from '../support/fake-resend.ts';

/**
 * The contact sync both ways: topic renames and deletions reach Resend, topic choices and deleted
 * contacts reported by Resend's webhooks are honoured here (signed, counted once, never echoed back),
 * and the dashboard's status route says how the mirror is doing.
 */
const fake = createFakeResend();
let ctx: TestContext;

beforeAll(async () => {
  await fake.start();
  // The rate gate is the other test file's subject; here it only has to let the rounds through.
  ctx = await createTestContext(resendConfig(fake, { PROVIDER_RATE_LIMIT_PER_SECOND: '500' }));
});
afterAll(async () => {
  await ctx?.close();
  await fake.close();
});

let relays = 0;
/** The event relay, then sync rounds until nothing waits (each round is one job). */
async function relayAndSync() {
  relays += 1;
  const run = runJob(ctx);
  await run('events.relay', { tick: `2026-02-01T00${String(relays).padStart(2, '0')}Z` });
  for (let round = 0; round < 20; round += 1) {
    const result = (await run('resend.sync', { tick: `tw${relays}r${round}` })) as { more: boolean };
    if (!result.more) return;
  }
  throw new Error('the outbox did not drain');
}

const post = (event: unknown, id: string, headers?: Record<string, string>) => {
  const body = JSON.stringify(event);
  return ctx.app.inject({ method: 'POST', url: '/hooks/resend', headers: headers ?? signedHeaders(body, id), payload: body });
};

async function history(subscriberId: string) {
  return ctx.container.db
    .selectFrom('subscription_history')
    .select(['action', 'source', 'tag_id', 'details'])
    .where('subscriber_id', '=', subscriberId)
    .where('source', '=', 'resend')
    .orderBy('created_at')
    .execute();
}

describe('Resend contact sync, both ways', () => {
  let org: { id: string; key: string };
  let admin: ReturnType<typeof sessionApi>;
  let call: ReturnType<typeof api>;
  const tags: Record<string, string> = {};
  const ids: Record<string, string> = {};
  const topicOf = async (tagId: string) =>
    (await ctx.container.db.selectFrom('resend_topics').select('topic_id').where('tag_id', '=', tagId).executeTakeFirst())?.topic_id;

  it('shows the status to admins only, with plain states before and after turning the sync on', async () => {
    org = await ctx.createOrganization('Two-way sync');
    admin = sessionApi(ctx, await ctx.createSession(org.id, 'admin'));
    const viewer = sessionApi(ctx, await ctx.createSession(org.id, 'viewer'));
    call = api(ctx, org.key);
    expect((await viewer('GET', '/api/v1/contact-sync')).statusCode).toBe(403);
    expect((await call('GET', '/api/v1/contact-sync')).statusCode).toBe(403);

    const off = await admin('GET', '/api/v1/contact-sync');
    expect(off.statusCode, off.body).toBe(200);
    expect(off.json()).toMatchObject({ enabled: false, available: true, taken: false, pending: 0, failed: 0, detached: 0, last_error: null });
    expect((await admin('POST', '/api/v1/contact-sync/full-sync')).json().error.code).toBe('resend_sync_off');

    for (const name of ['News', 'Events']) {
      const res = await call('POST', '/api/v1/tags', { name, is_public: true, description: `${name} mail` });
      expect(res.statusCode, res.body).toBe(201);
      tags[name] = res.json().id;
    }
    for (const [name, email] of [
      ['ada', 'ada@example.com'],
      ['bob', 'bob@example.com'],
    ] as const) {
      const res = await call('POST', '/api/v1/subscribers', { email, tags: ['news'] });
      expect(res.statusCode, res.body).toBe(201);
      ids[name] = res.json().id;
    }
    expect((await admin('PATCH', '/api/v1/organizations/current', { resend_contact_sync: true })).statusCode).toBe(200);
    const started = (await admin('GET', '/api/v1/contact-sync')).json();
    expect(started).toMatchObject({ enabled: true, pending: 2, full_sync_finished_at: null });
    expect(started.full_sync_requested_at).toEqual(expect.any(String));

    await relayAndSync();
    const done = (await admin('GET', '/api/v1/contact-sync')).json();
    expect(done).toMatchObject({ enabled: true, pending: 0, failed: 0, last_error: null });
    expect(done.full_sync_finished_at).toEqual(expect.any(String));
    expect(done.last_round_at).toEqual(expect.any(String));
    expect(fake.contact('ada@example.com')!.topics.get((await topicOf(tags.News!))!)).toBe('opt_in');
  });

  it('renames and deletes topics at Resend when their tag is renamed, made private or deleted; a repeated round sends nothing', async () => {
    const news = (await topicOf(tags.News!))!;
    const events = (await topicOf(tags.Events!))!;
    expect((await call('PATCH', `/api/v1/tags/${tags.News}`, { name: 'Newsletter', description: 'Weekly' })).statusCode).toBe(200);
    expect((await call('DELETE', `/api/v1/tags/${tags.Events}`)).statusCode).toBeLessThan(300);
    await relayAndSync();
    expect(fake.topics.get(news)).toMatchObject({ name: 'Newsletter', description: 'Weekly' });
    expect(fake.topics.has(events)).toBe(false);
    expect(await topicOf(tags.Events!)).toBeUndefined();

    const requests = fake.requests.length;
    await relayAndSync();
    expect(fake.requests.length).toBe(requests);

    // Resend down during a rename: the round stops, the rename stays to do, and the next round does it.
    expect((await call('PATCH', `/api/v1/tags/${tags.News}`, { description: 'Every week' })).statusCode).toBe(200);
    fake.failNext({ status: 503, name: 'internal_server_error', path: /^\/topics/ });
    await expect(runJob(ctx)('resend.sync', { tick: 'topic-down' })).rejects.toThrow();
    expect(fake.topics.get(news)?.description).toBe('Weekly');
    await relayAndSync();
    expect(fake.topics.get(news)?.description).toBe('Every week');

    // A rename Resend refuses for good is settled, not asked again each round: the contacts behind it still go.
    expect((await call('PATCH', `/api/v1/tags/${tags.News}`, { description: 'Refused' })).statusCode).toBe(200);
    expect((await call('PATCH', `/api/v1/subscribers/${ids.ada}`, { first_name: 'Ada' })).statusCode).toBe(200);
    fake.failNext({ status: 422, name: 'validation_error', message: 'Invalid `description` field.', path: /^\/topics/ });
    await relayAndSync();
    expect(fake.topics.get(news)?.description).toBe('Every week');
    expect(fake.contact('ada@example.com')?.first_name).toBe('Ada');
    const settled = fake.requests.length;
    await relayAndSync();
    expect(fake.requests.length).toBe(settled);

    // Private, the topic goes; public again, a new topic is made and whoever chose the tag is in it.
    expect((await call('PATCH', `/api/v1/tags/${tags.News}`, { is_public: false })).statusCode).toBe(200);
    await relayAndSync();
    expect(fake.topics.has(news)).toBe(false);
    expect((await call('PATCH', `/api/v1/tags/${tags.News}`, { is_public: true })).statusCode).toBe(200);
    await relayAndSync();
    const again = (await topicOf(tags.News!))!;
    expect(again).not.toBe(news);
    expect(fake.topics.get(again)?.name).toBe('Newsletter');
    expect(fake.contact('ada@example.com')!.topics.get(again)).toBe('opt_in');
  });

  it('applies a topic choice made at Resend once, with the reason in the consent history, and its echo changes nothing', async () => {
    const news = (await topicOf(tags.News!))!;
    fake.contact('ada@example.com')!.topics.set(news, 'opt_out');
    const event = fake.contactEvent('contact.topics.updated', 'ada@example.com');
    const first = await post(event, 'msg_topics_1');
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json().result).toBe('applied');
    expect((await post(event, 'msg_topics_1')).json().result).toBe('duplicate');

    const ada = (await call('GET', `/api/v1/subscribers/${ids.ada}`)).json();
    expect(ada.status).toBe('active');
    expect(ada.tags.find((t: { id: string }) => t.id === tags.News)).toBeUndefined();
    expect(await history(ids.ada!)).toEqual([
      { action: 'tag_unsubscribed', source: 'resend', tag_id: tags.News, details: { reason: 'resend_topic_opt_out', provider_event_id: 'msg_topics_1' } },
    ]);

    // The same state goes back to Resend, and Resend's echo of it changes nothing: no loop.
    await relayAndSync();
    expect(fake.contact('ada@example.com')!.topics.get(news)).toBe('opt_out');
    expect((await post(fake.contactEvent('contact.topics.updated', 'ada@example.com'), 'msg_topics_2')).json().result).toBe('ignored');
    expect((await post(fake.contactEvent('contact.updated', 'ada@example.com'), 'msg_topics_2b')).json().result).toBe('ignored');
    expect(await history(ids.ada!)).toHaveLength(1);

    // Opting back in at Resend is the person's choice within their subscription: applied to an active subscriber.
    fake.contact('ada@example.com')!.topics.set(news, 'opt_in');
    expect((await post(fake.contactEvent('contact.topics.updated', 'ada@example.com'), 'msg_topics_3')).json().result).toBe('applied');
    expect((await history(ids.ada!)).map((h) => [h.action, (h.details as { reason: string }).reason])).toEqual([
      ['tag_unsubscribed', 'resend_topic_opt_out'],
      ['tag_subscribed', 'resend_topic_opt_in'],
    ]);
  });

  it('ignores a topic report older than our own change, or while our change still waits to be sent', async () => {
    const news = (await topicOf(tags.News!))!;
    const before = new Date(Date.now() - 60_000);
    // Our change: bob leaves the topic here; Resend's report of the old state must not bring him back.
    expect((await call('DELETE', `/api/v1/subscribers/${ids.bob}/tags/news`)).statusCode).toBeLessThan(300);
    await runJob(ctx)('events.relay', { tick: '2026-02-01T0090Z' });
    const stale = {
      type: 'contact.topics.updated',
      created_at: new Date().toISOString(),
      data: { email: 'bob@example.com', topics: [{ id: news, subscription: 'opt_in' }] },
    };
    expect((await post(stale, 'msg_stale_1')).json().result).toBe('ignored');
    await relayAndSync();
    expect(fake.contact('bob@example.com')!.topics.get(news)).toBe('opt_out');
    expect((await post({ ...stale, created_at: before.toISOString() }, 'msg_stale_2')).json().result).toBe('ignored');
    const bob = (await call('GET', `/api/v1/subscribers/${ids.bob}`)).json();
    expect(bob.tags.find((t: { id: string }) => t.id === tags.News)).toBeUndefined();
    expect(await history(ids.bob!)).toEqual([]);
  });

  it('keeps a subscriber whose contact was deleted at Resend, records it, and stops mirroring them; "sync everything" leaves them alone', async () => {
    const deleted = fake.contactEvent('contact.deleted', 'bob@example.com');
    fake.contacts.delete(fake.contact('bob@example.com')!.id);
    expect((await post(deleted, 'msg_deleted_1')).json().result).toBe('applied');
    expect((await post(deleted, 'msg_deleted_1')).json().result).toBe('duplicate');
    expect((await call('GET', `/api/v1/subscribers/${ids.bob}`)).json().status).toBe('active');
    expect(await history(ids.bob!)).toEqual([
      { action: 'provider_contact_deleted', source: 'resend', tag_id: null, details: { reason: 'resend_contact_deleted', provider_event_id: 'msg_deleted_1' } },
    ]);

    expect((await call('PATCH', `/api/v1/subscribers/${ids.bob}`, { first_name: 'Bob' })).statusCode).toBe(200);
    const full = await admin('POST', '/api/v1/contact-sync/full-sync');
    expect(full.statusCode, full.body).toBe(202);
    expect(full.json()).toEqual({ queued: 1 });
    await ctx.container.background.drain();
    const audit = await ctx.container.db
      .selectFrom('audit_logs')
      .select(['action', 'target_id'])
      .where('organization_id', '=', org.id)
      .where('action', '=', 'contact_sync.full_sync')
      .execute();
    expect(audit).toEqual([{ action: 'contact_sync.full_sync', target_id: org.id }]);
    await relayAndSync();
    expect(fake.contact('bob@example.com')).toBeUndefined();
    expect(fake.contact('ada@example.com')).toBeDefined();
    expect((await admin('GET', '/api/v1/contact-sync')).json()).toMatchObject({ detached: 1, pending: 0 });

    // Our own erasure echoed back: no subscriber any more, nothing to do.
    expect((await call('DELETE', `/api/v1/subscribers/${ids.ada}`)).statusCode).toBeLessThan(300);
    const erased = fake.contactEvent('contact.deleted', 'ada@example.com');
    await relayAndSync();
    expect(fake.contact('ada@example.com')).toBeUndefined();
    expect((await post(erased, 'msg_deleted_2')).json().result).toBe('ignored');
  });

  it('refuses unsigned or tampered contact events', async () => {
    const event = { type: 'contact.deleted', created_at: new Date().toISOString(), data: { email: 'bob@example.com' } };
    const body = JSON.stringify(event);
    const headers = signedHeaders(body, 'msg_forged');
    const forged = await post({ ...event, data: { email: 'someone@example.com' } }, 'msg_forged', headers);
    expect(forged.statusCode).toBe(401);
    const unsigned = await ctx.app.inject({ method: 'POST', url: '/hooks/resend', headers: { 'content-type': 'application/json' }, payload: body });
    expect(unsigned.statusCode).toBe(401);
  });

  it('says in plain words what stopped the last round, and clears it once a round goes through', async () => {
    expect((await call('PATCH', `/api/v1/subscribers/${ids.bob}`, { last_name: 'B' })).statusCode).toBe(200);
    expect((await call('POST', '/api/v1/subscribers', { email: 'cy@example.com' })).statusCode).toBe(201);
    await runJob(ctx)('events.relay', { tick: '2026-02-01T0095Z' });
    fake.failNext({ status: 503, name: 'internal_server_error', path: /^\/contacts/ });
    await expect(runJob(ctx)('resend.sync', { tick: 'down' })).rejects.toThrow();
    const status = (await admin('GET', '/api/v1/contact-sync')).json();
    expect(status.pending).toBe(1);
    expect(status.last_error).toMatchObject({ code: 'unavailable', message: expect.stringContaining('could not be reached') });
    await relayAndSync();
    expect((await admin('GET', '/api/v1/contact-sync')).json()).toMatchObject({ pending: 0, last_error: null });
  });

  it('creates many new topics over several rounds, each round asking for the next while topics wait', async () => {
    for (let i = 0; i < 21; i += 1) expect((await call('POST', '/api/v1/tags', { name: `Batch ${i}`, is_public: true })).statusCode).toBe(201);
    const first = (await runJob(ctx)('resend.sync', { tick: 'batch-1' })) as { topics: number; more: boolean };
    expect(first).toMatchObject({ topics: 20, more: true });
    const second = (await runJob(ctx)('resend.sync', { tick: 'batch-2' })) as { topics: number; more: boolean };
    expect(second).toMatchObject({ topics: 1, more: false });
    expect([...fake.topics.values()].filter((t) => t.name.startsWith('Batch '))).toHaveLength(21);
  });

  it('does not take our own state echoed back for an unsubscribe: a pending subscriber, or a report from before they confirmed', async () => {
    const created = await call('POST', '/api/v1/subscribers', { email: 'dee@example.com', status: 'pending' });
    expect(created.statusCode, created.body).toBe(201);
    const dee = created.json().id as string;
    await relayAndSync();
    // A pending subscriber is an unsubscribed contact at Resend; Resend reports it back.
    expect(fake.contact('dee@example.com')!.unsubscribed).toBe(true);
    const echo = fake.contactEvent('contact.updated', 'dee@example.com', new Date());
    expect((await post(echo, 'msg_echo_1')).json().result).toBe('ignored');
    expect((await call('GET', `/api/v1/subscribers/${dee}`)).json().status).toBe('pending');

    // Confirmed afterwards; the old report arriving late describes the time before the confirmation.
    await ctx.container.db
      .updateTable('subscribers')
      .set({ status: 'active', confirmed_at: new Date(Date.now() + 1000) })
      .where('id', '=', dee)
      .execute();
    expect((await post(echo, 'msg_echo_2')).json().result).toBe('ignored');
    expect((await call('GET', `/api/v1/subscribers/${dee}`)).json().status).toBe('active');
    expect(await history(dee)).toEqual([]);
  });
});
