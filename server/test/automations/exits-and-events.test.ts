import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { api, type TestContext } from '../support/context.ts';
import { createFakeResend } from '../support/fake-resend.ts';
import { startWorker, waitFor } from '../email/helpers.ts';
import { runJob } from '../campaigns/support.ts';
import { isValidEventPayload } from '../../src/modules/events/index.ts';
import { automationContext, automationOrganization, DAY, testClock } from './support.ts';

const fake = createFakeResend({ recordBodies: false });
const clock = testClock();
let ctx: TestContext;
let tick = 0;

beforeAll(async () => {
  await fake.start();
  ctx = await automationContext(fake, clock);
});
afterAll(async () => {
  await ctx?.close();
  await fake.close();
});
beforeEach(() => fake.reset());

/** The relay and the runner, run directly as the worker would (no queue), then the sends through a worker. */
async function relayAndRun() {
  tick += 1;
  const run = runJob(ctx);
  await run('events.relay', { tick: `2026-01-01T00${String(tick).padStart(2, '0')}Z` });
  await run('automations.run', { tick: `x${tick}` });
}

async function sendQueued() {
  const worker = await startWorker(ctx);
  try {
    await waitFor(
      async () => (await ctx.container.db.selectFrom('email_messages').select('id').where('status', 'in', ['queued', 'sending']).execute()).length === 0,
      20_000,
    );
  } finally {
    await worker.close();
  }
}

const runs = (automationId: string) =>
  ctx.container.db.selectFrom('automation_runs').selectAll().where('automation_id', '=', automationId).orderBy('entered_at').execute();

describe('exits', () => {
  it('ends a run before its next send when the subscriber unsubscribed, bounced or complained; erasure removes the runs', async () => {
    const org = await automationOrganization(ctx, 'Exits');
    const automation = (
      await org.call('POST', '/api/v1/triggers', {
        name: 'Drip',
        event: 'subscriber.created',
        is_active: true,
        steps: [
          { type: 'delay', seconds: 3600 },
          { type: 'send_email', template_id: org.welcome },
        ],
      })
    ).json();
    const subscriber = async (email: string) => (await org.call('POST', '/api/v1/subscribers', { email })).json().id as string;
    const [stays, leaves, bounces, complains, erased] = [
      await subscriber('stays@example.com'),
      await subscriber('leaves@example.com'),
      await subscriber('bounces@example.com'),
      await subscriber('complains@example.com'),
      await subscriber('erased@example.com'),
    ];
    await relayAndRun();
    expect((await runs(automation.id)).map((r) => r.status)).toEqual(['active', 'active', 'active', 'active', 'active']);

    expect((await org.call('PATCH', `/api/v1/subscribers/${leaves}`, { status: 'unsubscribed' })).statusCode).toBe(200);
    // What the provider-event path writes for a hard bounce and a complaint.
    await sql`update subscribers set status = case when id = ${bounces} then 'bounced' else 'complained' end where id in (${bounces}, ${complains})`.execute(
      ctx.container.db,
    );
    expect((await org.call('DELETE', `/api/v1/subscribers/${erased}`)).statusCode).toBe(204);
    expect((await runs(automation.id)).some((r) => r.subscriber_id === erased)).toBe(false);
    expect(await ctx.container.db.selectFrom('automation_run_steps').select('run_id').where('automation_id', '=', automation.id).execute()).toHaveLength(4);

    clock.advance(3600_000);
    await relayAndRun();
    await sendQueued();
    expect(fake.emails.map((e) => e.to[0])).toEqual(['stays@example.com']);
    const byId = new Map((await runs(automation.id)).map((r) => [r.subscriber_id, r]));
    expect(byId.get(stays)).toMatchObject({ status: 'completed' });
    expect(byId.get(leaves)).toMatchObject({ status: 'exited', exit_reason: 'unsubscribed' });
    expect(byId.get(bounces)).toMatchObject({ status: 'exited', exit_reason: 'bounced' });
    expect(byId.get(complains)).toMatchObject({ status: 'exited', exit_reason: 'complained' });
    const counts = (await org.call('GET', `/api/v1/triggers/${automation.id}/steps`)).json();
    expect(counts.steps[1]).toMatchObject({ type: 'send_email', entered: 1, exited: 3, exit_reasons: { unsubscribed: 1, bounced: 1, complained: 1 } });
  }, 60_000);
});

