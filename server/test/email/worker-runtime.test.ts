import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.ts';
import type { JobHandlers } from '../../src/jobs/context.ts';
import { createWorkerRuntime } from '../../src/jobs/worker.ts';
import { createMetrics } from '../../src/metrics/registry.ts';
import { waitFor } from './helpers.ts';

let ctx: TestContext;

beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(() => ctx.close());

describe('the worker runtime', () => {
  it('on shutdown gives a job that outlives the grace period back to the queue, untouched', async () => {
    const metrics = createMetrics('test');
    let started = false;
    const handlers: JobHandlers = {
      ...ctx.container.jobHandlers(metrics),
      // A long job that stops at its next safe point when asked to.
      'retention.cleanup': async (_payload, context) => {
        started = true;
        await new Promise<void>((resolve) => context.signal.addEventListener('abort', () => resolve(), { once: true }));
        return context.giveBack();
      },
    };
    const runtime = createWorkerRuntime(ctx.container, handlers, metrics, { queues: ['maintenance'], shutdownGraceMs: 200 });
    await runtime.start();
    await ctx.container.jobs.enqueue('retention.cleanup', { day: '2026-11-23' });
    await waitFor(() => started);
    await runtime.close();
    const job = await ctx.container.queues.get('maintenance').getJob('retention-2026-11-23');
    expect(await job?.getState()).toBe('waiting');
    expect(job?.attemptsMade).toBe(0);
    await ctx.container.queues.get('maintenance').drain(true);
  });

  it('fails a job with an invalid payload at once, without retries', async () => {
    const metrics = createMetrics('test');
    const runtime = createWorkerRuntime(ctx.container, ctx.container.jobHandlers(metrics), metrics, { queues: ['email'] });
    await runtime.start();
    try {
      await ctx.container.queues.get('email').add('email.send', { message_id: 'not-a-uuid' }, { jobId: 'bad-payload', attempts: 5 });
      // The state first, then the job: a job read before it failed would show its attempts before the failure.
      const job = await waitFor(async () => {
        const queue = ctx.container.queues.get('email');
        return (await queue.getJobState('bad-payload')) === 'failed' ? queue.getJob('bad-payload') : undefined;
      });
      expect(job.attemptsMade).toBe(1);
      expect(job.failedReason).toContain('invalid payload');
    } finally {
      await runtime.close();
    }
  });

  it('refuses to enqueue a payload that does not match the registry', async () => {
    await expect(ctx.container.jobs.enqueue('email.send', { message_id: 'nope' })).rejects.toThrow(TypeError);
  });
});
