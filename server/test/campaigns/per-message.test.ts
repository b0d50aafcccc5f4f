import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.ts';
import { startWorker, waitFor } from '../email/helpers.ts';
import { dataLink } from '../preferences/helpers.ts';
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

    // The person's data export holds the campaign email's text, rendered again as it was sent.
    const reader = received[0]!;
    // (The link's email is told apart from the campaign's by time: let a second pass.)
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const token = await dataLink(ctx, reader.to_address, org.slug);
    const exported = await ctx.app.inject({ method: 'GET', url: `/api/v1/preference-center/export?token=${encodeURIComponent(token)}` });
    expect(exported.statusCode, exported.body).toBe(200);
    const sentText = (
      await db
        .selectFrom('dev_mailbox')
        .select('text')
        .where('to_address', '=', reader.to_address)
        .where('subject', 'like', 'News for%')
        .executeTakeFirstOrThrow()
    ).text;
    expect(exported.json().messages.find((m: { subject: string }) => m.subject.startsWith('News for')).text).toBe(sentText);
  }, 90_000);
});