describe('leaving the topic', () => {
  it('ends a run of an automation started by joining that topic before its next send', async () => {
    const org = await automationOrganization(ctx, 'Topic');
    const automation = (
      await org.call('POST', '/api/v1/triggers', {
        name: 'Topic series',
        event: 'tag.subscribed',
        tag_id: org.tag.id,
        is_active: true,
        steps: [
          { type: 'delay', seconds: 600 },
          { type: 'send_email', template_id: org.welcome },
        ],
      })
    ).json();
    const stays = (await org.call('POST', '/api/v1/subscribers', { email: 'topic-stays@example.com', tags: [org.tag.slug] })).json().id as string;
    const leaves = (await org.call('POST', '/api/v1/subscribers', { email: 'topic-leaves@example.com', tags: [org.tag.slug] })).json().id as string;
    await relayAndRun();
    expect((await org.call('DELETE', `/api/v1/subscribers/${leaves}/tags/${org.tag.slug}`)).statusCode).toBe(200);
    clock.advance(600_000);
    await relayAndRun();
    await sendQueued();
    expect(fake.emails.map((e) => e.to[0])).toEqual(['topic-stays@example.com']);
    const byId = new Map((await runs(automation.id)).map((r) => [r.subscriber_id, r]));
    expect(byId.get(stays)).toMatchObject({ status: 'completed' });
    expect(byId.get(leaves)).toMatchObject({ status: 'exited', exit_reason: 'unsubscribed_from_topic' });
  }, 60_000);

  it('is checked again before a send that follows in the same pass (a remove_tag step took the subscriber off the topic)', async () => {
    const org = await automationOrganization(ctx, 'Topic same pass');
    const automation = (
      await org.call('POST', '/api/v1/triggers', {
        name: 'Leave then send',
        event: 'tag.subscribed',
        tag_id: org.tag.id,
        is_active: true,
        steps: [
          { type: 'remove_tag', tag_id: org.tag.id },
          { type: 'send_email', template_id: org.welcome },
        ],
      })
    ).json();
    const id = (await org.call('POST', '/api/v1/subscribers', { email: 'same-pass@example.com', tags: [org.tag.slug] })).json().id as string;
    await relayAndRun();
    const [run] = await runs(automation.id);
    expect(run).toMatchObject({ subscriber_id: id, status: 'exited', exit_reason: 'unsubscribed_from_topic' });
    expect(await ctx.container.db.selectFrom('email_messages').select('id').where('automation_id', '=', automation.id).execute()).toEqual([]);
  }, 60_000);
});

describe('quiet hours', () => {
  it("holds a send outside the organization's sending window until the window opens", async () => {
    const org = await automationOrganization(ctx, 'Window');
    // A one-hour window (UTC) that the clock is not in now.
    const hour = clock.now().getUTCHours();
    const start = hour <= 20 ? hour + 2 : 0;
    const window = { days: [1, 2, 3, 4, 5, 6, 7], start: `${String(start).padStart(2, '0')}:00`, end: `${String(start + 1).padStart(2, '0')}:00` };
    await ctx.container.db
      .updateTable('organizations')
      .set({ timezone: 'UTC', sending_window: JSON.stringify(window) })
      .where('id', '=', org.id)
      .execute();
    const automation = (
      await org.call('POST', '/api/v1/triggers', { name: 'Held', event: 'subscriber.created', template_id: org.welcome, is_active: true })
    ).json();
    await org.call('POST', '/api/v1/subscribers', { email: 'held@example.com' });
    await relayAndRun();
    const [held] = await runs(automation.id);
    expect(held).toMatchObject({ status: 'active', step_index: 0 });
    expect(held!.next_at!.getUTCHours()).toBe(start);
    expect(held!.next_at!.getUTCMinutes()).toBe(0);
    expect(await ctx.container.db.selectFrom('email_messages').select('id').where('automation_id', '=', automation.id).execute()).toEqual([]);

    clock.advance(held!.next_at!.getTime() - clock.now().getTime() + 1000);
    await relayAndRun();
    await sendQueued();
    expect(fake.emails.map((e) => e.to[0])).toEqual(['held@example.com']);
    expect((await runs(automation.id))[0]).toMatchObject({ status: 'completed' });
  }, 60_000);
});

