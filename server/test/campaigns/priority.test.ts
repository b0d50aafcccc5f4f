import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.ts';
import { createFakeResend } from '../support/fake-resend.ts';
import { resendConfig, startWorker, waitFor } from '../email/helpers.ts';
import { campaignOrganization } from './support.ts';

const RATE = 10;
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
    const org = await campaignOrganization(ctx, 'Priority', 60);
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
      // Wait until every campaign email waits in the queue and the first have gone out at the limit.
      await waitFor(async () => (await org.call('GET', `/api/v1/campaigns/${id}/progress`)).json().queued === 0, 20_000, 50);
      await waitFor(() => fake.emails.length >= 5, 20_000, 20);
      expect((await org.call('POST', '/api/v1/emails/send', { template_slug: 'code', to: 'urgent@example.com' })).statusCode).toBe(202);
      await waitFor(() => fake.emails.some((e) => e.to[0] === 'urgent@example.com'), 20_000, 20);
      const position = fake.emails.findIndex((e) => e.to[0] === 'urgent@example.com');
      // At 10/s with 60 campaign emails ahead, it went out within about a second, not after the campaign.
      expect(position).toBeLessThan(30);
      await waitFor(async () => (await org.call('GET', `/api/v1/campaigns/${id}`)).json().status === 'sent', 30_000, 100);
    } finally {
      await worker.close();
    }
  }, 60_000);
});
