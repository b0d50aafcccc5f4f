// `node server/bench/analytics.ts`: campaign analytics and the organization timeseries read from the
// rollups that 10 million opens and clicks leave behind. The events themselves are not inserted: the
// reads never touch them. One campaign takes 10,000,000 hits spread over 90 days (every hour, 2 kinds,
// human and machine, the campaign as a whole and 20 links, as many rollup rows as such a campaign can
// have), beside 200 ordinary campaigns of the same organization (48 hours each). Target ≤ 300 ms.
import { sql } from 'kysely';
import { loadConfig } from '../src/config/index.ts';
import { createContainer } from '../src/container.ts';
import { scratchDatabase, verdict } from './harness.ts';

const RUNS = 20;
const database = await scratchDatabase();
const container = createContainer(
  loadConfig({
    DATABASE_URL: database.url,
    TOKEN_SECRET: 'bench-secret-bench-secret-bench-secret-0000',
    LOG_LEVEL: 'warn',
    REDIS_PREFIX: `benchan${process.pid}`,
  }),
  { processName: 'bench' },
);
const { db } = container;
const { organization } = await container.services.organizations.createWithOwner({ name: 'Bench Analytics', adminEmail: 'bench@analytics.test' });
const template = await container.services.templates.create(organization.id, {
  name: 'N',
  slug: 'n',
  category: 'marketing',
  subject: 'N',
  mjml_content: '<mjml><mj-body><mj-section><mj-column><mj-text>Hi</mj-text></mj-column></mj-section></mj-body></mjml>',
});
const tag = await container.services.tags.create(organization.id, { name: 'News' });
const make = (name: string) =>
  container.services.campaigns.create(organization.id, {
    name,
    template_id: template.id,
    segment_id: null,
    tag_filter: { include_tags: [tag.id] },
    subject: null,
    preheader: null,
    from_name: null,
    reply_to: null,
  });
const big = await make('Big');
const others = await Promise.all(Array.from({ length: 200 }, (_, i) => make(`Other ${i}`)));
const start = new Date(Date.now() - 90 * 86_400_000);
await db.updateTable('campaigns').set({ status: 'sent', started_at: start }).where('organization_id', '=', organization.id).execute();
const started = performance.now();
// 2,160 hours × 2 kinds × human/machine × 21 keys = 181,440 rows; their totals add up to 10,000,000.
await sql`
  insert into engagement_rollups (organization_id, campaign_id, bucket, kind, machine, url, total, uniques)
  select ${organization.id}::uuid, ${big.id}::uuid, ${start}::timestamptz + make_interval(hours => h), k, m, u, 55, 3
  from generate_series(0, 2159) h, unnest(array['open', 'click']) k, unnest(array[false, true]) m,
       unnest(array[''] || array(select 'https://example.com/link/' || g from generate_series(1, 20) g)) u`.execute(db);
await sql`
  insert into engagement_rollups (organization_id, campaign_id, bucket, kind, machine, url, total, uniques)
  select ${organization.id}::uuid, c, ${start}::timestamptz + make_interval(hours => h), k, m, u, 5, 1
  from unnest(${others.map((o) => o.id)}::uuid[]) c, generate_series(0, 47) h, unnest(array['open', 'click']) k, unnest(array[false, true]) m,
       unnest(array['', 'https://example.com/a', 'https://example.com/b']) u`.execute(db);
await sql`vacuum analyze engagement_rollups`.execute(db);
const rows = await sql<{
  n: string;
  total: string;
}>`select count(*)::text as n, sum(total)::text as total from engagement_rollups where campaign_id = ${big.id}`.execute(db);
console.log(`seeded ${rows.rows[0]!.n} rollup rows (${rows.rows[0]!.total} hits) for the big campaign in ${Math.round(performance.now() - started)} ms`);

async function time(label: string, work: () => Promise<unknown>): Promise<number> {
  await work();
  const times: number[] = [];
  for (let i = 0; i < RUNS; i += 1) {
    const t = performance.now();
    await work();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const p95 = times[Math.floor(RUNS * 0.95) - 1]!;
  console.log(`${label}: p50 ${times[Math.floor(RUNS / 2)]!.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms`);
  return p95;
}

const { analytics } = container.services;
const campaignP95 = await time('GET /campaigns/{id}/analytics (10M hits)', () => analytics.campaign(organization.id, big.id));
const seriesP95 = await time('GET /analytics/timeseries?metric=opens (90 days, daily)', () =>
  analytics.timeseries(organization.id, { metric: 'opens', from: start.toISOString(), interval: 'day' }),
);
const ok = [
  verdict('campaign analytics', campaignP95 <= 300, `p95 ${campaignP95.toFixed(1)} ms (target ≤ 300 ms)`),
  verdict('organization timeseries', seriesP95 <= 300, `p95 ${seriesP95.toFixed(1)} ms (target ≤ 300 ms)`),
].every(Boolean);
await container.close();
await database.drop();
process.exit(ok ? 0 : 1);
