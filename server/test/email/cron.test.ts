import cron from 'node-cron';
import { v7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestContext, type TestContext } from '../support/context.ts';
import { SCHEDULES } from '../../src/container.ts';
import { enqueueTick } from '../../src/jobs/cron.ts';
import type { JobContext } from '../../src/jobs/context.ts';
import { createJobProducer } from '../../src/jobs/producer.ts';
import { closeConnection, createProducerConnection, createQueues } from '../../src/jobs/queues.ts';
import { JOBS } from '../../src/jobs/registry.ts';
import { createWorkerRuntime } from '../../src/jobs/worker.ts';
import { createMetrics } from '../../src/metrics/registry.ts';
import { startWorker, waitFor } from './helpers.ts';

let ctx: TestContext;
let orgId: string;
let handlers: ReturnType<typeof ctx.container.jobHandlers>;
const DAY = 86_400_000;

const context = (): JobContext => ({
  jobId: 'test',
  attemptsMade: 0,
  attempt: 1,
  lastAttempt: false,
  signal: new AbortController().signal,
  log: ctx.container.logger,
  rateLimited: async () => {
    throw new Error('rate limited');
  },
  unrecoverable: (m) => new Error(m),
  giveBack: async () => {
    throw new Error('given back');
  },
  postpone: async () => {
    throw new Error('postponed');
  },
});

beforeAll(async () => {
  ctx = await createTestContext();
  orgId = (await ctx.createOrganization()).id;
  handlers = ctx.container.jobHandlers(createMetrics('test'));
});
afterAll(() => ctx.close());

describe('cron', () => {
  it("enqueues each period's job once, however many cron processes tick", async () => {
    // Two cron processes: separate connections and producers, ticking a few milliseconds apart.
    const processes = [0, 1].map(() => {
      const connection = createProducerConnection(ctx.config.REDIS_URL);
      const queues = createQueues(connection, ctx.config.REDIS_PREFIX);
      return {
        queues,
        producer: createJobProducer(queues),
        close: async () => {
          await queues.close();
          await closeConnection(connection);
        },
      };
    });
    try {
      const ticks = [new Date('2026-12-01T00:00:00.000Z'), new Date('2026-12-01T00:00:00.350Z')];
      for (const schedule of SCHEDULES) {
        await Promise.all(processes.map((p, i) => enqueueTick(p.producer, schedule, ticks[i]!)));
      }
      for (const schedule of SCHEDULES) {
        const request = schedule.job(ticks[0]!);
        const queue = ctx.container.queues.get(JOBS[request.name].queue);
        const jobs = (await queue.getJobs(['waiting', 'delayed', 'prioritized'])).filter((j) => j.name === request.name);
        expect(
          jobs.map((j) => j.id),
          schedule.name,
        ).toEqual([(JOBS[request.name].jobId as (p: unknown) => string)(request.payload)]);
      }
      // The next period is new work.
      await enqueueTick(
        processes[0]!.producer,
        SCHEDULES.find((s) => s.name === 'usage-reset')!,
        new Date('2027-01-01T00:00:00Z'),
      );
      const resets = await ctx.container.queues.get('maintenance').getJobs(['waiting']);
      expect(
        resets
          .filter((j) => j.name === 'usage.reset')
          .map((j) => j.data.period)
          .sort(),
      ).toEqual(['2026-12-01', '2027-01-01']);
    } finally {
      await Promise.all(processes.map((p) => p.close()));
      await ctx.container.queues.get('maintenance').drain(true);
    }
  });

  it('resets monthly usage at 00:00 UTC on the 1st, and runs the cleanup daily', () => {
    const next = (expression: string) => {
      const task = cron.createTask(expression, () => {}, { timezone: 'UTC' });
      const runs = task.getNextRuns(2).map((d) => d.toISOString());
      void task.destroy();
      return runs;
    };
    const [first, second] = next(SCHEDULES.find((s) => s.name === 'usage-reset')!.expression);
    expect(first).toMatch(/^\d{4}-\d{2}-01T00:00:00\.000Z$/);
    expect(second).toMatch(/^\d{4}-\d{2}-01T00:00:00\.000Z$/);
    const [day1, day2] = next(SCHEDULES.find((s) => s.name === 'retention-cleanup')!.expression);
    expect(Date.parse(day2!) - Date.parse(day1!)).toBe(DAY);
  });
});

