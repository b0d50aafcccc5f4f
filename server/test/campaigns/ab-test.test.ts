import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.ts';
import { createFakeResend } from '../support/fake-resend.ts';
import { mjml, resendConfig, startWorker, waitFor } from '../email/helpers.ts';
import { campaignOrganization, countersAgainstLedger, deliveries, runJob } from './support.ts';
import { leadingVariant } from '../../src/modules/campaigns/campaigns.service.ts';

const fake = createFakeResend({ recordBodies: false });
let ctx: TestContext;
// The clock of the A/B timer: moved forward instead of waiting hours.
let offsetMs = 0;
const now = () => new Date(Date.now() + offsetMs);

beforeAll(async () => {
  await fake.start();
  ctx = await createTestContext(resendConfig(fake, { PROVIDER_RATE_LIMIT_PER_SECOND: '0', WORKER_LOCK_DURATION_MS: '1500' }), { now });
});
afterAll(async () => {
  await ctx?.close();
  await fake.close();
});
beforeEach(() => {
  fake.reset();
  offsetMs = 0;
});

type Org = Awaited<ReturnType<typeof campaignOrganization>>;
const HOUR = 3_600_000;

async function createAbCampaign(org: Org, abTest: Record<string, unknown>): Promise<string> {
  const res = await org.call('POST', '/api/v1/campaigns', {
    name: 'A/B news',
    template_id: org.templateId,
    tag_filter: { include_tags: [org.tagId] },
    ab_test: abTest,
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id as string;
}

const abResults = async (org: Org, id: string) => (await org.call('GET', `/api/v1/campaigns/${id}/ab-test`)).json();
const status = async (org: Org, id: string) => (await org.call('GET', `/api/v1/campaigns/${id}`)).json().status as string;
const emailsOf = (slug: string) => fake.emails.filter((e) => e.to[0]!.startsWith(slug));

/** The test share's messages of one variant. */
async function messagesOf(campaignId: string, variant: number) {
  return (
    await sql<{ id: string }>`select r.email_message_id as id from campaign_recipients r
      where r.campaign_id = ${campaignId} and r.variant = ${variant} and r.email_message_id is not null order by r.subscriber_id`.execute(ctx.container.db)
  ).rows.map((r) => r.id);
}

/** Unique opens or clicks as the tracker stores them (each message's first, human or machine). */
async function recordFirsts(campaignId: string, messageIds: string[], kind: 'open' | 'click', machine: boolean) {
  await sql`insert into engagement_firsts (email_message_id, kind, machine, url, campaign_id, occurred_at)
    select m, ${kind}, ${machine}, '', ${campaignId}::uuid, now() from unnest(${messageIds}::uuid[]) m`.execute(ctx.container.db);
}

async function expectCountsAddUp(org: Org, id: string) {
  const check = await countersAgainstLedger(ctx, org.id, id);
  expect(check.counters).toEqual({ ...check.ledger, held: check.counters.held });
  const progress = (await org.call('GET', `/api/v1/campaigns/${id}/progress`)).json();
  const states = ['queued', 'sending', 'sent', 'failed', 'skipped', 'cancelled', 'held'] as const;
  expect(states.reduce((sum, s) => sum + (progress[s] as number), 0)).toBe(progress.targeted);
}

describe('the A/B winner rule', () => {
  const counts = (variant: number, sent: number, humanOpens: number, machineOpens: number, humanClicks = 0) => ({
    variant,
    recipients: sent,
    sent,
    delivered: sent,
    human_unique_opens: humanOpens,
    machine_unique_opens: machineOpens,
    human_unique_clicks: humanClicks,
    machine_unique_clicks: 0,
  });
  it('takes the most human opens or clicks per email sent, never machine ones; ties go to the lowest variant', () => {
    expect(leadingVariant('human_unique_opens', [counts(0, 100, 1, 90), counts(1, 100, 2, 0)])).toBe(1);
    // Per email sent: 10 of 100 beats 10 of 101.
    expect(leadingVariant('human_unique_opens', [counts(0, 101, 10, 0), counts(1, 100, 10, 0)])).toBe(1);
    expect(leadingVariant('human_unique_opens', [counts(0, 100, 10, 0), counts(1, 100, 10, 50), counts(2, 100, 10, 0)])).toBe(0);
    expect(leadingVariant('human_unique_clicks', [counts(0, 50, 40, 0, 1), counts(1, 50, 0, 0, 2)])).toBe(1);
    expect(leadingVariant('human_unique_clicks', [counts(0, 0, 0, 0), counts(1, 0, 0, 0)])).toBe(0);
  });
});

describe('A/B test validation', () => {
  it('refuses identical variants, a share, wait or variant count out of range, and a share too small to send, with clear 422s', async () => {
    const org = await campaignOrganization(ctx, 'AB validation', 3);
    const base = { name: 'x', template_id: org.templateId, tag_filter: { include_tags: [org.tagId] } };
    const test = { variants: [{ subject: 'A' }, { subject: 'B' }], test_share: 20, metric: 'human_unique_clicks', wait_hours: 4, winner: 'auto' };
    const identical = await org.call('POST', '/api/v1/campaigns', { ...base, ab_test: { ...test, variants: [{ subject: 'Same' }, { subject: 'Same' }] } });
    expect(identical.statusCode).toBe(422);
    expect(identical.json().error.code).toBe('ab_variants_identical');
    expect(identical.json().error.message).toMatch(/Variants 1 and 2 are the same/);
    for (const wrong of [{ test_share: 4 }, { test_share: 51 }, { wait_hours: 0 }, { wait_hours: 73 }, { variants: [{ subject: 'A' }] }, { metric: 'opens' }]) {
      const res = await org.call('POST', '/api/v1/campaigns', { ...base, ab_test: { ...test, ...wrong } });
      expect(res.statusCode, JSON.stringify(wrong)).toBe(422);
    }
    const five = await org.call('POST', '/api/v1/campaigns', {
      ...base,
      ab_test: { ...test, variants: ['1', '2', '3', '4', '5'].map((subject) => ({ subject })) },
    });
    expect(five.statusCode).toBe(422);
    // A variant without changes is the campaign itself: identical to one that repeats the campaign's subject.
    const created = (await org.call('POST', '/api/v1/campaigns', { ...base, subject: 'Hello', ab_test: test })).json();
    const patch = await org.call('PATCH', `/api/v1/campaigns/${created.id}`, { ab_test: { ...test, variants: [{}, { subject: 'Hello' }] } });
    expect(patch.statusCode).toBe(422);
    expect(patch.json().error.code).toBe('ab_variants_identical');
    // Three recipients at 20 % is less than one per variant: refused before anything is sent.
    const small = await org.call('POST', `/api/v1/campaigns/${created.id}/send`, {});
    expect(small.statusCode).toBe(422);
    expect(small.json().error.code).toBe('ab_test_share_too_small');
    // An automatic winner needs per-email numbers: refused without tracking and in privacy mode; "manual" is fine.
    const big = await campaignOrganization(ctx, 'AB tracking', 20);
    const bigBase = { name: 'x', template_id: big.templateId, tag_filter: { include_tags: [big.tagId] } };
    const untracked = (await big.call('POST', '/api/v1/campaigns', { ...bigBase, tracking: false, ab_test: { ...test, test_share: 50 } })).json();
    const refused = await big.call('POST', `/api/v1/campaigns/${untracked.id}/send`, {});
    expect(refused.statusCode).toBe(422);
    expect(refused.json().error.code).toBe('ab_test_needs_tracking');
    expect(refused.json().error.message).toMatch(/tracking is off \(for this campaign or in the organization's settings\)/);
    await ctx.container.db.updateTable('organizations').set({ tracking_enabled: true, tracking_privacy: true }).where('id', '=', big.id).execute();
    const privacy = (await big.call('POST', '/api/v1/campaigns', { ...bigBase, ab_test: { ...test, test_share: 50 } })).json();
    const refusedPrivacy = await big.call('POST', `/api/v1/campaigns/${privacy.id}/send`, {});
    expect(refusedPrivacy.statusCode).toBe(422);
    expect(refusedPrivacy.json().error.message).toMatch(/Privacy mode/);
    const manual = (await big.call('POST', '/api/v1/campaigns', { ...bigBase, ab_test: { ...test, test_share: 50, winner: 'manual' } })).json();
    const accepted = await big.call('POST', `/api/v1/campaigns/${manual.id}/send`, { scheduled_at: new Date(Date.now() + 3_600_000).toISOString() });
    expect(accepted.statusCode, accepted.body).toBe(200);
    // No test: the results route says so.
    const plain = (await org.call('POST', '/api/v1/campaigns', base)).json();
    expect((await org.call('GET', `/api/v1/campaigns/${plain.id}/ab-test`)).statusCode).toBe(404);
    expect((await org.call('POST', `/api/v1/campaigns/${created.id}/ab-test/winner`, { variant: 0 })).statusCode).toBe(409);
  });
});

describe('A/B test assignment', () => {
  it('splits the frozen audience exactly, evenly and stably by a hash of campaign and subscriber, one variant each, the rest held', async () => {
    const org = await campaignOrganization(ctx, 'AB split', 1001);
    const id = await createAbCampaign(org, {
      variants: [{ subject: 'One' }, { subject: 'Two' }, { from_name: 'Three' }],
      test_share: 25,
      metric: 'human_unique_opens',
      wait_hours: 2,
      winner: 'auto',
    });
    expect((await org.call('POST', `/api/v1/campaigns/${id}/send`, {})).statusCode).toBe(200);
    // Frozen without a worker: nothing is claimed yet.
    await runJob(ctx)('campaign.start', { campaign_id: id, tick: '20261210T010000Z' });
    const ledger = async () =>
      (
        await sql<{ subscriber_id: string; status: string; variant: number | null }>`
        select subscriber_id, status, variant from campaign_recipients where campaign_id = ${id} order by subscriber_id`.execute(ctx.container.db)
      ).rows;
    const rows = await ledger();
    expect(rows).toHaveLength(1001);
    // round(1001 × 25 / 100) = 250 in the test: 84, 83, 83.
    const tested = rows.filter((r) => r.variant !== null);
    expect(tested).toHaveLength(250);
    expect(tested.every((r) => r.status === 'queued')).toBe(true);
    expect([0, 1, 2].map((v) => tested.filter((r) => r.variant === v).length)).toEqual([84, 83, 83]);
    expect(rows.filter((r) => r.variant === null).every((r) => r.status === 'held')).toBe(true);
    // The order is the hash of campaign id and subscriber id: computed here independently, it gives the same split.
    const ordered = [...rows].sort((a, b) => {
      const ha = createHash('md5')
        .update(id + a.subscriber_id)
        .digest('hex');
      const hb = createHash('md5')
        .update(id + b.subscriber_id)
        .digest('hex');
      return ha < hb ? -1 : ha > hb ? 1 : 0;
    });
    expect(ordered.map((r, position) => (position < 250 ? position % 3 : null))).toEqual(ordered.map((r) => r.variant));
    // Starting again changes nothing.
    expect(await runJob(ctx)('campaign.start', { campaign_id: id, tick: '20261210T010100Z' })).toBe('already_started');
    expect(await ledger()).toEqual(rows);
    const progress = (await org.call('GET', `/api/v1/campaigns/${id}/progress`)).json();
    expect(progress).toMatchObject({ status: 'sending', targeted: 1001, queued: 250, held: 751 });
    const results = await abResults(org, id);
    expect(results).toMatchObject({ state: 'testing', winner: null, rest: { recipients: 751, held: 751 } });
    expect(results.variants.map((v: { recipients: number }) => v.recipients)).toEqual([84, 83, 83]);
    await expectCountsAddUp(org, id);
    expect((await org.call('POST', `/api/v1/campaigns/${id}/cancel`)).statusCode).toBe(200);
    expect((await org.call('GET', `/api/v1/campaigns/${id}/progress`)).json()).toMatchObject({ held: 0, queued: 0, cancelled: 1001 });
  });
});

describe('A/B test winner', () => {
  it('lets the sweep pick the winner by human opens only once the wait is over, and sends it to the rest once through the worker', async () => {
    const org = await campaignOrganization(ctx, 'AB auto', 200);
    const id = await createAbCampaign(org, {
      variants: [{ subject: 'Subject A' }, { subject: 'Subject B', from_name: 'Team B' }],
      test_share: 50,
      metric: 'human_unique_opens',
      wait_hours: 2,
      winner: 'auto',
    });
    const worker = await startWorker(ctx);
    try {
      expect((await org.call('POST', `/api/v1/campaigns/${id}/send`, {})).statusCode).toBe(200);
      await waitFor(async () => (await abResults(org, id)).state === 'waiting', 60_000, 100);
      // Waiting for the winner: still sending, the rest held, only the test share went out, each with its variant's subject.
      expect(await status(org, id)).toBe('sending');
      const test = emailsOf(org.slug);
      expect(test).toHaveLength(100);
      expect(test.filter((e) => e.subject === 'Subject A')).toHaveLength(50);
      expect(test.filter((e) => e.subject === 'Subject B' && e.from.includes('Team B'))).toHaveLength(50);
      // Variant A has many machine opens (a mail proxy), variant B a few human ones: B wins.
      await recordFirsts(id, await messagesOf(id, 0), 'open', true);
      await recordFirsts(id, (await messagesOf(id, 1)).slice(0, 5), 'open', false);
      await recordFirsts(id, (await messagesOf(id, 0)).slice(0, 3), 'click', false);
      const before = await abResults(org, id);
      expect(before.variants[0]).toMatchObject({ recipients: 50, sent: 50, machine_unique_opens: 50, human_unique_opens: 0, human_unique_clicks: 3 });
      expect(before.variants[1]).toMatchObject({ recipients: 50, sent: 50, human_unique_opens: 5, human_open_rate: 0.1 });
      expect(before.leader).toBe(1);
      // Before the wait is over the sweep decides nothing.
      offsetMs = 2 * HOUR - 60_000;
      expect(await runJob(ctx)('campaigns.tick', { tick: '20261210T010000Z' })).toMatchObject({ decided: 0 });
      offsetMs = 2 * HOUR + 60_000;
      expect(await runJob(ctx)('campaigns.tick', { tick: '20261210T030100Z' })).toMatchObject({ decided: 1 });
      await waitFor(async () => (await status(org, id)) === 'sent', 60_000, 100);
      // A second sweep (another cron process) finds nothing to decide.
      expect(await runJob(ctx)('campaigns.tick', { tick: '20261210T030200Z' })).toMatchObject({ decided: 0 });
    } finally {
      await worker.close();
    }
    const results = await abResults(org, id);
    expect(results).toMatchObject({ state: 'decided', winner: 1, winner_chosen_by: 'auto', rest: { recipients: 100, held: 0 } });
    expect(results.winner_chosen_at).toBeTruthy();
    const all = emailsOf(org.slug);
    const { perAddress, duplicates, repeatedKeys } = deliveries(all);
    expect(perAddress.size).toBe(200);
    expect(duplicates).toEqual([]);
    expect(repeatedKeys).toBe(0);
    expect(all.filter((e) => e.subject === 'Subject B')).toHaveLength(150);
    expect((await org.call('GET', `/api/v1/campaigns/${id}/progress`)).json()).toMatchObject({ status: 'sent', targeted: 200, sent: 200, held: 0 });
    await expectCountsAddUp(org, id);
  }, 120_000);

  it('waits for an admin with winner "manual" (the timer chooses nothing) and sends the chosen variant to the rest once', async () => {
    const org = await campaignOrganization(ctx, 'AB manual', 60);
    // Variant B is another template, with its own subject.
    const other = await org.call('POST', '/api/v1/templates', {
      name: 'Other',
      slug: 'other',
      category: 'marketing',
      subject: 'Right',
      mjml_content: mjml('The other template'),
    });
    expect(other.statusCode, other.body).toBe(201);
    const id = await createAbCampaign(org, {
      variants: [{ subject: 'Left' }, { template_id: other.json().id }],
      test_share: 20,
      metric: 'human_unique_clicks',
      wait_hours: 1,
      winner: 'manual',
    });
    const worker = await startWorker(ctx);
    try {
      expect((await org.call('POST', `/api/v1/campaigns/${id}/send`, {})).statusCode).toBe(200);
      await waitFor(async () => (await abResults(org, id)).state === 'waiting', 60_000, 100);
      offsetMs = 5 * HOUR;
      await runJob(ctx)('campaigns.tick', { tick: '20261210T060000Z' });
      expect(await status(org, id)).toBe('sending');
      expect(await abResults(org, id)).toMatchObject({ state: 'waiting', winner: null });
      expect(emailsOf(org.slug)).toHaveLength(12);
      const unknown = await org.call('POST', `/api/v1/campaigns/${id}/ab-test/winner`, { variant: 2 });
      expect(unknown.statusCode).toBe(422);
      expect(unknown.json().error.code).toBe('ab_variant_unknown');
      const chosen = await org.call('POST', `/api/v1/campaigns/${id}/ab-test/winner`, { variant: 0 });
      expect(chosen.statusCode, chosen.body).toBe(200);
      expect(chosen.json()).toMatchObject({ state: 'decided', winner: 0, winner_chosen_by: 'manual' });
      const again = await org.call('POST', `/api/v1/campaigns/${id}/ab-test/winner`, { variant: 1 });
      expect(again.statusCode).toBe(409);
      expect(again.json().error.code).toBe('ab_winner_chosen');
      await waitFor(async () => (await status(org, id)) === 'sent', 60_000, 100);
    } finally {
      await worker.close();
    }
    const all = emailsOf(org.slug);
    const { perAddress, duplicates, repeatedKeys } = deliveries(all);
    expect(perAddress.size).toBe(60);
    expect(duplicates).toEqual([]);
    expect(repeatedKeys).toBe(0);
    expect(all.filter((e) => e.subject === 'Left')).toHaveLength(6 + 48);
    expect(all.filter((e) => e.subject === 'Right')).toHaveLength(6);
    await expectCountsAddUp(org, id);
  }, 120_000);

  it('lets an admin choose the winner of a paused test; the rest goes out only on resume', async () => {
    const org = await campaignOrganization(ctx, 'AB paused', 30);
    const id = await createAbCampaign(org, {
      variants: [{ subject: 'P1' }, { subject: 'P2' }],
      test_share: 20,
      metric: 'human_unique_opens',
      wait_hours: 3,
      winner: 'auto',
    });
    const worker = await startWorker(ctx);
    try {
      expect((await org.call('POST', `/api/v1/campaigns/${id}/send`, {})).statusCode).toBe(200);
      await waitFor(async () => (await abResults(org, id)).state === 'waiting', 60_000, 100);
      expect((await org.call('POST', `/api/v1/campaigns/${id}/pause`)).statusCode).toBe(200);
      // Chosen by hand before the timer: an override of the automatic winner.
      const chosen = await org.call('POST', `/api/v1/campaigns/${id}/ab-test/winner`, { variant: 1 });
      expect(chosen.json()).toMatchObject({ state: 'decided', winner: 1, winner_chosen_by: 'manual', rest: { held: 0 } });
      expect((await org.call('GET', `/api/v1/campaigns/${id}/progress`)).json()).toMatchObject({ status: 'paused', queued: 24, held: 0, sent: 6 });
      expect(emailsOf(org.slug)).toHaveLength(6);
      // The timer, once due, finds nothing to decide.
      offsetMs = 4 * HOUR;
      expect(await runJob(ctx)('campaign.ab-decide', { campaign_id: id, tick: '20261210T050000Z' })).toBe('not_applicable');
      expect((await org.call('POST', `/api/v1/campaigns/${id}/resume`)).statusCode).toBe(200);
      await waitFor(async () => (await status(org, id)) === 'sent', 60_000, 100);
    } finally {
      await worker.close();
    }
    const all = emailsOf(org.slug);
    expect(deliveries(all).perAddress.size).toBe(30);
    expect(deliveries(all).duplicates).toEqual([]);
    expect(all.filter((e) => e.subject === 'P2')).toHaveLength(3 + 24);
    await expectCountsAddUp(org, id);
  }, 120_000);

  it('decides once when two workers run the due decision at the same time', async () => {
    const org = await campaignOrganization(ctx, 'AB race', 40);
    const id = await createAbCampaign(org, {
      variants: [{ subject: 'A' }, { subject: 'B' }],
      test_share: 50,
      metric: 'human_unique_clicks',
      wait_hours: 1,
      winner: 'auto',
    });
    expect((await org.call('POST', `/api/v1/campaigns/${id}/send`, {})).statusCode).toBe(200);
    const run = runJob(ctx);
    await run('campaign.start', { campaign_id: id, tick: '20261210T010000Z' });
    expect(await run('campaign.ab-decide', { campaign_id: id, tick: '20261210T010100Z' })).toBe('not_due');
    offsetMs = HOUR + 1000;
    const outcomes = await Promise.all([
      run('campaign.ab-decide', { campaign_id: id, tick: '20261210T020100Z' }),
      run('campaign.ab-decide', { campaign_id: id, tick: '20261210T020101Z' }),
    ]);
    expect(outcomes.filter((o) => o === 'decided')).toHaveLength(1);
    expect(outcomes).toContainEqual({ winner: 0 });
    expect(await abResults(org, id)).toMatchObject({ state: 'decided', winner: 0, winner_chosen_by: 'auto', rest: { held: 0 } });
    expect((await org.call('GET', `/api/v1/campaigns/${id}/progress`)).json()).toMatchObject({ queued: 40, held: 0 });
    await expectCountsAddUp(org, id);
    // Once sending, the test cannot be changed.
    const edit = await org.call('PATCH', `/api/v1/campaigns/${id}`, {
      ab_test: { variants: [{ subject: 'C' }, { subject: 'D' }], test_share: 10, metric: 'human_unique_opens', wait_hours: 2, winner: 'manual' },
    });
    expect(edit.statusCode).toBe(409);
    expect(edit.json().error.code).toBe('campaign_invalid_state');
    expect((await org.call('POST', `/api/v1/campaigns/${id}/cancel`)).statusCode).toBe(200);
  });

  it("does not let another organization see or decide a campaign's A/B test", async () => {
    const a = await campaignOrganization(ctx, 'AB tenant A', 2);
    const b = await campaignOrganization(ctx, 'AB tenant B', 2);
    const id = await createAbCampaign(a, {
      variants: [{ subject: 'A' }, { subject: 'B' }],
      test_share: 50,
      metric: 'human_unique_clicks',
      wait_hours: 1,
      winner: 'auto',
    });
    expect((await b.call('GET', `/api/v1/campaigns/${id}/ab-test`)).statusCode).toBe(404);
    expect((await b.call('POST', `/api/v1/campaigns/${id}/ab-test/winner`, { variant: 0 })).statusCode).toBe(404);
  });
});
