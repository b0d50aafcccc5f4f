import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestContext } from '../support/context.ts';
import { createFakeResend } from '../support/fake-resend.ts';
import { runJob } from '../campaigns/support.ts';
import { BATCH_SIZE } from '../../src/modules/automations/automations.jobs.ts';
import { automationContext, automationOrganization, testClock } from './support.ts';

// The runner at scale: more than a batch is due, so one job runs passes side by side and calls other
// runners in (fan-out jobs any worker process takes); each run's step still happens once. The month's
// quota is reserved at the end of a pass, and a send over the limit is rolled back to its savepoint.
const fake = createFakeResend({ recordBodies: false });
const clock = testClock();
let ctx: TestContext;

beforeAll(async () => {
  await fake.start();
  ctx = await automationContext(fake, clock);
});
afterAll(async () => {
  await ctx?.close();
  await fake.close();
});

const count = async (table: 'email_messages' | 'automation_run_steps', column: 'automation_id', id: string) =>
  Number(
    (
      await ctx.container.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll().as('n'))
        .where(column, '=', id)
        .executeTakeFirstOrThrow()
    ).n,
  );

async function subscribe(org: Awaited<ReturnType<typeof automationOrganization>>, prefix: string, n: number) {
  for (let from = 0; from < n; from += 1000) {
    const batch = await org.call('POST', '/api/v1/subscribers/batch', {
      subscribers: Array.from({ length: Math.min(1000, n - from) }, (_, i) => ({ email: `${prefix}${from + i}@example.com` })),
    });
    expect(batch.statusCode, batch.body).toBe(200);
  }
  await runJob(ctx)('events.relay', { tick: `2026-03-01T${prefix.padStart(4, '0').slice(0, 4)}Z` });
}

const fanOutJobs = async () =>
  (await ctx.container.queues.get('sync').getJobs(['waiting', 'prioritized', 'delayed', 'active', 'completed']))
    .filter((job) => job?.name === 'automations.run' && /^automations-run-f\d+x\d+$/.test(job.id ?? ''))
    .map((job) => job.id);

describe('the automation runner with more due than a batch', () => {
  it('runs passes side by side and calls in other runners, each step once', async () => {
    const org = await automationOrganization(ctx, 'Parallel');
    const n = 3 * BATCH_SIZE + 137;
    const automation = (
      await org.call('POST', '/api/v1/triggers', {
        name: 'Two mails',
        event: 'subscriber.created',
        is_active: true,
        steps: [
          { type: 'send_email', template_id: org.welcome },
          { type: 'send_email', template_id: org.tips },
        ],
      })
    ).json();
    await subscribe(org, 'p', n);
    const usedBefore = (await ctx.container.db.selectFrom('organizations').select('emails_sent_this_month').where('id', '=', org.id).executeTakeFirstOrThrow())
      .emails_sent_this_month;

    // Two runners of this process at once, as two jobs would be (the fan-out jobs are left in the queue).
    const run = runJob(ctx);
    const results = (await Promise.all([run('automations.run', { tick: 'par-a' }), run('automations.run', { tick: 'par-b' })])) as { processed: number }[];
    // Each run was locked once: a step that makes the next one due at once goes on in the same pass (the
    // second send and the completion follow the first send).
    expect(results.reduce((sum, r) => sum + r.processed, 0)).toBe(n);
    expect(await fanOutJobs()).not.toEqual([]);

    const runs = await ctx.container.db.selectFrom('automation_runs').select(['status']).where('automation_id', '=', automation.id).execute();
    expect(runs).toHaveLength(n);
    expect(runs.every((r) => r.status === 'completed')).toBe(true);
    expect(await count('email_messages', 'automation_id', automation.id)).toBe(2 * n);
    expect(await count('automation_run_steps', 'automation_id', automation.id)).toBe(2 * n);
    const keys = await ctx.container.db.selectFrom('email_messages').select('idempotency_key').where('automation_id', '=', automation.id).execute();
    expect(new Set(keys.map((k) => k.idempotency_key)).size).toBe(2 * n);
    const usedAfter = (await ctx.container.db.selectFrom('organizations').select('emails_sent_this_month').where('id', '=', org.id).executeTakeFirstOrThrow())
      .emails_sent_this_month;
    expect(usedAfter - usedBefore).toBe(2 * n);
  }, 120_000);

  it('rolls a send over the month limit back to its savepoint and postpones it an hour; a send that fits goes', async () => {
    const org = await automationOrganization(ctx, 'Quota');
    const create = async (name: string, template: string) =>
      (await org.call('POST', '/api/v1/triggers', { name, event: 'subscriber.created', template_id: template, is_active: true })).json() as { id: string };
    const first = await create('First', org.welcome);
    const second = await create('Second', org.tips);
    await subscribe(org, 'q', 3);
    const { emails_sent_this_month: used } = await ctx.container.db
      .selectFrom('organizations')
      .select('emails_sent_this_month')
      .where('id', '=', org.id)
      .executeTakeFirstOrThrow();
    // Room for one automation's three mails, not for both.
    await ctx.container.db
      .updateTable('organizations')
      .set({ max_emails_per_month: used + 4 })
      .where('id', '=', org.id)
      .execute();

    await runJob(ctx)('automations.run', { tick: 'quota-1' });

    const sent = [await count('email_messages', 'automation_id', first.id), await count('email_messages', 'automation_id', second.id)];
    expect(sent.sort()).toEqual([0, 3]);
    const postponed = sent[0] === 0 ? first : second;
    const stepRows = await count('automation_run_steps', 'automation_id', postponed.id);
    expect(stepRows).toBe(0);
    const waiting = await ctx.container.db
      .selectFrom('automation_runs')
      .select(['status', 'step_index', 'next_at'])
      .where('automation_id', '=', postponed.id)
      .execute();
    expect(waiting).toHaveLength(3);
    for (const r of waiting) {
      expect(r).toMatchObject({ status: 'active', step_index: 0 });
      expect(r.next_at!.getTime() - clock.now().getTime()).toBeGreaterThan(50 * 60_000);
    }
    const after = await ctx.container.db.selectFrom('organizations').select('emails_sent_this_month').where('id', '=', org.id).executeTakeFirstOrThrow();
    expect(after.emails_sent_this_month - used).toBe(3);
  }, 60_000);
});
