import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.ts';
import { startApiMetricsServer } from '../../src/metrics/api.ts';
import { createApiMetrics } from '../../src/metrics/registry.ts';
import { api, createTestContext, type TestContext } from '../support/context.ts';
import { mjml, startWorker, waitFor } from '../email/helpers.ts';
import { requestLink, tokenFromMail, verify } from '../identity/helpers.ts';

// Every log line the API and the worker write, as parsed JSON, through the real logger configuration.
const lines: Record<string, unknown>[] = [];
const logger = createLogger({ LOG_LEVEL: 'info' }, 'test', {
  write(chunk: string) {
    for (const line of chunk.split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
  },
});
const metrics = createApiMetrics('test-api');

let ctx: TestContext;
let call: ReturnType<typeof api>;
let worker: Awaited<ReturnType<typeof startWorker>>;

beforeAll(async () => {
  ctx = await createTestContext({ LOG_LEVEL: 'info' }, { logger, metrics });
  const org = await ctx.createOrganization('Acme');
  call = api(ctx, org.key);
  await call('POST', '/api/v1/templates', {
    name: 'Receipt',
    slug: 'receipt',
    subject: 'Receipt for {{ to }}',
    mjml_content: mjml('Thanks, order {{ number }}.'),
  });
  worker = await startWorker(ctx, { queues: ['email'] });
});
afterAll(async () => {
  await worker?.close();
  await ctx?.close();
});

const sendAndDeliver = async (to: string, headers: Record<string, string> = {}) => {
  const res = await call('POST', '/api/v1/emails/send', { template_slug: 'receipt', to, variables: { number: 7, to } }, headers);
  expect(res.statusCode).toBe(202);
  const id = res.json().id as string;
  await waitFor(async () => (await call('GET', `/api/v1/emails/${id}`)).json().status === 'sent');
  return id;
};

describe('request ids in jobs', () => {
  it('carries the request id of the request that enqueued a job into the worker log lines for that job', async () => {
    const id = await sendAndDeliver('receipt-reader@example.com', { 'x-request-id': 'abc' });
    const job = await ctx.container.queues.get('email').getJob(`email-send-${id}`);
    expect(job?.data).toEqual({ message_id: id, request_id: 'abc' });
    // The dev mailbox announces each stored message; in the worker that line belongs to the job.
    const jobLines = lines.filter((line) => line.job === 'email.send' && line.job_id === `email-send-${id}`);
    expect(jobLines.length).toBeGreaterThan(0);
    for (const line of jobLines) expect(line.request_id).toBe('abc');
  });

  it('enqueues without a request id outside a request, and the worker still runs the job', async () => {
    const message = await ctx.container.db.selectFrom('email_messages').select('id').orderBy('id', 'desc').executeTakeFirstOrThrow();
    await ctx.container.queues.get('email').remove(`email-send-${message.id}`);
    await ctx.container.jobs.enqueue('email.send', { message_id: message.id });
    const job = await ctx.container.queues.get('email').getJob(`email-send-${message.id}`);
    expect(job?.data).toEqual({ message_id: message.id });
  });
});

describe('request logs', () => {
  it('writes one line per request, on completion: short on success, with the client on failure', async () => {
    const from = lines.length;
    await call('GET', '/api/v1/subscribers?limit=1', undefined, { 'x-request-id': 'one-line-ok' });
    // A one-click unsubscribe with a token that is not one: refused, and the token never reaches the log.
    await ctx.app.inject({
      method: 'POST',
      url: '/u/secret-token-value',
      headers: { 'x-request-id': 'one-line-failed', 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'List-Unsubscribe=One-Click',
    });
    const ok = lines.slice(from).filter((line) => line.reqId === 'one-line-ok');
    expect(ok).toEqual([
      expect.objectContaining({ level: 30, msg: 'request', method: 'GET', url: '/api/v1/subscribers?limit=1', status: 200, ms: expect.any(Number) }),
    ]);
    expect(ok[0]).not.toHaveProperty('req');
    expect(ok[0]).not.toHaveProperty('remote_address');
    const failed = lines.slice(from).filter((line) => line.reqId === 'one-line-failed');
    expect(failed).toEqual([
      expect.objectContaining({ msg: 'request failed', url: '/u/[redacted]', status: expect.any(Number), remote_address: expect.any(String) }),
    ]);
    expect(JSON.stringify(failed)).not.toContain('secret-token-value');
  });
});

describe('addresses in logs', () => {
  it('never writes a full address while sending an email, signing in or looking a subscriber up', async () => {
    const recipient = 'grace.hopper@example.com';
    const owner = 'owner1@example.com';
    const from = lines.length;
    await sendAndDeliver(recipient);
    expect((await requestLink(ctx, owner)).statusCode).toBe(202);
    expect((await verify(ctx, await tokenFromMail(ctx, owner, '/login/verify'))).statusCode).toBe(200);
    expect((await requestLink(ctx, 'nobody.known@example.com')).statusCode).toBe(202);
    await ctx.container.background.drain();
    await call('GET', `/api/v1/subscribers/by-email?email=${encodeURIComponent(recipient)}`);

    const written = lines
      .slice(from)
      .map((line) => JSON.stringify(line))
      .join('\n');
    for (const address of [recipient, owner, 'nobody.known@example.com', encodeURIComponent(recipient)]) expect(written).not.toContain(address);
    // The lines are there, with the addresses masked.
    expect(written).toContain('g***@example.com');
    expect(written).toContain('o***@example.com');
    expect(written).toContain('n***@example.com');
  });
});

describe('API metrics', () => {
  it('serves request durations by route pattern, queue depths, the outbox lag and process metrics on the internal port only', async () => {
    const created = await call('POST', '/api/v1/subscribers', { email: 'lag@example.com' });
    await call('GET', `/api/v1/subscribers/${created.json().id}`);
    await ctx.app.inject({ method: 'GET', url: '/no/such/route/12345' });
    expect((await ctx.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(404);

    const server = await startApiMetricsServer(ctx.container, metrics, { host: '127.0.0.1', port: 0, healthy: () => true });
    try {
      const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).toMatch(/sf_http_request_duration_seconds_count\{[^}]*method="GET",route="\/api\/v1\/subscribers\/:id",status_code="200"\} 1/);
      expect(text).toMatch(/sf_http_request_duration_seconds_count\{[^}]*method="GET",route="unmatched",status_code="404"/);
      expect(text).not.toContain(created.json().id);
      for (const queue of ['email', 'webhook', 'sync', 'maintenance']) {
        for (const state of ['waiting', 'active', 'failed', 'delayed']) expect(text).toMatch(new RegExp(`sf_queue_jobs\\{queue="${queue}",state="${state}"`));
      }
      // The subscriber's outbox event has not been relayed (no relay runs here), so it has an age.
      const lag = Number(/^sf_outbox_lag_seconds\{[^}]*\} (\S+)$/m.exec(text)?.[1]);
      expect(lag).toBeGreaterThan(0);
      expect(text).toContain('process_cpu_user_seconds_total');
      expect((await fetch(`http://127.0.0.1:${server.port}/health`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
