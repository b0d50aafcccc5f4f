import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.ts';
import { createFakeResend } from '../support/fake-resend.ts';
import { resendConfig, startWorker, waitFor } from '../email/helpers.ts';
import { campaignOrganization, countersAgainstLedger, deliveries, runJob } from './support.ts';
import { isValidEventPayload } from '../../src/modules/events/index.ts';

const fake = createFakeResend({ recordBodies: false });
let ctx: TestContext;

beforeAll(async () => {
  await fake.start();
  ctx = await createTestContext(resendConfig(fake, { PROVIDER_RATE_LIMIT_PER_SECOND: '0', WORKER_LOCK_DURATION_MS: '1500' }));
});
afterAll(async () => {
  await ctx?.close();
  await fake.close();
});
beforeEach(() => fake.reset());

/** The outbox events about one campaign, oldest first, each checked against the catalogue's schema. */
async function campaignEvents(organizationId: string, campaignId: string) {
  const rows = await ctx.container.db
    .selectFrom('events')
    .select(['type', 'payload'])
    .where('organization_id', '=', organizationId)
    .where('subject_id', '=', campaignId)
    .orderBy('id')
    .execute();
  expect(rows.filter((r) => !isValidEventPayload(r.type, r.payload))).toEqual([]);
  return rows;
}

type Call = Awaited<ReturnType<typeof campaignOrganization>>['call'];

async function createCampaign(call: Call, templateId: string, tagId: string): Promise<string> {
  const res = await call('POST', '/api/v1/campaigns', { name: 'Monthly news', template_id: templateId, tag_filter: { include_tags: [tagId] } });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id as string;
}

/** The emails the fake accepted for one organization's subscribers (addresses start with its slug). */
const emailsOf = (slug: string) => fake.emails.filter((e) => e.to[0]!.startsWith(slug));
const status = async (call: Call, id: string) => (await call('GET', `/api/v1/campaigns/${id}`)).json().status as string;
const progress = async (call: Call, id: string) => (await call('GET', `/api/v1/campaigns/${id}/progress`)).json() as Record<string, number | string>;

/** The counters equal a fresh count of the ledger, add up to targeted, and are what progress serves. */
async function expectCountersMatchLedger(org: { id: string; call: Call }, id: string) {
  const check = await countersAgainstLedger(ctx, org.id, id);
  expect(check.counters).toEqual(check.ledger);
  expect(check.skippedCounters).toEqual(check.skippedLedger);
  expect(check.total).toBe(check.targeted);
  const served = await progress(org.call, id);
  for (const key of ['queued', 'sending', 'sent', 'failed', 'skipped', 'cancelled']) expect(served[key], key).toBe(check.counters[key]);
}

