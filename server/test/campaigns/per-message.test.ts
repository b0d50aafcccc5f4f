import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.ts';
import { startWorker, waitFor } from '../email/helpers.ts';
import { campaignOrganization } from './support.ts';

/**
 * Providers without a batch call (the dev mailbox here, SMTP likewise) get a campaign's batches one email
 * per request, each under the message's own idempotency key, with the body rendered at send time.
 */
let ctx: TestContext;

beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(async () => {
  await ctx?.close();
});

describe('a campaign through the dev mailbox', () => {
  it('sends each recipient one email of its own, rendered at send time', async () => {
    const org = await campaignOrganization(ctx, 'Dev mailbox campaign', 150);
    const id = (await org.call('POST', '/api/v1/campaigns', { name: 'News', template_id: org.templateId, tag_filter: { include_tags: [org.tagId] } })).json()
      .id as string;
    const worker = await startWorker(ctx);
    try {
      expect((await org.call('POST', `/api/v1/campaigns/${id}/send`, {})).statusCode).toBe(200);
      await waitFor(async () => (await org.call('GET', `/api/v1/campaigns/${id}`)).json().status === 'sent', 60_000, 100);
    } finally {
      await worker.close();
    }
    const db = ctx.container.db;
    const received = await db
      .selectFrom('dev_mailbox')
      .select(['to_address', 'idempotency_key', 'html', 'subject'])
      .where('organization_id', '=', org.id)
      .execute();
    expect(received).toHaveLength(150);
    expect(new Set(received.map((m) => m.to_address)).size).toBe(150);
    const messages = await db.selectFrom('email_messages').select(['id', 'to_address', 'html']).where('campaign_id', '=', id).execute();
    const keyOf = new Map(messages.map((m) => [m.to_address, `email-message/${m.id}`]));
    for (const mail of received) {
      expect(mail.idempotency_key).toBe(keyOf.get(mail.to_address));
      expect(mail.html).toContain('Hello reader');
      expect(mail.subject).toBe(`News for ${mail.to_address}`);
    }
    expect(messages.every((m) => m.html === null)).toBe(true);
    expect((await org.call('GET', `/api/v1/campaigns/${id}/progress`)).json()).toMatchObject({ sent: 150, failed: 0, queued: 0, sending: 0 });
  }, 90_000);
});
