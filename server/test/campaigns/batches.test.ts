import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.ts';
import { createFakeResend } from '../support/fake-resend.ts';
import { resendConfig, startWorker, waitFor } from '../email/helpers.ts';
import { newId } from '../../src/lib/ids.ts';
import { batchJobKey } from '../../src/modules/email/index.ts';
import { campaignOrganization, countersAgainstLedger, deliveries, runJob } from './support.ts';

const fake = createFakeResend();
let ctx: TestContext;

beforeAll(async () => {
  await fake.start();
  ctx = await createTestContext(resendConfig(fake, { PROVIDER_RATE_LIMIT_PER_SECOND: '0', WORKER_LOCK_DURATION_MS: '1500' }));
});
afterAll(async () => {
  await ctx?.close();
  await fake.close();
});
beforeEach(() => {
  fake.reset();
  fake.setThrottle(null);
});

type Org = Awaited<ReturnType<typeof campaignOrganization>>;

async function sendCampaign(org: Org): Promise<string> {
  const created = await org.call('POST', '/api/v1/campaigns', { name: 'News', template_id: org.templateId, tag_filter: { include_tags: [org.tagId] } });
  expect(created.statusCode, created.body).toBe(201);
  const id = created.json().id as string;
  const sent = await org.call('POST', `/api/v1/campaigns/${id}/send`, {});
  expect(sent.statusCode, sent.body).toBe(200);
  return id;
}

const status = async (org: Org, id: string) => (await org.call('GET', `/api/v1/campaigns/${id}`)).json().status as string;
const emailsOf = (slug: string) => fake.emails.filter((e) => e.to[0]!.startsWith(slug));