describe('campaign fan-out', () => {
  it('sends a 1,000-recipient campaign through two workers to each recipient exactly once, and the counts add up', async () => {
    const org = await campaignOrganization(ctx, 'Two workers', 1000);
    const id = await createCampaign(org.call, org.templateId, org.tagId);
    const count = await org.call('GET', `/api/v1/campaigns/${id}/recipient-count`);
    expect(count.json(), count.body).toMatchObject({ count: 1000 });
    const workers = [await startWorker(ctx), await startWorker(ctx)];
    try {
      const sent = await org.call('POST', `/api/v1/campaigns/${id}/send`, {});
      expect(sent.statusCode, sent.body).toBe(200);
      // A second pump, as the cron's recovery would start beside the running one, must not double anything.
      await ctx.container.jobs.enqueue('campaign.pump', { campaign_id: id, round: 1, step: 'extra_0' });
      await waitFor(async () => (await status(org.call, id)) === 'sent', 120_000, 200);
    } finally {
      await Promise.all(workers.map((w) => w.close()));
    }
    const { perAddress, duplicates, repeatedKeys } = deliveries(emailsOf(org.slug));
    expect(perAddress.size).toBe(1000);
    expect(duplicates).toEqual([]);
    expect(repeatedKeys).toBe(0);
    // Through Resend's batch endpoint: at most 100 emails per request, each request under one key.
    const requests = new Set(emailsOf(org.slug).map((e) => e.request));
    expect(emailsOf(org.slug).every((e) => e.batch && e.idempotencyKey?.startsWith(`campaign-batch/${id}/1/`))).toBe(true);
    expect(requests.size).toBeGreaterThanOrEqual(10);
    expect(requests.size).toBeLessThanOrEqual(20);
    const counts = await progress(org.call, id);
    expect(counts).toMatchObject({ status: 'sent', targeted: 1000, queued: 0, sending: 0, sent: 1000, failed: 0, skipped: 0, cancelled: 0 });
    const email = emailsOf(org.slug)[0]!;
    expect(email.headers['List-Unsubscribe']).toMatch(/^<https?:\/\/.+\/u\/.+>$/);
    expect(email.headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    const usage = await ctx.container.db.selectFrom('organizations').select('emails_sent_this_month').where('id', '=', org.id).executeTakeFirstOrThrow();
    expect(usage.emails_sent_this_month).toBe(1000);
    await expectCountersMatchLedger(org, id);
  }, 180_000);

  it('skips, with the reason, a recipient who unsubscribed or was suppressed after the snapshot', async () => {
    const org = await campaignOrganization(ctx, 'Left after snapshot', 20);
    const id = await createCampaign(org.call, org.templateId, org.tagId);
    expect((await org.call('POST', `/api/v1/campaigns/${id}/send`, {})).statusCode).toBe(200);
    // Freeze the audience without a worker, then two people leave before any email is made.
    await runJob(ctx)('campaign.start', { campaign_id: id, tick: '20261207T140000Z' });
    const members = await ctx.container.db
      .selectFrom('subscribers')
      .select(['id', 'email'])
      .where('organization_id', '=', org.id)
      .orderBy('email')
      .limit(2)
      .execute();
    expect((await org.call('PATCH', `/api/v1/subscribers/${members[0]!.id}`, { status: 'unsubscribed' })).statusCode).toBe(200);
    expect((await org.call('POST', '/api/v1/suppressions', { email: members[1]!.email })).statusCode).toBe(201);
    const worker = await startWorker(ctx);
    try {
      await waitFor(async () => (await status(org.call, id)) === 'sent', 90_000, 100);
    } finally {
      await worker.close();
    }
    expect(await progress(org.call, id)).toMatchObject({ targeted: 20, sent: 18, skipped: 2 });
    const skipped = (await org.call('GET', `/api/v1/campaigns/${id}/recipients?status=skipped`)).json().items as { subscriber_id: string; reason: string }[];
    expect(Object.fromEntries(skipped.map((r) => [r.subscriber_id, r.reason]))).toEqual({ [members[0]!.id]: 'unsubscribed', [members[1]!.id]: 'suppressed' });
    expect((await org.call('GET', `/api/v1/campaigns/${id}/stats`)).json().skipped_by_reason).toEqual({ unsubscribed: 1, suppressed: 1 });
    // Webhooks hear of it: started with the frozen audience, completed with the outcome of everyone.
    const events = await campaignEvents(org.id, id);
    expect(events.map((e) => e.type)).toEqual(['campaign.started', 'campaign.completed']);
    expect(events[0]!.payload).toEqual({ campaign: { id, name: 'Monthly news' }, targeted: 20 });
    expect(events[1]!.payload).toEqual({ campaign: { id, name: 'Monthly news' }, targeted: 20, sent: 18, failed: 0, skipped: 2 });
    expect(fake.emails.map((e) => e.to[0])).not.toContain(members[0]!.email);
    await expectCountersMatchLedger(org, id);
  }, 120_000);

  it('fails with the reason, and says so in a campaign.failed event, when the postal address went away before sending', async () => {
    const org = await campaignOrganization(ctx, 'Lost address', 3);
    const id = await createCampaign(org.call, org.templateId, org.tagId);
    expect((await org.call('POST', `/api/v1/campaigns/${id}/send`, {})).statusCode).toBe(200);
    await runJob(ctx)('campaign.start', { campaign_id: id, tick: '20261207T140000Z' });
    await ctx.container.db.updateTable('organizations').set({ postal_address: null }).where('id', '=', org.id).execute();
    expect(await runJob(ctx)('campaign.pump', { campaign_id: id, round: 1, step: 's_0' })).toBe('failed');
    expect(await status(org.call, id)).toBe('failed');
    const events = await campaignEvents(org.id, id);
    expect(events.map((e) => e.type)).toEqual(['campaign.started', 'campaign.failed']);
    expect(events[1]!.payload).toMatchObject({ campaign: { id, name: 'Monthly news' }, error: { code: 'postal_address_missing' } });
  });

  it('pauses without losing anyone and resumes without sending anyone twice', async () => {
    const org = await campaignOrganization(ctx, 'Pause', 1500);
    const id = await createCampaign(org.call, org.templateId, org.tagId);
    const worker = await startWorker(ctx);
    try {
      expect((await org.call('POST', `/api/v1/campaigns/${id}/send`, {})).statusCode).toBe(200);
      await waitFor(() => emailsOf(org.slug).length >= 100, 30_000, 10);
      const paused = await org.call('POST', `/api/v1/campaigns/${id}/pause`);
      expect(paused.statusCode, paused.body).toBe(200);
      // In-flight emails finish; then nothing more goes out while paused.
      await waitFor(async () => (await progress(org.call, id)).sending === 0, 30_000, 100);
      const afterPause = emailsOf(org.slug).length;
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(emailsOf(org.slug).length).toBe(afterPause);
      expect(afterPause).toBeLessThan(1500);
      await expectCountersMatchLedger(org, id);
      expect((await org.call('POST', `/api/v1/campaigns/${id}/resume`)).statusCode).toBe(200);
      await waitFor(async () => (await status(org.call, id)) === 'sent', 90_000, 100);
    } finally {
      await worker.close();
    }
    const { perAddress, duplicates } = deliveries(emailsOf(org.slug));
    expect(perAddress.size).toBe(1500);
    expect(duplicates).toEqual([]);
    await expectCountersMatchLedger(org, id);
  }, 180_000);

  it('cancels: unsent recipients become cancelled and nothing more is sent', async () => {
    const org = await campaignOrganization(ctx, 'Cancel', 1500);
    const id = await createCampaign(org.call, org.templateId, org.tagId);
    const worker = await startWorker(ctx);
    try {
      expect((await org.call('POST', `/api/v1/campaigns/${id}/send`, {})).statusCode).toBe(200);
      await waitFor(() => emailsOf(org.slug).length >= 50, 30_000, 5);
      const cancelled = await org.call('POST', `/api/v1/campaigns/${id}/cancel`);
      expect(cancelled.statusCode, cancelled.body).toBe(200);
      expect(cancelled.json().status).toBe('cancelled');
      const cancelledAt = Date.now();
      await waitFor(async () => (await progress(org.call, id)).sending === 0, 30_000, 100);
      const atCancel = emailsOf(org.slug).length;
      await new Promise((resolve) => setTimeout(resolve, 2500));
      expect(emailsOf(org.slug).length).toBe(atCancel);
      // New sends stop within 2 s of the cancel (what was in flight then may still land).
      expect(emailsOf(org.slug).filter((e) => e.receivedAt > cancelledAt + 2000)).toEqual([]);
    } finally {
      await worker.close();
    }
    const counts = await progress(org.call, id);
    expect(counts.cancelled).toBeGreaterThan(0);
    expect(Number(counts.sent) + Number(counts.cancelled) + Number(counts.failed) + Number(counts.skipped)).toBe(1500);
    expect(counts.sent).toBe(emailsOf(org.slug).length);
    expect((await org.call('POST', `/api/v1/campaigns/${id}/resume`)).statusCode).toBe(409);
    await expectCountersMatchLedger(org, id);
  }, 180_000);

  it('retries only the failed recipients; with none failed, retry changes nothing', async () => {
    const org = await campaignOrganization(ctx, 'Retry', 130);
    const id = await createCampaign(org.call, org.templateId, org.tagId);
    // The provider refuses one batch for good (a rejection is never retried): all of that batch's emails fail.
    fake.failNext({ status: 422, name: 'validation_error', message: 'refused', path: /^\/emails\/batch$/ }, 1);
    const worker = await startWorker(ctx);
    try {
      expect((await org.call('POST', `/api/v1/campaigns/${id}/send`, {})).statusCode).toBe(200);
      await waitFor(async () => (await status(org.call, id)) === 'sent', 90_000, 100);
      const first = await progress(org.call, id);
      // One refused batch of at most 100 (how the 130 are split into claims and batches depends on timing).
      expect(first.failed).toBeGreaterThan(0);
      expect(first.failed).toBeLessThanOrEqual(100);
      expect(Number(first.sent) + Number(first.failed)).toBe(130);
      await expectCountersMatchLedger(org, id);
      const firstRound = new Set(emailsOf(org.slug).map((e) => e.to[0]));
      const retried = await org.call('POST', `/api/v1/campaigns/${id}/retry`);
      expect(retried.statusCode, retried.body).toBe(200);
      expect(retried.json().requeued).toBe(first.failed);
      await waitFor(async () => (await status(org.call, id)) === 'sent', 90_000, 100);
      expect(await progress(org.call, id)).toMatchObject({ sent: 130, failed: 0 });
      // The refused batch's reservations were given back and the retry reserved again: 130 in all.
      const usage = await ctx.container.db.selectFrom('organizations').select('emails_sent_this_month').where('id', '=', org.id).executeTakeFirstOrThrow();
      expect(usage.emails_sent_this_month).toBe(130);
      await expectCountersMatchLedger(org, id);
      const secondRound = emailsOf(org.slug)
        .slice(firstRound.size)
        .map((e) => e.to[0]);
      expect(secondRound).toHaveLength(Number(first.failed));
      for (const address of secondRound) expect(firstRound.has(address)).toBe(false);
      const again = await org.call('POST', `/api/v1/campaigns/${id}/retry`);
      expect(again.statusCode).toBe(200);
      expect(again.json().requeued).toBe(0);
    } finally {
      await worker.close();
    }
    expect(deliveries(emailsOf(org.slug)).duplicates).toEqual([]);
  }, 120_000);
});