describe('custom events', () => {
  it('start an automation once per idempotency key, resume a wait, and are bounded in size', async () => {
    const org = await automationOrganization(ctx, 'Custom');
    const ann = (await org.call('POST', '/api/v1/subscribers', { email: 'ann@example.com' })).json();
    const automation = (
      await org.call('POST', '/api/v1/triggers', {
        name: 'After purchase',
        event: 'purchased',
        reentry: 'always',
        is_active: true,
        steps: [
          { type: 'wait_for_event', event: 'reviewed', timeout_seconds: 7 * 86_400, on_timeout: 'exit' },
          { type: 'add_tag', tag_id: org.tag.id },
        ],
      })
    ).json();
    expect(automation.event).toBe('purchased');

    const first = await org.call('POST', '/api/v1/events', { email: 'ANN@example.com', name: 'purchased', data: { order: 42 }, idempotency_key: 'order-42' });
    expect(first.statusCode, first.body).toBe(202);
    const again = await org.call('POST', '/api/v1/events', { subscriber_id: ann.id, name: 'purchased', data: { order: 42 }, idempotency_key: 'order-42' });
    expect(again.json()).toEqual({ id: first.json().id, duplicate: true });
    await relayAndRun();
    let current = await runs(automation.id);
    expect(current).toHaveLength(1);
    expect(current[0]).toMatchObject({ status: 'active', waiting_for: 'reviewed', step_index: 1 });

    // The awaited event resumes the run at once; the tag is added.
    expect((await org.call('POST', '/api/v1/events', { subscriber_id: ann.id, name: 'reviewed' })).statusCode).toBe(202);
    await relayAndRun();
    current = await runs(automation.id);
    expect(current[0]).toMatchObject({ status: 'completed' });
    const tags = (await org.call('GET', `/api/v1/subscribers/${ann.id}`)).json().tags as { slug: string }[] | string[];
    expect(JSON.stringify(tags)).toContain(org.tag.slug);
    const timeline = (await org.call('GET', `/api/v1/subscribers/${ann.id}/automation-runs`)).json();
    expect(timeline.items[0].steps).toMatchObject([
      { type: 'wait_for_event', status: 'completed', reason: 'event_received' },
      { type: 'add_tag', status: 'completed' },
    ]);

    // A second purchase (re-entry: always) waits in vain and exits when the week is over.
    await org.call('POST', '/api/v1/events', { subscriber_id: ann.id, name: 'purchased', idempotency_key: 'order-43' });
    await relayAndRun();
    clock.advance(7 * DAY + 60_000);
    await relayAndRun();
    current = await runs(automation.id);
    expect(current).toHaveLength(2);
    expect(current[1]).toMatchObject({ status: 'exited', exit_reason: 'wait_timed_out' });

    const tooBig = await org.call('POST', '/api/v1/events', { subscriber_id: ann.id, name: 'purchased', data: { blob: 'x'.repeat(9000) } });
    expect(tooBig.statusCode).toBe(422);
    expect(tooBig.json().error.details[0].field).toBe('data');
    const both = await org.call('POST', '/api/v1/events', { subscriber_id: ann.id, email: 'ann@example.com', name: 'purchased' });
    expect(both.statusCode).toBe(422);
    const unknown = await org.call('POST', '/api/v1/events', { email: 'nobody@example.com', name: 'purchased' });
    expect(unknown.statusCode).toBe(404);
    const rows = await ctx.container.db.selectFrom('events').select(['type', 'payload']).where('organization_id', '=', org.id).execute();
    expect(rows.filter((r) => r.type === 'custom_event.received')).toHaveLength(3);
    expect(rows.filter((r) => !isValidEventPayload(r.type, r.payload))).toEqual([]);

    // The daily cleanup forgets keys as old as the outbox's retention; then the key is new again.
    const retention = ctx.container.modules.find((m) => m.name === 'automations')!.retention!.find((t) => t.name === 'custom_events')!;
    expect(retention.days).toBe(ctx.config.RETENTION_EVENTS_DAYS);
    expect(await retention.run(new Date(Date.now() - 60_000), new AbortController().signal)).toBe(0);
    expect(await retention.run(new Date(Date.now() + 60_000), new AbortController().signal)).toBe(3);
    expect((await org.call('POST', '/api/v1/events', { subscriber_id: ann.id, name: 'purchased', idempotency_key: 'order-42' })).json().duplicate).toBe(false);
  }, 60_000);
});

