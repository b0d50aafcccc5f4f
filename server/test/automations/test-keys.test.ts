import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestContext } from '../support/context.ts';
import { api } from '../support/context.ts';
import { createFakeResend } from '../support/fake-resend.ts';
import { startWorker, waitFor } from '../email/helpers.ts';
import { isValidEventPayload } from '../../src/modules/events/index.ts';
import { automationContext, automationOrganization, DAY, testClock } from './support.ts';

// sf_test_ keys run automations without sending: a subscriber or an event made with one starts test runs
// whose mail lands in the dev mailbox (marked as a test), never at the provider, and counts nowhere.
const fake = createFakeResend({ recordBodies: true });
const clock = testClock();
let ctx: TestContext;
let worker: Awaited<ReturnType<typeof startWorker>>;
let tick = 0;

beforeAll(async () => {
  await fake.start();
  ctx = await automationContext(fake, clock);
  worker = await startWorker(ctx);
});
afterAll(async () => {
  await worker?.close();
  await ctx?.close();
  await fake.close();
});

async function cronMinute() {
  tick += 1;
  await ctx.container.jobs.enqueueMany([{ name: 'events.relay', payload: { tick: `2026-02-01T00${String(tick).padStart(2, '0')}Z` } }]);
  await ctx.container.jobs.enqueue('automations.run', { tick: `k${tick}` });
}

const mailbox = (organizationId: string) =>
  ctx.container.db
    .selectFrom('dev_mailbox')
    .select(['to_address', 'subject', 'headers', 'idempotency_key'])
    .where('organization_id', '=', organizationId)
    .execute();

