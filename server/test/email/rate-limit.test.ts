import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestContext, type TestContext } from '../support/context.ts';
import { createFakeResend } from '../support/fake-resend.ts';
import { mjml, resendConfig, startWorker, waitFor } from './helpers.ts';

const LIMIT = 5;
const EMAILS = 20;
// The fake refuses the 6th request inside any sliding second, as a strict provider would.
const fake = createFakeResend({ rateLimit: { requests: LIMIT } });
let ctx: TestContext;
let workers: Awaited<ReturnType<typeof startWorker>>[] = [];

beforeAll(async () => {
  await fake.start();
  ctx = await createTestContext(resendConfig(fake, { PROVIDER_RATE_LIMIT_PER_SECOND: String(LIMIT) }));
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.close()));
  await ctx?.close();
  await fake.close();
});

describe('the provider rate limit', () => {
  it('is shared by all workers: the provider never sees more requests in a second than configured', async () => {
    const org = await ctx.createOrganization();
    const call = api(ctx, org.key);
    await call('POST', '/api/v1/templates', { name: 'Ping', slug: 'ping', subject: 'Ping', mjml_content: mjml('Ping') });
    const ids: string[] = [];
    for (let i = 0; i < EMAILS; i += 1) ids.push((await call('POST', '/api/v1/emails/send', { template_slug: 'ping', to: `r${i}@example.com` })).json().id);
    // Two worker processes' runtimes, each with its own Redis connections, competing for the same queue.
    workers = [await startWorker(ctx), await startWorker(ctx)];
    const started = Date.now();
    await waitFor(async () => {
      const rows = await ctx.container.db.selectFrom('email_messages').select('status').where('id', 'in', ids).execute();
      return rows.every((r) => r.status === 'sent');
    }, 20_000);
    const elapsed = (Date.now() - started) / 1000;

    const sends = (r: { path: string }) => r.path === '/emails';
    expect(fake.requests.filter((r) => r.status === 429)).toEqual([]);
    expect(fake.maxRequestsInWindow(1000, sends)).toBeLessThanOrEqual(LIMIT);
    expect(fake.emails).toHaveLength(EMAILS);
    // 20 requests at 5 per second take at least three full windows after the first.
    expect(elapsed).toBeGreaterThan(EMAILS / LIMIT - 1);
    // Both workers took part.
    const completed = await Promise.all(
      workers.map(async (w) => (await w.metrics.jobs.get()).values.filter((v) => v.labels.outcome === 'completed').reduce((sum, v) => sum + v.value, 0)),
    );
    expect(completed.every((n) => n > 0)).toBe(true);
  }, 30_000);
});
