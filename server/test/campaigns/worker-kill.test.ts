import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, TEST_TOKEN_SECRET, type TestContext } from '../support/context.ts';
import { createFakeResend } from '../support/fake-resend.ts';
import { resendConfig, startWorker, waitFor } from '../email/helpers.ts';
import { campaignOrganization, deliveries } from './support.ts';

const serverDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const LOCK_MS = '1500';
const fake = createFakeResend({ recordBodies: false });
let ctx: TestContext;
let child: ChildProcess | null = null;

beforeAll(async () => {
  await fake.start();
  ctx = await createTestContext(resendConfig(fake, { PROVIDER_RATE_LIMIT_PER_SECOND: '0', WORKER_LOCK_DURATION_MS: LOCK_MS }));
});
afterAll(async () => {
  if (child?.exitCode === null) child.kill('SIGKILL');
  await ctx?.close();
  await fake.close();
});

describe('a campaign whose worker is killed', () => {
  it('is finished by another worker, and nobody gets a second email', async () => {
    const org = await campaignOrganization(ctx, 'Killed worker', 800);
    const created = await org.call('POST', '/api/v1/campaigns', { name: 'News', template_id: org.templateId, tag_filter: { include_tags: [org.tagId] } });
    const id = created.json().id as string;
    // The real worker entry point in its own process, killed without warning mid-campaign.
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
    fake.onAccepted = () => {
      if (fake.emails.length >= 200) child!.kill('SIGKILL');
    };
    expect((await org.call('POST', `/api/v1/campaigns/${id}/send`, {})).statusCode).toBe(200);
    await exited;
    fake.onAccepted = null;
    const atKill = fake.emails.length;
    expect(atKill).toBeLessThan(800);

    // The killed worker's jobs (the pump among them) are found stalled once their locks lapse.
    const worker = await startWorker(ctx);
    try {
      await waitFor(async () => (await org.call('GET', `/api/v1/campaigns/${id}`)).json().status === 'sent', 150_000, 200);
    } finally {
      await worker.close();
    }
    const { perAddress, duplicates, repeatedKeys } = deliveries(fake.emails);
    expect(perAddress.size).toBe(800);
    expect(duplicates).toEqual([]);
    expect(repeatedKeys).toBe(0);
    expect((await org.call('GET', `/api/v1/campaigns/${id}/progress`)).json()).toMatchObject({ targeted: 800, sent: 800, queued: 0, sending: 0 });
  }, 240_000);
});