describe('versions, validation and tenants', () => {
  it('keeps runs in flight on their version when the steps change', async () => {
    const org = await automationOrganization(ctx, 'Versions');
    const automation = (
      await org.call('POST', '/api/v1/triggers', {
        name: 'Versioned',
        event: 'subscriber.created',
        template_id: org.welcome,
        delay_seconds: 600,
        is_active: true,
      })
    ).json();
    expect(automation).toMatchObject({
      delay_seconds: 600,
      template_id: org.welcome,
      steps: [
        { type: 'delay', seconds: 600 },
        { type: 'send_email', template_id: org.welcome },
      ],
    });
    await org.call('POST', '/api/v1/subscribers', { email: 'v1@example.com' });
    await relayAndRun();

    const renamed = (await org.call('PATCH', `/api/v1/triggers/${automation.id}`, { name: 'Renamed' })).json();
    expect(renamed.version).toBe(1);
    const edited = await org.call('PATCH', `/api/v1/triggers/${automation.id}`, { steps: [{ type: 'send_email', template_id: org.tips }] });
    expect(edited.json()).toMatchObject({ version: 2, template_id: org.tips, delay_seconds: 0 });
    await org.call('POST', '/api/v1/subscribers', { email: 'v2@example.com' });
    await relayAndRun();
    clock.advance(600_000);
    await relayAndRun();
    await sendQueued();
    expect(fake.emails.map((e) => `${e.to[0]} ${e.subject}`).sort()).toEqual(['v1@example.com Welcome', 'v2@example.com Tips for you']);
    expect((await org.call('GET', `/api/v1/triggers/${automation.id}/steps?version=1`)).json()).toMatchObject({ version: 1, runs: { completed: 1 } });
    expect((await org.call('GET', `/api/v1/triggers/${automation.id}/steps`)).json()).toMatchObject({ version: 2, runs: { completed: 1 } });

    // Paused: nobody enters.
    expect((await org.call('POST', `/api/v1/triggers/${automation.id}/pause`)).json().is_active).toBe(false);
    await org.call('POST', '/api/v1/subscribers', { email: 'paused@example.com' });
    await relayAndRun();
    expect((await org.call('GET', `/api/v1/triggers/${automation.id}/steps`)).json().runs).toEqual({ active: 0, completed: 1, exited: 0 });
  }, 60_000);

  it('refuses what another organization owns or what cannot be sent, naming the field', async () => {
    const a = await automationOrganization(ctx, 'Tenant A');
    const b = await automationOrganization(ctx, 'Tenant B');
    const mine = (await a.call('POST', '/api/v1/triggers', { name: 'A', event: 'subscriber.created', template_id: a.welcome })).json();
    expect((await b.call('GET', `/api/v1/triggers/${mine.id}`)).statusCode).toBe(404);
    expect((await b.call('PATCH', `/api/v1/triggers/${mine.id}`, { name: 'x' })).statusCode).toBe(404);
    expect((await b.call('GET', '/api/v1/triggers')).json().items).toEqual([]);

    const foreign = await b.call('POST', '/api/v1/triggers', {
      name: 'B',
      event: 'subscriber.created',
      steps: [
        { type: 'send_email', template_id: a.welcome },
        { type: 'add_tag', tag_id: a.tag.id },
      ],
    });
    expect(foreign.statusCode).toBe(422);
    expect(foreign.json().error.details.map((d: { field: string }) => d.field)).toEqual(['steps.0.template_id', 'steps.1.tag_id']);
    const transactional = (
      await b.call('POST', '/api/v1/templates', { name: 'Receipt', slug: 'receipt', subject: 'Receipt', mjml_content: '<mjml><mj-body></mj-body></mjml>' })
    ).json();
    const refused = await b.call('POST', '/api/v1/triggers', { name: 'B', event: 'subscriber.created', template_id: transactional.id });
    expect(refused.json().error.details[0]).toMatchObject({ field: 'steps.0.template_id' });
    const shortDelay = await b.call('POST', '/api/v1/triggers', { name: 'B', event: 'subscriber.created', steps: [{ type: 'delay', seconds: 5 }] });
    expect(shortDelay.statusCode).toBe(422);

    // An event for A's subscriber sent with B's key finds no subscriber.
    const aSubscriber = (await a.call('POST', '/api/v1/subscribers', { email: 'a-only@example.com' })).json();
    expect((await b.call('POST', '/api/v1/events', { subscriber_id: aSubscriber.id, name: 'x' })).statusCode).toBe(404);
    expect((await b.call('GET', `/api/v1/subscribers/${aSubscriber.id}/automation-runs`)).statusCode).toBe(404);

    // Scopes: a read-only key reads, cannot write; events need events:write.
    const reader = await ctx.createKey(a.id, ['triggers:read']);
    const read = api(ctx, reader.key);
    expect((await read('GET', '/api/v1/triggers')).statusCode).toBe(200);
    expect((await read('POST', '/api/v1/triggers', { name: 'x', event: 'subscriber.created', template_id: a.welcome })).statusCode).toBe(403);
    expect((await read('POST', '/api/v1/events', { subscriber_id: aSubscriber.id, name: 'x' })).statusCode).toBe(403);
  }, 60_000);
});
