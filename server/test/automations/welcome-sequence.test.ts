import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TestContext } from '../support/context.ts';
import { createFakeResend } from '../support/fake-resend.ts';
import { startWorker, waitFor } from '../email/helpers.ts';
import { deliveries, runJob } from '../campaigns/support.ts';
import { isValidEventPayload } from '../../src/modules/events/index.ts';
import { automationContext, automationOrganization, DAY, testClock } from './support.ts';

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
beforeEach(() => fake.reset());

/** What cron would do every minute: the outbox relay and the automation sweep, through the real worker. */
async function cronMinute() {
  tick += 1;
  await ctx.container.jobs.enqueueMany([{ name: 'events.relay', payload: { tick: `2026-01-01T00${String(tick).padStart(2, '0')}Z` } }]);
  await ctx.container.jobs.enqueue('automations.run', { tick: `t${tick}` });
}

const runsOf = (automationId: string) => ctx.container.db.selectFrom('automation_runs').selectAll().where('automation_id', '=', automationId).execute();

describe('a welcome sequence (send, wait 2 days, send if not tagged customer)', () => {
  it('runs end to end through the real worker with the clock moved, each mail once, attributed to the automation', async () => {
    const org = await automationOrganization(ctx, 'Welcome');
    const created = await org.call('POST', '/api/v1/triggers', {
      name: 'Welcome series', event: 'subscriber.created', is_active: true,
      steps: [
        { type: 'send_email', template_id: org.welcome },
        { type: 'delay', seconds: 2 * 86_400 },
        { type: 'condition', filter: { match: 'all', conditions: [{ field: 'tags', op: 'none', value: [org.tag.id] }] } },
        { type: 'send_email', template_id: org.tips },
      ],
    });
    expect(created.statusCode, created.body).toBe(201);
    const automation = created.json();
    expect(automation).toMatchObject({ version: 1, template_id: org.welcome, delay_seconds: 0, event: 'subscriber.created' });

    const ann = (await org.call('POST', '/api/v1/subscribers', { email: 'ann@example.com', first_name: 'Ann' })).json();
    const bob = (await org.call('POST', '/api/v1/subscribers', { email: 'bob@example.com', first_name: 'Bob' })).json();

    await cronMinute();
    await waitFor(() => fake.emails.length >= 2, 20_000);
    expect(fake.emails.map((e) => e.subject).sort()).toEqual(['Welcome', 'Welcome']);
    const welcomeMail = fake.emails[0]!;
    expect(welcomeMail.headers['List-Unsubscribe']).toMatch(/^<.+\/u\/.+>$/);
    expect(welcomeMail.headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    expect(welcomeMail.html).toContain('1 Example Street, Berlin');
    const attributed = await ctx.container.db.selectFrom('email_messages').select(['automation_id', 'idempotency_key']).where('organization_id', '=', org.id).execute();
    expect(attributed).toHaveLength(2);
    expect(attributed.every((m) => m.automation_id === automation.id && m.idempotency_key!.startsWith('automation/'))).toBe(true);

    // Bob becomes a customer during the wait; nothing is due before the two days are over.
    expect((await org.call('POST', `/api/v1/subscribers/${bob.id}/tags`, { tags: [org.tag.slug] })).statusCode).toBe(200);
    clock.advance(DAY);
    await cronMinute();
    await waitFor(async () => (await ctx.container.db.selectFrom('events').select('id').where('relayed_at', 'is', null).where('organization_id', '=', org.id).execute()).length === 0);
    expect((await runJob(ctx)('automations.run', { tick: 'direct-1' }))).toMatchObject({ processed: 0 });
    expect(fake.emails).toHaveLength(2);

    clock.advance(DAY + 60_000);
    await cronMinute();
    await waitFor(async () => (await runsOf(automation.id)).every((r) => r.status !== 'active'), 20_000);
    await waitFor(() => fake.emails.length >= 3, 20_000);
    // Give a stray duplicate the chance to show up.
    await cronMinute();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(fake.emails.map((e) => `${e.to[0]} ${e.subject}`).sort()).toEqual(['ann@example.com Welcome', 'ann@example.com Tips for you', 'bob@example.com Welcome'].sort());
    expect(deliveries(fake.emails).repeatedKeys).toBe(0);

    const runs = await runsOf(automation.id);
    expect(runs.find((r) => r.subscriber_id === ann.id)).toMatchObject({ status: 'completed' });
    expect(runs.find((r) => r.subscriber_id === bob.id)).toMatchObject({ status: 'exited', exit_reason: 'condition_not_met', step_index: 2 });

    const counts = (await org.call('GET', `/api/v1/triggers/${automation.id}/steps`)).json();
    expect(counts).toMatchObject({
      version: 1, runs: { active: 0, completed: 1, exited: 1 },
      steps: [
        { index: 0, type: 'send_email', entered: 2, completed: 2, exited: 0 },
        { index: 1, type: 'delay', entered: 2, waiting: 0, completed: 2 },
        { index: 2, type: 'condition', entered: 2, completed: 1, exited: 1, exit_reasons: { condition_not_met: 1 } },
        { index: 3, type: 'send_email', entered: 1, completed: 1 },
      ],
    });

    const timeline = (await org.call('GET', `/api/v1/subscribers/${ann.id}/automation-runs`)).json();
    expect(timeline.items).toHaveLength(1);
    expect(timeline.items[0]).toMatchObject({ automation: { id: automation.id, name: 'Welcome series', version: 1 }, status: 'completed' });
    expect(timeline.items[0].steps.map((s: { type: string; status: string }) => `${s.type}:${s.status}`)).toEqual(['send_email:completed', 'delay:completed', 'condition:completed', 'send_email:completed']);

    const entered = await ctx.container.db.selectFrom('events').select(['type']).where('organization_id', '=', org.id).where('type', 'in', ['automation.entered', 'automation.completed']).execute();
    expect(entered.filter((e) => e.type === 'automation.entered')).toHaveLength(2);
    expect(entered.filter((e) => e.type === 'automation.completed')).toHaveLength(1);
    // The automation.* rows are written in SQL: they match the catalogue's schemas.
    const rows = await ctx.container.db.selectFrom('events').select(['type', 'payload']).where('organization_id', '=', org.id).execute();
    expect(rows.filter((r) => !isValidEventPayload(r.type, r.payload))).toEqual([]);
  }, 90_000);

  it('creates nothing twice when the same events are handed over again and two runners work at once', async () => {
    const org = await automationOrganization(ctx, 'Replay');
    const automation = (await org.call('POST', '/api/v1/triggers', {
      name: 'Single welcome', event: 'tag.subscribed', tag_id: org.tag.id, template_id: org.welcome, is_active: true,
    })).json();
    expect(automation.steps).toEqual([{ type: 'send_email', template_id: org.welcome }]);
    for (let i = 0; i < 30; i += 1) await org.call('POST', '/api/v1/subscribers', { email: `r${i}@example.com`, tags: [org.tag.slug] });

    // The relay's consumer gets the same events three times (a replay, a second relay), inside transactions.
    const consumer = ctx.container.eventConsumers.find((c) => c.name === 'automations')!;
    const events = await ctx.container.db.selectFrom('events').select(['id', 'organization_id', 'type', 'subject_id', 'payload', 'created_at'])
      .where('organization_id', '=', org.id).where('type', '=', 'tag.subscribed').orderBy('id').execute();
    expect(events).toHaveLength(30);
    for (let i = 0; i < 3; i += 1) await ctx.container.db.transaction().execute((trx) => consumer.handle(trx, events));
    expect(await runsOf(automation.id)).toHaveLength(30);

    // Two runners at once (beside the worker): SKIP LOCKED splits the runs, nobody gets two emails.
    const run = runJob(ctx);
    await Promise.all([run('automations.run', { tick: 'race-a' }), run('automations.run', { tick: 'race-b' }), cronMinute()]);
    await waitFor(() => fake.emails.length >= 30, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const { perAddress, duplicates, repeatedKeys } = deliveries(fake.emails);
    expect(perAddress.size).toBe(30);
    expect(duplicates).toEqual([]);
    expect(repeatedKeys).toBe(0);
    const messages = await ctx.container.db.selectFrom('email_messages').select('id').where('automation_id', '=', automation.id).execute();
    expect(messages).toHaveLength(30);
  }, 60_000);
});
