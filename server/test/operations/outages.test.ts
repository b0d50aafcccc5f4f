import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { buildApp, type App } from '../../src/app.ts';
import { createContainer, SCHEDULES, type Container } from '../../src/container.ts';
import { createCronRunner, latestTick } from '../../src/jobs/cron.ts';
import { createJobProducer } from '../../src/jobs/producer.ts';
import { closeConnection, createProducerConnection, createQueues } from '../../src/jobs/queues.ts';
import { JOBS } from '../../src/jobs/registry.ts';
import { createLogger } from '../../src/logger.ts';
import { createMetrics } from '../../src/metrics/registry.ts';
import { api, createTestContext, sessionApi, type TestContext, type TestSession } from '../support/context.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';
import { mjml, waitFor } from '../email/helpers.ts';

/** Runs `request` and returns its answer with how long it took. */
async function timed<T>(request: () => Promise<T>): Promise<{ res: T; ms: number }> {
  const started = performance.now();
  const res = await request();
  return { res, ms: performance.now() - started };
}

function expectUnavailable(res: { statusCode: number; headers: Record<string, unknown>; json(): { error: { code: string } } }): void {
  expect(res.statusCode).toBe(503);
  expect(res.json().error.code).toBe('service_unavailable');
  expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
}

describe('Redis stops while the API runs', () => {
  let proxy: TcpProxy;
  let ctx: TestContext;
  let call: ReturnType<typeof api>;
  let session: TestSession;
  let sessionCall: ReturnType<typeof sessionApi>;
  let otherKeyId: string;

  beforeAll(async () => {
    proxy = await startTcpProxy(inject('redisUrl'));
    ctx = await createTestContext({ REDIS_URL: proxy.url() });
    const org = await ctx.createOrganization();
    call = api(ctx, org.key);
    session = await ctx.createSession(org.id, 'owner');
    sessionCall = sessionApi(ctx, session);
    otherKeyId = (await ctx.createKey(org.id, ['subscribers:read'])).id;
    await call('POST', '/api/v1/templates', { name: 'Receipt', slug: 'receipt', subject: 'Receipt', mjml_content: mjml('Thanks.') });
    // Both connections (commands, and the job producer's) have been up before the outage.
    expect((await sessionCall('GET', '/api/v1/subscribers')).statusCode).toBe(200);
    await ctx.container.queues.get('email').getJobCounts();
    await proxy.stop();
  });
  afterAll(async () => {
    await proxy.start().catch(() => undefined);
    await waitFor(() => ctx.container.redis.status === 'ready');
    await ctx.close();
    await proxy.close();
  });

  it('answers a request that needs Redis (a session) with 503 and Retry-After within about a second', async () => {
    const { res, ms } = await timed(() => sessionCall('GET', '/api/v1/subscribers'));
    expectUnavailable(res);
    expect(ms).toBeLessThan(1500);
  });

  it('refuses an Idempotency-Key request before doing anything, so nothing is committed after an error', async () => {
    const { res, ms } = await timed(() => call('POST', '/api/v1/subscribers', { email: 'idem@example.com' }, { 'idempotency-key': 'k-outage-1' }));
    expectUnavailable(res);
    expect(ms).toBeLessThan(1500);
    const rows = await ctx.container.db.selectFrom('subscribers').select('id').where('email', '=', 'idem@example.com').execute();
    expect(rows).toEqual([]);
  });

  it('keeps serving requests that do not need Redis, without waiting for it', async () => {
    for (const request of [
      () => call('GET', '/api/v1/subscribers'),
      () => call('POST', '/api/v1/subscribers', { email: 'no-redis@example.com' }),
      () => ctx.app.inject({ method: 'GET', url: '/health' }),
    ]) {
      const { res, ms } = await timed(request);
      expect(res.statusCode).toBeLessThan(300);
      expect(ms).toBeLessThan(500);
    }
  });

  it('accepts an email whose job cannot be enqueued: it is committed as queued for the sweep, and the answer is a success', async () => {
    const { res, ms } = await timed(() => call('POST', '/api/v1/emails/send', { template_slug: 'receipt', to: 'buyer@example.com' }));
    expect(res.statusCode).toBe(202);
    expect(ms).toBeLessThan(1500);
    const row = await ctx.container.db.selectFrom('email_messages').select('status').where('id', '=', res.json().id).executeTakeFirstOrThrow();
    expect(row.status).toBe('queued');
  });

  it('revokes an API key (committed) and answers success although other processes cannot be told', async () => {
    const res = await call('DELETE', `/api/v1/api-keys/${otherKeyId}`);
    expect(res.statusCode).toBe(200);
    expect(res.json().revoked_at).not.toBeNull();
  });

  it('serves sessions again once Redis is back', async () => {
    await proxy.start();
    await waitFor(async () => (await sessionCall('GET', '/api/v1/subscribers')).statusCode === 200, 10_000, 100);
  });
});

