import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestContext, TEST_TOKEN_SECRET, type TestContext } from '../support/context.ts';
import { createFakeResend } from '../support/fake-resend.ts';
import { messageRow, mjml, resendConfig, startWorker, waitFor } from './helpers.ts';

const serverDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const LOCK_MS = 1500;
const fake = createFakeResend();
let ctx: TestContext;
let call: ReturnType<typeof api>;
const children: ChildProcess[] = [];

/** The real worker entry point in its own process, as `npm run worker` starts it. */
async function spawnWorker(): Promise<{ child: ChildProcess; port: number; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, ['src/entrypoints/worker.ts'], {
    cwd: serverDir,
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: ctx.databaseUrl,
      DATABASE_POOL_MAX: '3',
      REDIS_URL: ctx.config.REDIS_URL,
      REDIS_PREFIX: ctx.config.REDIS_PREFIX,
      TOKEN_SECRET: TEST_TOKEN_SECRET,
      LOG_LEVEL: 'info',
      METRICS_PORT: '0',
      WORKER_LOCK_DURATION_MS: String(LOCK_MS),
      ...resendConfig(fake, { PROVIDER_RATE_LIMIT_PER_SECOND: '0' }),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const started = output
        .split('\n')
        .map((line) => {
          try {
            return JSON.parse(line) as { msg?: string; metrics_port?: number };
          } catch {
            return {};
          }
        })
        .find((l) => l.msg === 'worker started');
      if (started?.metrics_port) resolve(started.metrics_port);
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    void exited.then((code) => reject(new Error(`worker exited with ${code} before starting: ${output}`)));
  });
  return { child, port, exited };
}

beforeAll(async () => {
  await fake.start();
  ctx = await createTestContext(resendConfig(fake, { PROVIDER_RATE_LIMIT_PER_SECOND: '0', WORKER_LOCK_DURATION_MS: String(LOCK_MS) }));
  const org = await ctx.createOrganization('Acme');
  call = api(ctx, org.key);
  await call('POST', '/api/v1/templates', { name: 'Code', slug: 'code', subject: 'Your code', mjml_content: mjml('Code 1234') });
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await ctx?.close();
  await fake.close();
});

describe('the worker process', () => {
  it('serves /health and Prometheus /metrics, and stops cleanly on SIGTERM', async () => {
    const { child, port, exited } = await spawnWorker();
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toContain('process_resident_memory_bytes');
    expect(metrics).toMatch(/sf_queue_jobs\{[^}]*queue="email"/);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 30_000);

  it('never sends twice when it dies after the provider accepted an email and before recording it', async () => {
    const { child, exited } = await spawnWorker();
    // The provider takes the email, then the worker is killed before the answer reaches it.
    fake.onAccepted = async () => {
      child.kill('SIGKILL');
      await exited;
    };
    const id = (await call('POST', '/api/v1/emails/send', { template_slug: 'code', to: 'ada@example.com' })).json().id as string;
    await exited;
    fake.onAccepted = null;
    expect(fake.emails).toHaveLength(1);
    expect((await messageRow(ctx, id)).status).toBe('queued');

    // Another worker finds the job stalled once its lock lapses, and sends it again with the same
    // idempotency key: the provider answers with the first email instead of sending a second one.
    const worker = await startWorker(ctx);
    try {
      const row = await waitFor(async () => {
        const current = await messageRow(ctx, id);
        return current.status === 'sent' ? current : undefined;
      }, 20_000);
      expect(row.provider_message_id).toBe(fake.emails[0]!.id);
      expect(row.attempts).toBe(2);
      expect(fake.emails).toHaveLength(1);
      expect(fake.requests.filter((r) => r.path === '/emails')).toHaveLength(2);
    } finally {
      await worker.close();
    }
  }, 40_000);
});
