import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestContext, TEST_TOKEN_SECRET, type TestContext } from '../support/context.ts';
import { startWorker, waitFor } from '../email/helpers.ts';
import { generatedCsv, importer } from './helpers.ts';

let ctx: TestContext;
const serverDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// Short locks so BullMQ notices the dead worker's job within seconds rather than 30.
beforeAll(async () => {
  ctx = await createTestContext({ WORKER_LOCK_DURATION_MS: '2000' });
});
afterAll(() => ctx.close());

const countIn = async (organizationId: string, table: 'subscribers' | 'subscription_history') =>
  Number(
    (
      await ctx.container.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll().as('n'))
        .where('organization_id', '=', organizationId)
        .executeTakeFirstOrThrow()
    ).n,
  );

describe('a worker process killed mid-import', () => {
  it('is SIGKILLed while merging; another worker takes the stalled job over and imports every row exactly once', async () => {
    const org = await ctx.createOrganization('Killed worker');
    const call = api(ctx, org.key);
    const uploaded = await importer(ctx).upload(org.key, generatedCsv(20_000, 0, 'sigkill.example'));
    expect(uploaded.statusCode).toBe(202);
    const { id } = uploaded.json();

    const worker = spawn(process.execPath, ['src/entrypoints/worker.ts'], {
      cwd: serverDir,
      stdio: 'ignore',
      env: {
        ...process.env,
        DATABASE_URL: ctx.databaseUrl,
        REDIS_URL: ctx.config.REDIS_URL,
        REDIS_PREFIX: ctx.config.REDIS_PREFIX,
        TOKEN_SECRET: TEST_TOKEN_SECRET,
        LOG_LEVEL: 'silent',
        WORKER_LOCK_DURATION_MS: '2000',
        METRICS_PORT: '0',
        IMPORT_DIR: ctx.config.IMPORT_DIR,
      },
    });
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    try {
      await waitFor(async () => (await call('GET', `/api/v1/subscribers/imports/${id}`)).json().phase === 'merging', 60_000, 10);
      worker.kill('SIGKILL');
      await exited;
    } finally {
      if (worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
    }
    expect(await countIn(org.id, 'subscribers')).toBe(0);

    const replacement = await startWorker(ctx, { queues: ['sync'] });
    try {
      const report = await waitFor(
        async () => {
          const current = (await call('GET', `/api/v1/subscribers/imports/${id}`)).json();
          return current.status === 'completed' ? current : null;
        },
        60_000,
        100,
      );
      expect(report).toMatchObject({ total: 20_000, created: 20_000, failed: 0 });
    } finally {
      await replacement.close();
    }
    expect(await countIn(org.id, 'subscribers')).toBe(20_000);
    expect(await countIn(org.id, 'subscription_history')).toBe(40_000);
  }, 150_000);
});