describe('Redis unreachable from the start', () => {
  let proxy: TcpProxy;
  let ctx: TestContext;

  beforeAll(async () => {
    proxy = await startTcpProxy(inject('redisUrl'));
    const url = proxy.url();
    await proxy.stop();
    ctx = await createTestContext({ REDIS_URL: url });
  });
  afterAll(async () => {
    await proxy.start();
    await waitFor(() => ctx.container.redis.status === 'ready');
    await ctx.close();
    await proxy.close();
  });

  it('fails a request that needs Redis fast, and serves one that does not', async () => {
    const org = await ctx.createOrganization();
    const call = api(ctx, org.key);
    const refused = await timed(() => call('POST', '/api/v1/subscribers', { email: 'a@example.com' }, { 'idempotency-key': 'k1' }));
    expectUnavailable(refused.res);
    expect(refused.ms).toBeLessThan(1500);
    const served = await timed(() => call('GET', '/api/v1/subscribers'));
    expect(served.res.statusCode).toBe(200);
    expect(served.ms).toBeLessThan(1500);
  });
});

describe('PostgreSQL stops while the API runs', () => {
  let proxy: TcpProxy;
  let ctx: TestContext;
  let container: Container;
  let app: App;
  let key: string;

  beforeAll(async () => {
    ctx = await createTestContext();
    key = (await ctx.createOrganization()).key;
    proxy = await startTcpProxy(ctx.databaseUrl);
    container = createContainer({ ...ctx.config, DATABASE_URL: proxy.url() }, { processName: 'test', logger: ctx.container.logger });
    app = await buildApp(container);
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await container.close();
    await proxy.close();
    await ctx.close();
  });

  const list = () => app.inject({ method: 'GET', url: '/api/v1/subscribers', headers: { authorization: `Bearer ${key}` } });

  it('answers 503 with Retry-After (not 500) while the database is unreachable, and recovers when it is back', async () => {
    expect((await list()).statusCode).toBe(200);
    await proxy.stop();
    // Connections in the pool are cut (the server went away) and new ones are refused.
    for (let i = 0; i < 3; i += 1) expectUnavailable(await list());
    await proxy.start();
    await waitFor(async () => (await list()).statusCode === 200, 10_000, 100);
  });
});

describe('cron during a Redis outage', () => {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ LOG_LEVEL: 'info' }, 'test', {
    write(chunk: string) {
      for (const line of chunk.split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
    },
  });
  let ctx: TestContext;
  let proxy: TcpProxy;

  beforeAll(async () => {
    ctx = await createTestContext();
    proxy = await startTcpProxy(inject('redisUrl'));
  });
  afterAll(async () => {
    await proxy.close();
    await ctx.close();
  });

  it('logs a tick that cannot be enqueued, and enqueues the latest due period of every schedule when Redis is back', async () => {
    const connection = createProducerConnection(proxy.url());
    connection.on('error', () => undefined);
    const queues = createQueues(connection, ctx.config.REDIS_PREFIX);
    const now = new Date('2027-03-01T00:07:30Z');
    const runner = createCronRunner({
      producer: createJobProducer(queues),
      logger,
      metrics: createMetrics('test-cron'),
      schedules: SCHEDULES,
      connection,
      now: () => now,
    });
    try {
      await proxy.stop();
      const reset = SCHEDULES.find((s) => s.name === 'usage-reset')!;
      const { res: enqueued, ms } = await timed(() => runner.tick(reset, new Date('2027-03-01T00:00:00Z')));
      expect(enqueued).toBe(false);
      expect(ms).toBeLessThan(1500);
      expect(lines.some((line) => line.level === 50 && line.schedule === 'usage-reset')).toBe(true);

      await proxy.start();
      const maintenance = ctx.container.queues.get('maintenance');
      const resetJob = await waitFor(() => maintenance.getJob('usage-reset-2027-03-01'), 10_000, 100);
      expect(resetJob.data.period).toBe('2027-03-01');
      // Every schedule's latest period is there, once.
      for (const schedule of SCHEDULES) {
        const request = schedule.job(latestTick(schedule.expression, now)!);
        const id = (JOBS[request.name].jobId as (payload: unknown) => string)(request.payload);
        expect(await ctx.container.queues.get(JOBS[request.name].queue).getJob(id), schedule.name).toBeTruthy();
      }
    } finally {
      await queues.close();
      await closeConnection(connection);
    }
  });

  it('names the latest due minute of each schedule', () => {
    const at = new Date('2027-03-10T03:29:40Z');
    expect(latestTick('0 0 1 * *', at)?.toISOString()).toBe('2027-03-01T00:00:00.000Z');
    expect(latestTick('30 3 * * *', at)?.toISOString()).toBe('2027-03-09T03:30:00.000Z');
    expect(latestTick('30 3 * * *', new Date('2027-03-10T03:30:00Z'))?.toISOString()).toBe('2027-03-10T03:30:00.000Z');
    expect(latestTick('*/5 * * * *', at)?.toISOString()).toBe('2027-03-10T03:25:00.000Z');
    expect(latestTick('0 4 * * 1', at)?.toISOString()).toBe('2027-03-08T04:00:00.000Z');
  });
});
