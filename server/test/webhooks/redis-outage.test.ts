import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobContext } from '../../src/jobs/context.ts';
import { createMetrics } from '../../src/metrics/registry.ts';
import { startWorker, waitFor } from '../email/helpers.ts';
import { api, createTestContext, type TestContext } from '../support/context.ts';
import { startReceiver, type Receiver } from './receiver.ts';

/**
 * A Redis of this file's own (stopping the shared one would break every other test file), without
 * persistence: a restart loses every queued job, the worst case for delivery.
 */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('Ready to accept connections')) resolve(child);
    });
    child.once('error', reject);
  });
}

const stopRedis = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });

let redisPort: number;
let redis: ChildProcess;
let ctx: TestContext;
let receiver: Receiver;

beforeAll(async () => {
  redisPort = await freePort();
  redis = await startRedis(redisPort);
  receiver = await startReceiver();
  ctx = await createTestContext({
    REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    WEBHOOKS_ALLOW_PRIVATE_HOSTS: '127.0.0.1',
    WEBHOOKS_CONCURRENCY_PER_ENDPOINT: '10',
  });
});
afterAll(async () => {
  // Closing needs Redis (the file's keys are deleted), so a test that failed while it was down restarts it.
  if (redis.exitCode !== null) redis = await startRedis(redisPort);
  await ctx?.close().catch(() => {});
  if (redis && redis.exitCode === null) await stopRedis(redis);
  await receiver?.close();
});

const context = (): JobContext => ({
  jobId: 'relay-during-outage',
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

describe('a Redis outage', () => {
  it('loses no delivery: 1,000 writes while Redis is down are each delivered once after it is back', async () => {
    const org = await ctx.createOrganization('Outage');
    const created = await api(ctx, org.key)('POST', '/api/v1/webhooks', { url: receiver.url('/outage'), events: ['subscriber.created'] });
    receiver.expect('/outage', created.json().secret);

    // The producer has connected before the outage, as a running API or worker has.
    await ctx.container.jobs.enqueue('webhooks.sweep', { tick: 'T0000000' });
    await stopRedis(redis);
    const origin = { source: 'api', ip: null, userAgent: null };
    // Separate writes (one subscriber and its event each), five at a time like concurrent requests.
    for (let i = 0; i < 1000; i += 5) {
      await Promise.all([0, 1, 2, 3, 4].map((j) => ctx.container.services.subscribers.create(org.id, { email: `outage${i + j}@example.com` }, origin)));
    }
    // A relay that was running commits its first batch of deliveries, then cannot enqueue their jobs: the
    // rows are all that is left of them. The rest of the events stay unrelayed.
    const handlers = ctx.container.jobHandlers(createMetrics('outage-test'));
    await expect(handlers['events.relay']({ tick: 'outage' }, context())).rejects.toThrow();
    const rows = await ctx.container.db
      .selectFrom('webhook_deliveries')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(rows.n)).toBeGreaterThan(0);
    expect(Number(rows.n)).toBeLessThan(1000);

    // Back, empty: every queued job is gone. Cron's next ticks run the relay (the unrelayed events) and the
    // sweep (the deliveries whose jobs were lost); the worker sends them all.
    redis = await startRedis(redisPort);
    const worker = await startWorker(ctx, { queues: ['webhook'] });
    try {
      await waitFor(async () => {
        try {
          await ctx.container.jobs.enqueue('events.relay', { tick: `T${Date.now()}` });
          await ctx.container.jobs.enqueue('webhooks.sweep', { tick: `T${Date.now()}` });
          return true;
        } catch {
          return false;
        }
      });
      await waitFor(() => receiver.at('/outage').length >= 1000, 60_000);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const got = receiver.at('/outage');
      expect(got).toHaveLength(1000);
      expect(got.filter((r) => r.verifyError !== null)).toEqual([]);
      expect(new Set(got.map((r) => r.headers['webhook-id'])).size).toBe(1000);
      const emails = new Set(got.map((r) => (r.event!.data as { subscriber: { email: string } }).subscriber.email));
      expect(emails.size).toBe(1000);
    } finally {
      await worker.close();
    }
  }, 120_000);
});