describe('maintenance jobs', () => {
  it('starts a new usage month once: a repeated reset keeps what the new month already counted', async () => {
    await ctx.container.db.updateTable('organizations').set({ emails_sent_this_month: 42, usage_period_start: '2026-10-01' }).where('id', '=', orgId).execute();
    await handlers['usage.reset']({ period: '2026-11-01' }, context());
    const usage = () =>
      ctx.container.db.selectFrom('organizations').select(['emails_sent_this_month', 'usage_period_start']).where('id', '=', orgId).executeTakeFirstOrThrow();
    expect((await usage()).emails_sent_this_month).toBe(0);
    await ctx.container.db.updateTable('organizations').set({ emails_sent_this_month: 3 }).where('id', '=', orgId).execute();
    await handlers['usage.reset']({ period: '2026-11-01' }, context());
    expect((await usage()).emails_sent_this_month).toBe(3);
  });

  it('deletes what is past retention and keeps the rest', async () => {
    const db = ctx.container.db;
    const ago = (days: number) => new Date(Date.now() - days * DAY);
    const mailbox = (days: number) => ({
      id: v7({ msecs: ago(days).getTime() }),
      from_address: 'a@x.test',
      to_address: 'b@x.test',
      subject: 's',
      html: 'h',
      text: 't',
    });
    const [oldMail, newMail] = [mailbox(8), mailbox(1)];
    await db.insertInto('dev_mailbox').values([oldMail, newMail]).execute();
    const event = (days: number, relayed: boolean) => ({
      id: v7({ msecs: ago(days).getTime() }),
      organization_id: orgId,
      type: 't',
      payload: '{}',
      relayed_at: relayed ? ago(days) : null,
    });
    const events = [event(40, true), event(40, false), event(2, true)];
    await db.insertInto('events').values(events).execute();
    await db
      .insertInto('provider_events')
      .values([
        { provider: 'resend', id: 'old', type: 't', received_at: ago(31) },
        { provider: 'resend', id: 'new', type: 't' },
      ])
      .execute();
    const token = (days: number, hash: string) => ({ id: v7(), email: 'u@x.test', token_hash: hash, expires_at: ago(days) });
    await db
      .insertInto('magic_link_tokens')
      .values([token(8, 'expired-long-ago'), token(1, 'expired-recently')])
      .execute();

    await handlers['retention.cleanup']({ day: '2026-11-23' }, context());

    expect((await db.selectFrom('dev_mailbox').select('id').where('id', 'in', [oldMail.id, newMail.id]).execute()).map((r) => r.id)).toEqual([newMail.id]);
    expect(
      (
        await db
          .selectFrom('events')
          .select('id')
          .where(
            'id',
            'in',
            events.map((e) => e.id),
          )
          .orderBy('id')
          .execute()
      ).map((r) => r.id),
    ).toEqual([events[1]!.id, events[2]!.id].sort());
    expect((await db.selectFrom('provider_events').select('id').execute()).map((r) => r.id)).toEqual(['new']);
    expect((await db.selectFrom('magic_link_tokens').select('token_hash').execute()).map((r) => r.token_hash)).toEqual(['expired-recently']);
  });

  it('relays outbox events to the consumers and marks them relayed, through the worker', async () => {
    await ctx.container.db.updateTable('events').set({ relayed_at: new Date() }).where('relayed_at', 'is', null).execute();
    const seen: string[] = [];
    ctx.container.eventConsumers.push({
      name: 'test',
      handle: async (_trx, events) => {
        seen.push(...events.map((e) => e.type));
      },
    });
    const call = api(ctx, (await ctx.createOrganization()).key);
    await call('POST', '/api/v1/subscribers', { email: 'relay@example.com', tags: ['news'] });
    const worker = await startWorker(ctx, { queues: ['webhook'] });
    try {
      await ctx.container.jobs.enqueue('events.relay', { tick: '2026-11-23T0600Z' });
      await waitFor(async () => (await ctx.container.db.selectFrom('events').select('id').where('relayed_at', 'is', null).execute()).length === 0);
      expect(seen).toEqual(['subscriber.created', 'tag.subscribed']);
    } finally {
      await worker.close();
      ctx.container.eventConsumers.pop();
    }
  });

  it('re-enqueues emails whose job was lost', async () => {
    const id = v7();
    await ctx.container.db
      .insertInto('email_messages')
      .values({
        id,
        organization_id: orgId,
        category: 'transactional',
        to_address: 'lost@example.com',
        from_address: 'a@x.test',
        subject: 's',
        html: 'h',
        text: 't',
        status: 'queued',
        updated_at: new Date(Date.now() - 10 * 60_000),
      })
      .execute();
    expect(await handlers['email.sweep']({ tick: '2026-11-23T0600Z' }, context())).toEqual({ enqueued: 1, retried: 0, batches: 0 });
    const job = await ctx.container.queues.get('email').getJob(`email-send-${id}`);
    expect(job?.data).toEqual({ message_id: id });
  });

  it('runs again an email job that failed for good while its message is still unsent', async () => {
    const id = v7();
    await ctx.container.db
      .insertInto('email_messages')
      .values({
        id,
        organization_id: orgId,
        category: 'transactional',
        to_address: 'stuck@example.com',
        from_address: 'a@x.test',
        subject: 's',
        html: 'h',
        text: 't',
        status: 'sending',
        updated_at: new Date(Date.now() - 10 * 60_000),
      })
      .execute();
    const metrics = createMetrics('test');
    // A worker whose every attempt fails without recording anything, as when the database is down.
    const runtime = createWorkerRuntime(
      ctx.container,
      {
        ...ctx.container.jobHandlers(metrics),
        'email.send': async (_p, c) => {
          throw c.unrecoverable('database down');
        },
      },
      metrics,
      { queues: ['email'] },
    );
    await runtime.start();
    await ctx.container.jobs.enqueue('email.send', { message_id: id });
    const queue = ctx.container.queues.get('email');
    await waitFor(async () => (await (await queue.getJob(`email-send-${id}`))?.isFailed()) ?? false);
    await runtime.close();
    // (The message of the previous test failed the same way here and is retried too.)
    expect(await handlers['email.sweep']({ tick: '2026-11-23T0605Z' }, context())).toEqual({ enqueued: 2, retried: 2, batches: 0 });
    expect(await (await queue.getJob(`email-send-${id}`))?.getState()).toBe('waiting');
  });
});
