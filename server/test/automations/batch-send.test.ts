import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestContext } from '../support/context.ts';
import { createFakeResend } from '../support/fake-resend.ts';
import { startWorker, waitFor } from '../email/helpers.ts';
import { deliveries, runJob } from '../campaigns/support.ts';
import { automationContext, automationOrganization, testClock } from './support.ts';

// Automation mail goes out on the campaigns' batch path: the runner stores the messages without a body,
// each with its batch's provider key (≤ 100 per batch), and email.send-batch renders them from the send
// step's frozen content and sends each batch as ONE Resend request under that key.
const COUNT = 250;
const fake = createFakeResend({ recordBodies: true });
let ctx: TestContext;

beforeAll(async () => {
  await fake.start();
  ctx = await automationContext(fake, testClock());
});
afterAll(async () => {
  await ctx?.close();
  await fake.close();
});

describe('automation emails on the batch path', () => {
  it('go to the fake Resend in batches of at most 100, one key per batch, rendered at send time, each exactly once', async () => {
    const org = await automationOrganization(ctx, 'Batches');
    const automation = (
      await org.call('POST', '/api/v1/triggers', {
        name: 'Welcome',
        event: 'subscriber.created',
        is_active: true,
        steps: [{ type: 'send_email', template_id: org.welcome }],
      })
    ).json();
    const batch = await org.call('POST', '/api/v1/subscribers/batch', {
      subscribers: Array.from({ length: COUNT }, (_, i) => ({ email: `b${i}@example.com`, first_name: i === 0 ? 'Bea' : undefined })),
    });
    expect(batch.statusCode, batch.body).toBe(200);
    const run = runJob(ctx);
    await run('events.relay', { tick: '2026-03-01T0000Z' });
    // The runner alone (no worker yet): messages stored without a body, with their batch's key.
    await run('automations.run', { tick: 'batch1' });
    const messages = await ctx.container.db
      .selectFrom('email_messages')
      .select(['id', 'to_address', 'html', 'content_id', 'batch_key', 'idempotency_key', 'automation_id', 'status'])
      .where('organization_id', '=', org.id)
      .execute();
    expect(messages).toHaveLength(COUNT);
    expect(messages.every((m) => m.html === null && m.content_id !== null && m.automation_id === automation.id && m.status === 'queued')).toBe(true);
    expect(new Set(messages.map((m) => m.content_id)).size).toBe(1);
    expect(new Set(messages.map((m) => m.idempotency_key)).size).toBe(COUNT);
    const perBatch = new Map<string, number>();
    for (const m of messages) perBatch.set(m.batch_key!, (perBatch.get(m.batch_key!) ?? 0) + 1);
    expect([...perBatch.keys()].every((k) => k.startsWith('automation-batch/'))).toBe(true);
    expect([...perBatch.values()].every((n) => n <= 100)).toBe(true);
    expect(perBatch.size).toBeLessThanOrEqual(Math.ceil(COUNT / 100) + 1);
    const quota = await ctx.container.db.selectFrom('organizations').select('emails_sent_this_month').where('id', '=', org.id).executeTakeFirstOrThrow();
    expect(quota.emails_sent_this_month).toBe(COUNT);

    // Suppressed after the runner queued the mail: the batch's send-time check leaves that address out.
    const blocked = messages.find((m) => m.to_address === 'b1@example.com')!;
    await org.call('POST', '/api/v1/suppressions', { email: blocked.to_address });

    const worker = await startWorker(ctx);
    try {
      await waitFor(async () => {
        const open = await ctx.container.db
          .selectFrom('email_messages')
          .select('id')
          .where('organization_id', '=', org.id)
          .where('status', 'in', ['queued', 'sending'])
          .limit(1)
          .execute();
        return open.length === 0;
      }, 60_000);
    } finally {
      await worker.close();
    }

    const { perAddress, repeatedKeys } = deliveries(fake.emails);
    expect(repeatedKeys).toBe(0);
    expect(perAddress.size).toBe(COUNT - 1);
    expect([...perAddress.values()].every((n) => n === 1)).toBe(true);
    expect(perAddress.has(blocked.to_address)).toBe(false);
    // Every email went in a batch request under its batch's key, never one request per email.
    expect(fake.emails.every((e) => e.batch && e.idempotencyKey?.startsWith('automation-batch/'))).toBe(true);
    expect(new Set(fake.emails.map((e) => e.request)).size).toBe(perBatch.size);
    // Rendered from the frozen content when sent: the subscriber's data, the footer and the unsubscribe link.
    const bea = fake.emails.find((e) => e.to[0] === 'b0@example.com')!;
    expect(bea.subject).toBe('Welcome');
    expect(bea.html).toContain('Hello Bea');
    expect(bea.html).toContain('1 Example Street, Berlin');
    expect(bea.headers?.['List-Unsubscribe']).toMatch(/^<https:\/\/.+>$/);
    expect(bea.headers?.['Feedback-ID']).toContain(automation.id);

    const after = await ctx.container.db.selectFrom('email_messages').select(['to_address', 'status']).where('organization_id', '=', org.id).execute();
    expect(after.filter((m) => m.status === 'sent')).toHaveLength(COUNT - 1);
    expect(after.find((m) => m.to_address === blocked.to_address)?.status).toBe('suppressed');
    // The suppressed one's quota was given back.
    const quotaAfter = await ctx.container.db.selectFrom('organizations').select('emails_sent_this_month').where('id', '=', org.id).executeTakeFirstOrThrow();
    expect(quotaAfter.emails_sent_this_month).toBe(COUNT - 1);
    // Each run's step points at its message.
    const steps = await ctx.container.db
      .selectFrom('automation_run_steps')
      .select(['email_message_id', 'status'])
      .where('automation_id', '=', automation.id)
      .execute();
    expect(steps).toHaveLength(COUNT);
    expect(new Set(steps.map((s) => s.email_message_id)).size).toBe(COUNT);
  }, 120_000);
  it('renders each send from the content frozen for the template as it is: an edit reaches the next send, an archived (deleted) template ends the run', async () => {
    const org = await automationOrganization(ctx, 'Frozen content');
    const automation = (
      await org.call('POST', '/api/v1/triggers', { name: 'One', event: 'subscriber.created', template_id: org.welcome, is_active: true })
    ).json();
    const run = runJob(ctx);
    let tick = 0;
    const enter = async (email: string) => {
      expect((await org.call('POST', '/api/v1/subscribers', { email })).statusCode).toBe(201);
      tick += 1;
      await run('events.relay', { tick: `2026-03-02T00${String(tick).padStart(2, '0')}Z` });
      await run('automations.run', { tick: `frozen${tick}` });
    };
    const subjects = async () =>
      (
        await ctx.container.db.selectFrom('email_messages').select(['to_address', 'subject', 'content_id']).where('automation_id', '=', automation.id).execute()
      ).sort((a, b) => a.to_address.localeCompare(b.to_address));

    await enter('f1@example.com');
    await enter('f2@example.com');
    expect((await org.call('PATCH', `/api/v1/templates/${org.welcome}`, { subject: 'Welcome, edited' })).statusCode).toBe(200);
    await enter('f3@example.com');
    const sent = await subjects();
    expect(sent.map((m) => `${m.to_address} ${m.subject}`)).toEqual(['f1@example.com Welcome', 'f2@example.com Welcome', 'f3@example.com Welcome, edited']);
    // One content per template version, shared by the sends of that version.
    expect(sent[0]!.content_id).toBe(sent[1]!.content_id);
    expect(sent[2]!.content_id).not.toBe(sent[0]!.content_id);

    expect((await org.call('DELETE', `/api/v1/templates/${org.welcome}`)).statusCode).toBeLessThan(300);
    await enter('f4@example.com');
    const last = await ctx.container.db
      .selectFrom('automation_runs as r')
      .innerJoin('subscribers as s', 's.id', 'r.subscriber_id')
      .select(['r.status', 'r.exit_reason'])
      .where('s.email', '=', 'f4@example.com')
      .executeTakeFirstOrThrow();
    expect(last.status).toBe('exited');
    expect(await subjects()).toHaveLength(3);
  }, 60_000);
  it('keeps at most a few batches in flight per worker process, however many are queued', async () => {
    const org = await automationOrganization(ctx, 'In flight');
    await org.call('POST', '/api/v1/triggers', { name: 'Many', event: 'subscriber.created', template_id: org.welcome, is_active: true });
    for (let from = 0; from < 1200; from += 600) {
      const batch = await org.call('POST', '/api/v1/subscribers/batch', {
        subscribers: Array.from({ length: 600 }, (_, i) => ({ email: `m${from + i}@example.com` })),
      });
      expect(batch.statusCode, batch.body).toBe(200);
    }
    const run = runJob(ctx);
    await run('events.relay', { tick: '2026-03-03T0000Z' });
    await run('automations.run', { tick: 'inflight' });
    const batches = await ctx.container.db.selectFrom('email_messages').select('batch_key').distinct().where('organization_id', '=', org.id).execute();
    expect(batches.length).toBeGreaterThan(ctx.config.CAMPAIGN_BATCH_CONCURRENCY + 2);

    // Each batch request holds its first email a moment, so requests that are in flight together overlap.
    fake.reset();
    const seen = new Set<number>();
    const open = new Set<number>();
    let most = 0;
    fake.onAccepted = async (email) => {
      if (seen.has(email.request)) return;
      seen.add(email.request);
      open.add(email.request);
      most = Math.max(most, open.size);
      await new Promise((resolve) => setTimeout(resolve, 150));
      open.delete(email.request);
    };
    const worker = await startWorker(ctx);
    try {
      // (The previous test's queued batches go out too.)
      await waitFor(() => fake.emails.filter((e) => /^m\d+@/.test(e.to[0]!)).length === 1200, 60_000);
    } finally {
      fake.onAccepted = null;
      await worker.close();
    }
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(ctx.config.CAMPAIGN_BATCH_CONCURRENCY);
    expect(deliveries(fake.emails).repeatedKeys).toBe(0);
  }, 120_000);
});
