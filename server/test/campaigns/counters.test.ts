import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.ts';
import { createFakeResend } from '../support/fake-resend.ts';
import { resendConfig } from '../email/helpers.ts';
import { campaignOrganization, countersAgainstLedger, runJob } from './support.ts';

const fake = createFakeResend({ recordBodies: false });
let ctx: TestContext;

beforeAll(async () => {
  await fake.start();
  ctx = await createTestContext(resendConfig(fake, { PROVIDER_RATE_LIMIT_PER_SECOND: '0' }));
});
afterAll(async () => {
  await ctx?.close();
  await fake.close();
});

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

describe('campaign counters', () => {
  it('serves the progress and stats of a 100,000-recipient campaign from its counters, without reading the ledger', async () => {
    const org = await campaignOrganization(ctx, 'Hundred thousand', 100_000);
    const created = await org.call('POST', '/api/v1/campaigns', { name: 'Big', template_id: org.templateId, tag_filter: { include_tags: [org.tagId] } });
    const id = created.json().id as string;
    expect((await org.call('POST', `/api/v1/campaigns/${id}/send`, {})).statusCode).toBe(200);
    // The snapshot: one insert-select of 100,000 ledger rows, counted by one statement-level upsert.
    await runJob(ctx)('campaign.start', { campaign_id: id, tick: '20261208T070000Z' });
    const db = ctx.container.db;
    // A set-based change of 40,000 rows in one statement (as a cancel or settle makes) is counted at once.
    await sql`
      update campaign_recipients set status = 'skipped', reason = 'suppressed'
      where campaign_id = ${id} and subscriber_id in (select subscriber_id from campaign_recipients where campaign_id = ${id} order by subscriber_id limit 40000)`.execute(
      db,
    );
    const check = await countersAgainstLedger(ctx, org.id, id);
    expect(check.counters).toEqual(check.ledger);
    expect(check.counters).toMatchObject({ queued: 60_000, skipped: 40_000 });
    expect(check.skippedCounters).toEqual({ suppressed: 40_000 });
    expect(check.total).toBe(100_000);

    // With the ledger locked against every reader, progress and stats still answer: they never read it.
    await db.transaction().execute(async (trx) => {
      await sql`lock table campaign_recipients in access exclusive mode`.execute(trx);
      const timeout = new Promise<'blocked'>((resolve) => setTimeout(() => resolve('blocked'), 5000));
      const progress = await Promise.race([org.call('GET', `/api/v1/campaigns/${id}/progress`), timeout]);
      expect(progress).not.toBe('blocked');
      expect(progress !== 'blocked' && progress.json()).toMatchObject({ status: 'sending', targeted: 100_000, queued: 60_000, skipped: 40_000, sent: 0 });
      const stats = await Promise.race([org.call('GET', `/api/v1/campaigns/${id}/stats`), timeout]);
      expect(stats).not.toBe('blocked');
      expect(stats !== 'blocked' && stats.json()).toMatchObject({
        targeted: 100_000,
        queued: 60_000,
        skipped: 40_000,
        skipped_by_reason: { suppressed: 40_000 },
      });
    });

    // And it answers in a few milliseconds (the whole HTTP request, in process).
    const times: number[] = [];
    for (let i = 0; i < 30; i += 1) {
      const started = performance.now();
      expect((await org.call('GET', `/api/v1/campaigns/${id}/progress`)).statusCode).toBe(200);
      times.push(performance.now() - started);
    }
    const started = performance.now();
    await countersAgainstLedger(ctx, org.id, id);
    const freshCountMs = performance.now() - started;
    console.info(
      `progress of a 100k campaign: median ${median(times).toFixed(1)} ms over 30 requests; a fresh count of the ledger: ${freshCountMs.toFixed(0)} ms`,
    );
    expect(median(times)).toBeLessThan(25);
  }, 180_000);
});
