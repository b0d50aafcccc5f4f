import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.ts';
import { createFakeResend } from '../support/fake-resend.ts';
import { resendConfig, startWorker, waitFor } from '../email/helpers.ts';
import { campaignOrganization } from './support.ts';

// Requests per second; a campaign batch is one request of up to 100 emails.
const RATE = 2;
const fake = createFakeResend({ recordBodies: false });
let ctx: TestContext;

beforeAll(async () => {
  await fake.start();
  ctx = await createTestContext(resendConfig(fake, { PROVIDER_RATE_LIMIT_PER_SECOND: String(RATE) }));
});
afterAll(async () => {
  await ctx?.close();
  await fake.close();
});

describe('a campaign sharing the provider limit with transactional email', () => {
  it('lets a transactional email overtake the campaign emails already waiting', async () => {
    const org = await campaignOrganization(ctx, 'Priority', 1600);
    await org.call('POST', '/api/v1/templates', {
      name: 'Code',
      slug: 'code',
      subject: 'Your code',
      mjml_content: '<mjml><mj-body><mj-section><mj-column><mj-text>1234</mj-text></mj-column></mj-section></mj-body></mjml>',
    });
    const id = (await org.call('POST', '/api/v1/campaigns', { name: 'News', template_id: org.templateId, tag_filter: { include_tags: [org.tagId] } })).json()
      .id as string;
    const worker = await startWorker(ctx);
    try {
      expect((await org.call('POST', `/api/v1/campaigns/${id}/send`, {})).statusCode).toBe(200);
      // Wait until the first batches have gone out at the limit and more wait in the queue.
      await waitFor(() => new Set(fake.emails.map((e) => e.request)).size >= 2, 20_000, 20);
      expect((await org.call('POST', '/api/v1/emails/send', { template_slug: 'code', to: 'urgent@example.com' })).statusCode).toBe(202);
      const queuedAt = Date.now();
      await waitFor(() => fake.emails.some((e) => e.to[0] === 'urgent@example.com'), 20_000, 20);
      const urgent = fake.emails.find((e) => e.to[0] === 'urgent@example.com')!;
      const batchRequests = fake.requests.filter((r) => r.path === '/emails/batch');
      // Batches that left between the email being queued and it leaving: at most those already in flight.
      expect(batchRequests.filter((r) => r.at > queuedAt && r.at < urgent.receivedAt).length).toBeLessThanOrEqual(2);
      await waitFor(async () => (await org.call('GET', `/api/v1/campaigns/${id}`)).json().status === 'sent', 30_000, 100);
      // ...while the campaign still had batches waiting (16 requests at 2/s).
      expect(fake.requests.filter((r) => r.path === '/emails/batch' && r.at > urgent.receivedAt).length).toBeGreaterThan(5);
      // The one gate counted every request, batch or single: never more than the limit in any second.
      expect(fake.maxRequestsInWindow(1000)).toBeLessThanOrEqual(RATE);
      expect(fake.emails.filter((e) => e.batch)).toHaveLength(1600);
    } finally {
      await worker.close();
    }
  }, 60_000);
});
