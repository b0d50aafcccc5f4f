import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_TOKEN_SECRET, type TestContext } from '../support/context.ts';
import { createFakeResend } from '../support/fake-resend.ts';
import { resendConfig, startWorker, waitFor } from '../email/helpers.ts';
import { deliveries, runJob } from '../campaigns/support.ts';
import { automationContext, automationOrganization, testClock } from './support.ts';

const serverDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const LOCK_MS = '1500';
const COUNT = 1500;
const fake = createFakeResend({ recordBodies: false });
let ctx: TestContext;
let child: ChildProcess | null = null;

beforeAll(async () => {
  await fake.start();
  ctx = await automationContext(fake, testClock());
});
afterAll(async () => {
  if (child?.exitCode === null) child.kill('SIGKILL');
  await ctx?.close();
  await fake.close();
});

describe('an automation whose worker is killed with due steps', () => {
  it('is finished by another worker, and nobody gets a mail twice, even from the batch the kill cut off', async () => {
    const org = await automationOrganization(ctx, 'Killed');
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
    for (let from = 0; from < COUNT; from += 750) {
      const batch = await org.call('POST', '/api/v1/subscribers/batch', {
        subscribers: Array.from({ length: 750 }, (_, i) => ({ email: `k${from + i}@example.com` })),
      });
      expect(batch.statusCode, batch.body).toBe(200);
    }
    // Entries are committed by the relay; the steps are due now and wait in PostgreSQL only.
    await runJob(ctx)('events.relay', { tick: '2026-01-01T0000Z' });
    expect(
      Number(
        (
          await ctx.container.db
            .selectFrom('automation_runs')
            .select((eb) => eb.fn.countAll().as('n'))
            .where('automation_id', '=', automation.id)
            .executeTakeFirstOrThrow()
        ).n,
      ),
    ).toBe(COUNT);

    child = spawn(process.execPath, ['src/entrypoints/worker.ts'], {
      cwd: serverDir,
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: ctx.databaseUrl,
        DATABASE_POOL_MAX: '5',
        REDIS_URL: ctx.config.REDIS_URL,
        REDIS_PREFIX: ctx.config.REDIS_PREFIX,
        TOKEN_SECRET: TEST_TOKEN_SECRET,
        LOG_LEVEL: 'silent',
        METRICS_PORT: '0',
        WORKER_LOCK_DURATION_MS: LOCK_MS,
        ...resendConfig(fake, { PROVIDER_RATE_LIMIT_PER_SECOND: '0' }),
      },
      stdio: 'ignore',
    });
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    // Killed in the middle of a batch request: the provider takes the batch, the worker never records it.
    fake.onAccepted = () => {
      if (fake.emails.length === 250) child!.kill('SIGKILL');
    };
    await ctx.container.jobs.enqueue('automations.run', { tick: 'killed' });
    await exited;
    fake.onAccepted = null;
    expect(fake.emails.length).toBeLessThan(2 * COUNT);
    // The cut-off batch's messages were taken for sending and never recorded as sent.
    const inFlight = await ctx.container.db
      .selectFrom('email_messages')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('automation_id', '=', automation.id)
      .where('status', '=', 'sending')
      .executeTakeFirstOrThrow();
    expect(Number(inFlight.n)).toBeGreaterThan(0);
    // A kill between a pass's commit and its enqueue leaves stored batches without a job: in production the
    // cron's email sweep (every 5 minutes) finds batches unchanged for 2 minutes. Age what the killed worker
    // left and run the sweep once, as cron would; it races the recovery of the cut-off batch's job, and
    // must not make anyone get a second email either.
    await ctx.container.db
      .updateTable('email_messages')
      .set({ updated_at: sql<Date>`now() - interval '3 minutes'` })
      .where('automation_id', '=', automation.id)
      .where('status', 'in', ['queued', 'sending'])
      .execute();
    await runJob(ctx)('email.sweep', { tick: '2026-01-01T0005Z' });

    // Another worker; the cron sweep's next tick finds whatever is still due.
    const worker = await startWorker(ctx);
    try {
      await ctx.container.jobs.enqueue('automations.run', { tick: 'sweep' });
      await waitFor(
        async () => {
          const open = await ctx.container.db
            .selectFrom('automation_runs')
            .select('id')
            .where('automation_id', '=', automation.id)
            .where('status', '=', 'active')
            .limit(1)
            .execute();
          return open.length === 0 && fake.emails.length >= 2 * COUNT;
        },
        150_000,
        200,
      );
      await new Promise((resolve) => setTimeout(resolve, 1000));
    } finally {
      await worker.close();
    }
    const { perAddress, repeatedKeys } = deliveries(fake.emails);
    expect(perAddress.size).toBe(COUNT);
    expect([...perAddress.values()].every((n) => n === 2)).toBe(true);
    expect(repeatedKeys).toBe(0);
    expect(fake.emails).toHaveLength(2 * COUNT);
    // All in batch requests, and the resumed batch was sent again under its key (answered from the first time).
    expect(fake.emails.every((e) => e.batch && e.idempotencyKey?.startsWith('automation-batch/'))).toBe(true);
    const batchRequests = fake.requests.filter((r) => r.path === '/emails/batch').length;
    expect(batchRequests).toBeGreaterThan(new Set(fake.emails.map((e) => e.request)).size);
    const unsent = await ctx.container.db
      .selectFrom('email_messages')
      .select('status')
      .where('automation_id', '=', automation.id)
      .where('status', '<>', 'sent')
      .execute();
    expect(unsent).toEqual([]);
  }, 240_000);
});
