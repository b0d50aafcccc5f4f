import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.ts';
import { createFakeResend } from '../support/fake-resend.ts';
import { resendConfig, startWorker, waitFor } from '../email/helpers.ts';
import { createPermits } from '../../src/modules/email/email.jobs.ts';
import { campaignOrganization, deliveries } from './support.ts';

const fake = createFakeResend();
let ctx: TestContext;

beforeAll(async () => {
  await fake.start();
  ctx = await createTestContext(resendConfig(fake, { PROVIDER_RATE_LIMIT_PER_SECOND: '0', CAMPAIGN_BATCH_CONCURRENCY: '2' }));
});
afterAll(async () => {
  await ctx?.close();
  await fake.close();
});

describe('campaign batches in flight per worker', () => {
  it('sends at most CAMPAIGN_BATCH_CONCURRENCY batches at once, and every recipient exactly once', async () => {
    const org = await campaignOrganization(ctx, 'Concurrency', 1000);
    // The fake answers each request only after a pause, so batches the worker sends together overlap there.
    fake.answerDelayMs = 100;
    const worker = await startWorker(ctx);
    let id = '';
    try {
      const created = await org.call('POST', '/api/v1/campaigns', { name: 'News', template_id: org.templateId, tag_filter: { include_tags: [org.tagId] } });
      id = created.json().id as string;
      expect((await org.call('POST', `/api/v1/campaigns/${id}/send`, {})).statusCode).toBe(200);
      await waitFor(async () => (await org.call('GET', `/api/v1/campaigns/${id}`)).json().status === 'sent', 120_000, 100);
    } finally {
      await worker.close();
    }
    const { perAddress, duplicates } = deliveries(fake.emails.filter((e) => e.to[0]!.startsWith(org.slug)));
    expect(perAddress.size).toBe(1000);
    expect(duplicates).toEqual([]);
    // Two at once reach the fake (without the bound, the pump's window of 600 messages lets six or more overlap).
    expect(fake.mostInFlight).toBe(2);
  });
});

describe('permits', () => {
  it('lets max holders in, queues the rest in order, and lets an aborted waiter go', async () => {
    const permits = createPermits(2);
    const never = new AbortController().signal;
    expect(await permits.acquire(never)).toBe(true);
    expect(await permits.acquire(never)).toBe(true);
    const order: string[] = [];
    const third = permits.acquire(never).then((ok) => order.push(`third ${ok}`));
    const aborting = new AbortController();
    const fourth = permits.acquire(aborting.signal).then((ok) => order.push(`fourth ${ok}`));
    const fifth = permits.acquire(never).then((ok) => order.push(`fifth ${ok}`));
    expect(permits.state()).toEqual({ held: 2, waiting: 3 });
    aborting.abort();
    await fourth;
    permits.release();
    await third;
    permits.release();
    await fifth;
    expect(order).toEqual(['fourth false', 'third true', 'fifth true']);
    expect(permits.state()).toEqual({ held: 2, waiting: 0 });
  });
});