describe('campaign emails in Resend batches', () => {
  it('sends 2,000 recipients in batches of at most 100 under one key each, through 429s, and records each provider id', async () => {
    const org = await campaignOrganization(ctx, 'Batches', 2000);
    // A fifth of the requests are answered 429 with Retry-After; the job waits and repeats the same batch.
    fake.setThrottle({ share: 0.2, retryAfterSeconds: 1 });
    const worker = await startWorker(ctx);
    let id: string;
    try {
      id = await sendCampaign(org);
      await waitFor(async () => (await status(org, id)) === 'sent', 120_000, 200);
    } finally {
      await worker.close();
    }
    const emails = emailsOf(org.slug);
    const { perAddress, duplicates, repeatedKeys } = deliveries(emails);
    expect(perAddress.size).toBe(2000);
    expect(duplicates).toEqual([]);
    expect(repeatedKeys).toBe(0);
    expect(fake.requests.some((r) => r.status === 429)).toBe(true);
    const byRequest = new Map<number, typeof emails>();
    for (const email of emails) byRequest.set(email.request, [...(byRequest.get(email.request) ?? []), email]);
    for (const batch of byRequest.values()) {
      expect(batch.length).toBeLessThanOrEqual(100);
      expect(new Set(batch.map((e) => e.idempotencyKey)).size).toBe(1);
      expect(batch.every((e) => e.batch)).toBe(true);
    }
    expect(byRequest.size).toBe(20);

    // Each message records the id the provider gave its own email in the batch's answer.
    const db = ctx.container.db;
    const rows = await db
      .selectFrom('email_messages')
      .select(['to_address', 'provider_message_id', 'html', 'text', 'batch_key', 'content_id'])
      .where('campaign_id', '=', id!)
      .execute();
    expect(rows).toHaveLength(2000);
    const providerIds = new Map(emails.map((e) => [e.to[0], e.id]));
    for (const row of rows) expect(row.provider_message_id).toBe(providerIds.get(row.to_address));
    // No body is stored per recipient: it is rendered from the campaign's one content at send time.
    expect(rows.every((r) => r.html === null && r.text === null && r.content_id !== null && r.batch_key !== null)).toBe(true);
    expect(new Set(rows.map((r) => r.content_id)).size).toBe(1);
    const check = await countersAgainstLedger(ctx, org.id, id!);
    expect(check.counters).toEqual(check.ledger);
    expect(check.counters).toMatchObject({ sent: 2000, queued: 0, sending: 0, failed: 0 });
  }, 180_000);

  it("renders each body at send time in the subscriber's language, and the email log shows the same body again", async () => {
    const org = await campaignOrganization(ctx, 'Rendered', 3);
    await ctx.container.db
      .updateTable('subscribers')
      .set({ first_name: 'Grace', locale: 'de-AT' })
      .where('organization_id', '=', org.id)
      .where('email', 'like', `${org.slug}-r1@%`)
      .execute();
    const worker = await startWorker(ctx);
    let id: string;
    try {
      id = await sendCampaign(org);
      await waitFor(async () => (await status(org, id)) === 'sent', 60_000, 100);
    } finally {
      await worker.close();
    }
    const grace = emailsOf(org.slug).find((e) => e.to[0]!.startsWith(`${org.slug}-r1@`))!;
    expect(grace.html).toContain('Hello Grace');
    expect(grace.subject).toBe(`News for ${grace.to[0]}`);
    // Her footer and the document's language follow her locale; the others keep the organization's (English).
    expect(grace.html).toMatch(/^<!doctype html>\s*<html lang="de-AT"/i);
    expect(grace.html).toContain('Sie erhalten diese E-Mail');
    expect(grace.text).toContain('Abmelden');
    const other = emailsOf(org.slug).find((e) => e !== grace)!;
    expect(other.html).toContain('Hello reader');
    expect(other.html).toMatch(/^<!doctype html>\s*<html lang="en"/i);
    expect(other.html).toContain('You receive this email because');
    expect(other.html).not.toContain('Sie erhalten');
    const message = await ctx.container.db
      .selectFrom('email_messages')
      .select(['id', 'subject'])
      .where('campaign_id', '=', id!)
      .where('to_address', '=', grace.to[0]!)
      .executeTakeFirstOrThrow();
    expect(message.subject).toBe(grace.subject);
    const content = await org.call('GET', `/api/v1/emails/${message.id}/content`);
    expect(content.statusCode, content.body).toBe(200);
    expect(content.json().html).toBe(grace.html);
    expect(content.json().text).toBe(grace.text);
  }, 90_000);

  it("puts the campaign's preheader, as typed and never run as a template, hidden at the top of the body and not in the text part", async () => {
    const org = await campaignOrganization(ctx, 'Preheader', 2);
    const preheader = 'Our <b>spring</b> news & {{ subscriber.email }} {% if true %}x{% endif %}';
    const created = await org.call('POST', '/api/v1/campaigns', {
      name: 'With preheader',
      template_id: org.templateId,
      tag_filter: { include_tags: [org.tagId] },
      preheader,
    });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().id as string;
    const worker = await startWorker(ctx);
    try {
      expect((await org.call('POST', `/api/v1/campaigns/${id}/send`, {})).statusCode).toBe(200);
      await waitFor(async () => (await status(org, id)) === 'sent', 60_000, 100);
    } finally {
      await worker.close();
    }
    const emails = emailsOf(org.slug);
    expect(emails).toHaveLength(2);
    for (const email of emails) {
      const block = /<body\b[^>]*>\s*<div data-preheader style="display:none[^"]*">([^<]*)<\/div>/.exec(email.html!);
      expect(block, 'the preheader opens the body').not.toBeNull();
      expect(block![1]).toBe(
        'Our &lt;b&gt;spring&lt;/b&gt; news &amp; &#123;&#123; subscriber.email &#125;&#125; &#123;&#37; if true &#37;&#125;x&#123;&#37; endif &#37;&#125;',
      );
      expect(email.html).not.toContain(email.to[0]! + ' {%');
      expect(email.text).not.toContain('spring');
      expect(email.text).toContain('Hello reader');
    }
  }, 90_000);

  it('finds a batch whose job was lost and sends it as the same batch, under the same key, once', async () => {
    const org = await campaignOrganization(ctx, 'Lost batch', 250);
    const worker = await startWorker(ctx);
    let id: string;
    try {
      id = await sendCampaign(org);
      await waitFor(async () => (await status(org, id)) === 'sent', 60_000, 100);
    } finally {
      await worker.close();
    }
    // Make one batch look as if the worker died after the provider accepted it and its job was lost:
    // its messages in flight again, untouched for ten minutes, and no job for it in the queue.
    const db = ctx.container.db;
    const { batch_key: key } = await db.selectFrom('email_messages').select('batch_key').where('campaign_id', '=', id!).orderBy('id').executeTakeFirstOrThrow();
    const accepted = await db.selectFrom('email_messages').select(['id', 'provider_message_id']).where('batch_key', '=', key).execute();
    const before = emailsOf(org.slug).length;
    // Counted here: the first send may have repeated a batch request of its own (a retry answered from the key).
    const batchRequestsBefore = fake.requests.filter((r) => r.path === '/emails/batch').length;
    await db
      .updateTable('email_messages')
      .set({ status: 'sending', provider_message_id: null, sent_at: null, updated_at: new Date(Date.now() - 600_000) })
      .where('batch_key', '=', key)
      .execute();
    await (await ctx.container.queues.get('email').getJob(`email-batch-${batchJobKey(key!)}`))?.remove();
    const swept = (await runJob(ctx)('email.sweep', { tick: '2026-12-07T2100Z' })) as { batches: number };
    expect(swept.batches).toBe(1);
    const again = await startWorker(ctx);
    try {
      await waitFor(async () => {
        const rows = await db.selectFrom('email_messages').select('provider_message_id').where('batch_key', '=', key).execute();
        return rows.every((r) => r.provider_message_id !== null);
      }, 30_000);
    } finally {
      await again.close();
    }
    // The provider answered the repeated batch from its idempotency key: nobody got a second email, and
    // the same provider ids are recorded again.
    expect(emailsOf(org.slug).length).toBe(before);
    expect(fake.requests.filter((r) => r.path === '/emails/batch').length).toBe(batchRequestsBefore + 1);
    const after = await db.selectFrom('email_messages').select(['id', 'provider_message_id']).where('batch_key', '=', key).execute();
    expect(new Map(after.map((r) => [r.id, r.provider_message_id]))).toEqual(new Map(accepted.map((r) => [r.id, r.provider_message_id])));
  }, 180_000);

  it('re-checks suppression when a batch is taken, and never repeats a batch taken so long ago that the provider forgot its key', async () => {
    const org = await ctx.createOrganization('Batch checks');
    const db = ctx.container.db;
    const row = (id: string, to: string, createdAt: Date, sendingAt: Date | null) => ({
      id,
      organization_id: org.id,
      category: 'transactional',
      to_address: to,
      from_address: 'news@news.example.net',
      subject: 'News',
      html: '<p>News</p>',
      text: 'News',
      status: sendingAt ? 'sending' : 'queued',
      batch_key: `campaign-batch/test/${id}`,
      created_at: createdAt,
      sending_at: sendingAt,
    });
    const [fresh, blocked, old] = [newId(), newId(), newId()];
    await db
      .insertInto('email_messages')
      .values([
        row(fresh, 'fresh@example.com', new Date(), null),
        row(blocked, 'blocked@example.com', new Date(), null),
        row(old, 'old@example.com', new Date(Date.now() - 24 * 3600_000), new Date(Date.now() - 24 * 3600_000)),
      ])
      .execute();
    await db.insertInto('suppressions').values({ id: newId(), organization_id: org.id, email: 'blocked@example.com', reason: 'manual' }).execute();
    const run = runJob(ctx);
    expect(await run('email.send-batch', { batch: batchJobKey('b1'), message_ids: [fresh, blocked].sort() })).toEqual({ sent: 1 });
    expect(await run('email.send-batch', { batch: batchJobKey('b2'), message_ids: [old] })).toBe('stale');
    const states = Object.fromEntries(
      (await db.selectFrom('email_messages').select(['id', 'status', 'error_code']).where('organization_id', '=', org.id).execute()).map((m) => [m.id, m]),
    );
    expect(states[fresh]).toMatchObject({ status: 'sent' });
    expect(states[blocked]).toMatchObject({ status: 'suppressed', error_code: 'recipient_suppressed' });
    expect(states[old]).toMatchObject({ status: 'failed', error_code: 'delivery_unknown' });
    expect(fake.emails.map((e) => e.to[0])).toEqual(['fresh@example.com']);
  });
});