describe('automations started with an sf_test_ key', () => {
  it('deliver to the dev mailbox through the real worker, marked as test, outside counts, quota and live entries', async () => {
    const org = await automationOrganization(ctx, 'Test keys');
    const testKey = await ctx.container.services.apiKeys.create(org.id, {
      name: 'staging',
      scopes: ['subscribers:write', 'events:write'],
      environment: 'test',
    });
    expect(testKey.key).toMatch(/^sf_test_/);
    const asTest = api(ctx, testKey.key);

    const welcome = (
      await org.call('POST', '/api/v1/triggers', {
        name: 'Welcome',
        event: 'subscriber.created',
        is_active: true,
        steps: [
          { type: 'send_email', template_id: org.welcome },
          { type: 'delay', seconds: 86_400 },
          { type: 'send_email', template_id: org.tips },
        ],
      })
    ).json();
    const trial = (
      await org.call('POST', '/api/v1/triggers', { name: 'Trial', event: 'trial_started', template_id: org.tips, is_active: true, reentry: 'never' })
    ).json();
    const usageBefore = (await ctx.container.db.selectFrom('organizations').select('emails_sent_this_month').where('id', '=', org.id).executeTakeFirstOrThrow())
      .emails_sent_this_month;

    // A subscriber created with the test key, one with the live key.
    const tess = (await asTest('POST', '/api/v1/subscribers', { email: 'tess@example.com', first_name: 'Tess' })).json();
    const liv = (await org.call('POST', '/api/v1/subscribers', { email: 'liv@example.com', first_name: 'Liv' })).json();
    await cronMinute();
    await waitFor(async () => (await mailbox(org.id)).length >= 1 && fake.emails.length >= 1, 20_000);

    const testMail = await mailbox(org.id);
    expect(testMail.map((m) => `${m.to_address} ${m.subject}`)).toEqual(['tess@example.com [Test] Welcome']);
    expect(testMail[0]!.headers).toMatchObject({ 'X-Subscribe-Flow-Test': 'true' });
    expect(testMail[0]!.idempotency_key).toMatch(/^automation\//);
    expect(fake.emails.map((e) => `${e.to[0]} ${e.subject}`)).toEqual(['liv@example.com Welcome']);

    const runs = await ctx.container.db
      .selectFrom('automation_runs')
      .select(['subscriber_id', 'test', 'entry_key'])
      .where('automation_id', '=', welcome.id)
      .execute();
    expect(runs.find((r) => r.subscriber_id === tess.id)).toMatchObject({ test: true, entry_key: 'test/once' });
    expect(runs.find((r) => r.subscriber_id === liv.id)).toMatchObject({ test: false, entry_key: 'once' });

    // The timeline says which run was a test and where its mail went.
    const timeline = (await org.call('GET', `/api/v1/subscribers/${tess.id}/automation-runs`)).json();
    expect(timeline.items[0]).toMatchObject({ test: true, status: 'active' });
    expect(timeline.items[0].steps[0]).toMatchObject({ index: 0, type: 'send_email', status: 'completed', reason: 'dev_mailbox' });
    expect(timeline.items[0].steps[0].email_message_id).toBeNull();
    expect((await org.call('GET', `/api/v1/subscribers/${liv.id}/automation-runs`)).json().items[0]).toMatchObject({ test: false });

    // The delay works for test runs as for live ones (the durable timer, the real worker).
    clock.advance(DAY + 60_000);
    await cronMinute();
    await waitFor(async () => (await mailbox(org.id)).length >= 2 && fake.emails.length >= 2, 20_000);
    expect((await mailbox(org.id)).map((m) => m.subject).sort()).toEqual(['[Test] Tips for you', '[Test] Welcome']);

    // A custom event from the test key about a live subscriber: a test run, which does not use up the live entry.
    expect((await asTest('POST', '/api/v1/events', { subscriber_id: liv.id, name: 'trial_started', idempotency_key: 'test-1' })).statusCode).toBe(202);
    await cronMinute();
    await waitFor(async () => (await mailbox(org.id)).some((m) => m.to_address === 'liv@example.com'), 20_000);
    expect((await org.call('POST', '/api/v1/events', { subscriber_id: liv.id, name: 'trial_started', idempotency_key: 'live-1' })).statusCode).toBe(202);
    await cronMinute();
    await waitFor(() => fake.emails.filter((e) => e.to[0] === 'liv@example.com').length >= 3, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 500));

    // Live mail: exactly the live runs' (two welcome-series mails and the trial mail for Liv), nothing for Tess.
    expect(fake.emails.map((e) => `${e.to[0]} ${e.subject}`).sort()).toEqual(
      ['liv@example.com Welcome', 'liv@example.com Tips for you', 'liv@example.com Tips for you'].sort(),
    );
    expect((await mailbox(org.id)).map((m) => `${m.to_address} ${m.subject}`).sort()).toEqual(
      ['tess@example.com [Test] Welcome', 'tess@example.com [Test] Tips for you', 'liv@example.com [Test] Tips for you'].sort(),
    );
    const trialRuns = await ctx.container.db
      .selectFrom('automation_runs')
      .select(['test', 'status'])
      .where('automation_id', '=', trial.id)
      .orderBy('test')
      .execute();
    expect(trialRuns).toEqual([
      { test: false, status: 'completed' },
      { test: true, status: 'completed' },
    ]);

    // Counts, messages and quota know only live mail.
    const counts = (await org.call('GET', `/api/v1/triggers/${welcome.id}/steps`)).json();
    expect(counts).toMatchObject({
      runs: { active: 0, completed: 1, exited: 0 },
      steps: [{ index: 0, entered: 1, completed: 1 }, { index: 1 }, { index: 2, entered: 1 }],
    });
    const messages = await ctx.container.db.selectFrom('email_messages').select('to_address').where('organization_id', '=', org.id).execute();
    expect(messages.map((m) => m.to_address).sort()).toEqual(['liv@example.com', 'liv@example.com', 'liv@example.com']);
    const usageAfter = (await ctx.container.db.selectFrom('organizations').select('emails_sent_this_month').where('id', '=', org.id).executeTakeFirstOrThrow())
      .emails_sent_this_month;
    expect(usageAfter - usageBefore).toBe(3);

    // The events the test key wrote say so, and still match the catalogue.
    const rows = await ctx.container.db.selectFrom('events').select(['type', 'payload']).where('organization_id', '=', org.id).execute();
    expect(rows.filter((r) => !isValidEventPayload(r.type, r.payload))).toEqual([]);
    const created = rows.filter((r) => r.type === 'subscriber.created').map((r) => r.payload as { subscriber: { email: string }; test?: boolean });
    expect(created.find((p) => p.subscriber.email === 'tess@example.com')?.test).toBe(true);
    expect(created.find((p) => p.subscriber.email === 'liv@example.com')).not.toHaveProperty('test');
  }, 90_000);
  it('carry the test flag through POST /subscribers/batch and tag changes made with the key', async () => {
    const org = await automationOrganization(ctx, 'Test key paths');
    const testKey = await ctx.container.services.apiKeys.create(org.id, { name: 'staging', scopes: ['subscribers:write'], environment: 'test' });
    const asTest = api(ctx, testKey.key);
    const trigger = async (name: string, event: string, template: string) =>
      (
        await org.call('POST', '/api/v1/triggers', {
          name,
          event,
          tag_id: event.startsWith('tag.') ? org.tag.id : undefined,
          template_id: template,
          is_active: true,
        })
      ).json().id as string;
    const created = await trigger('Created', 'subscriber.created', org.welcome);
    const joined = await trigger('Joined', 'tag.subscribed', org.tips);
    const left = await trigger('Left', 'tag.unsubscribed', org.welcome);

    // Created in a batch with the topic; created alone, then joins and leaves the topic: all with the test key.
    const batch = await asTest('POST', '/api/v1/subscribers/batch', { subscribers: [{ email: 'batch-test@example.com', tags: [org.tag.slug] }] });
    expect(batch.statusCode, batch.body).toBe(200);
    const solo = (await asTest('POST', '/api/v1/subscribers', { email: 'tags-test@example.com' })).json();
    expect((await asTest('POST', `/api/v1/subscribers/${solo.id}/tags`, { tags: [org.tag.slug] })).statusCode).toBe(200);
    expect((await asTest('DELETE', `/api/v1/subscribers/${solo.id}/tags/${org.tag.slug}`)).statusCode).toBe(200);
    await cronMinute();

    const runs = async () =>
      ctx.container.db
        .selectFrom('automation_runs as r')
        .innerJoin('subscribers as s', 's.id', 'r.subscriber_id')
        .select(['r.automation_id', 's.email', 'r.test', 'r.status'])
        .where('r.organization_id', '=', org.id)
        .execute();
    await waitFor(async () => {
      const all = await runs();
      return all.length === 5 && all.every((r) => r.status !== 'active');
    }, 20_000);
    const all = await runs();
    const name = new Map([
      [created, 'created'],
      [joined, 'joined'],
      [left, 'left'],
    ]);
    expect(all.map((r) => `${name.get(r.automation_id)} ${r.email} ${r.test}`).sort()).toEqual(
      [
        'created batch-test@example.com true',
        'created tags-test@example.com true',
        'joined batch-test@example.com true',
        'joined tags-test@example.com true',
        'left tags-test@example.com true',
      ].sort(),
    );
    // Nothing reached the provider for them; their mail is in the dev mailbox (the one who left the topic
    // before the joined run's step got none from that automation).
    expect(fake.emails.filter((e) => e.to[0]!.endsWith('-test@example.com'))).toEqual([]);
    expect((await mailbox(org.id)).map((m) => `${m.to_address} ${m.subject}`).sort()).toEqual(
      [
        'batch-test@example.com [Test] Welcome',
        'batch-test@example.com [Test] Tips for you',
        'tags-test@example.com [Test] Welcome',
        'tags-test@example.com [Test] Welcome',
      ].sort(),
    );
    const rows = await ctx.container.db.selectFrom('events').select(['type', 'payload']).where('organization_id', '=', org.id).execute();
    expect(rows.filter((r) => !isValidEventPayload(r.type, r.payload))).toEqual([]);
    const flagged = rows.filter((r) => ['subscriber.created', 'tag.subscribed', 'tag.unsubscribed'].includes(r.type));
    expect(flagged).toHaveLength(5);
    expect(flagged.every((r) => (r.payload as { test?: boolean }).test === true)).toBe(true);
  }, 60_000);
});
