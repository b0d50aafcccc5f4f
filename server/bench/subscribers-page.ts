// `node bench/subscribers-page.ts`: how long the API takes to answer the admin dashboard's subscribers
// page (GET /api/v1/subscribers?limit=50, newest first) for an organization of 1,000,000 subscribers,
// without and with each filter, plus the overview's aggregates. Needs the database `scripts/seed-large.ts`
// makes (BENCH_DATABASE, default sf_large) and Redis (REDIS_URL, default local).
// The API runs in this process through the real composition root; each request goes through Fastify
// (inject: routing, auth, validation, serialization) and PostgreSQL, so the time is the API's time
// without the network. Target: p95 ≤ 300 ms for every first page.
import { seededInProcessApi } from './harness.ts';

const DATABASE = process.env.BENCH_DATABASE ?? 'sf_large';
const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const WARMUP = 3;
const TARGET_MS = 300;

const { app, container, organizationId, subscribers, headers, keyId } = await seededInProcessApi(DATABASE, 'benchpage', ['subscribers:read', 'tags:read']);

async function get(url: string): Promise<{ ms: number; body: { items?: unknown[]; next_cursor?: string | null } }> {
  const started = performance.now();
  const res = await app.inject({ method: 'GET', url, headers });
  const ms = performance.now() - started;
  if (res.statusCode !== 200) throw new Error(`${url}: HTTP ${res.statusCode} ${res.body.slice(0, 200)}`);
  return { ms, body: res.json() };
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

async function measure(label: string, url: string, firstPage = true, before?: () => Promise<unknown>) {
  for (let i = 0; i < WARMUP; i += 1) await get(url);
  const times: number[] = [];
  let rows = 0;
  for (let i = 0; i < RUNS; i += 1) {
    await before?.();
    const { ms, body } = await get(url);
    times.push(ms);
    rows = body.items?.length ?? 0;
  }
  times.sort((a, b) => a - b);
  const p95 = percentile(times, 95);
  return { label, url, rows, median: percentile(times, 50), p95, max: times.at(-1)!, ok: !firstPage || p95 <= TARGET_MS };
}

// A real address of the organization, for the "one address" search.
const sample = await container.db
  .selectFrom('subscribers')
  .select('email')
  .where('organization_id', '=', organizationId)
  .orderBy('id')
  .limit(1)
  .offset(123_456)
  .executeTakeFirstOrThrow();
const base = '/api/v1/subscribers?limit=50';
// The overview keeps a large organization's counts in Redis for a minute; "counting" runs measure without.
const uncache = () => container.redis.del(`${container.config.REDIS_PREFIX}:stats:counts:${organizationId}`);
const second = (await get(base)).body.next_cursor!;
const results = [
  await measure('first page, no filter', base),
  await measure('second page (cursor)', `${base}&cursor=${second}`),
  await measure('status=active (80%)', `${base}&status=active`),
  await measure('status=complained (1%)', `${base}&status=complained`),
  await measure('tag=product-news (60%)', `${base}&tag=product-news`),
  await measure('tag=beta-programme (1%)', `${base}&tag=beta-programme`),
  await measure('tag=board (0.01%)', `${base}&tag=board`),
  await measure('q=a (email prefix, 6%)', `${base}&q=a`),
  await measure('q=a5 (email prefix, 0.4%)', `${base}&q=a5`),
  await measure('q=a5f (email prefix, 0.02%)', `${base}&q=a5f`),
  await measure('q=<one full address>', `${base}&q=${encodeURIComponent(sample.email)}`),
  await measure('status=unsubscribed & tag=events', `${base}&status=unsubscribed&tag=events`),
  await measure('stats overview, counting', '/api/v1/stats/overview', false, uncache),
  await measure('stats overview, counts cached', '/api/v1/stats/overview', false),
  await measure('stats growth 90 days, counting', '/api/v1/stats/growth?days=90', false, uncache),
  await measure('stats growth 90 days, counts cached', '/api/v1/stats/growth?days=90', false),
];

console.log(
  `\nGET /api/v1/subscribers for an organization of ${subscribers.toLocaleString('en')} subscribers (database ${DATABASE}), ${RUNS} runs after ${WARMUP} warm-up\n`,
);
console.log(`${'case'.padEnd(38)} ${'rows'.padStart(5)} ${'median'.padStart(9)} ${'p95'.padStart(9)} ${'max'.padStart(9)}`);
for (const r of results) {
  console.log(
    `${r.label.padEnd(38)} ${String(r.rows).padStart(5)} ${r.median.toFixed(1).padStart(7)}ms ${r.p95.toFixed(1).padStart(7)}ms ${r.max.toFixed(1).padStart(7)}ms${r.ok ? '' : '  ✗ over target'}`,
  );
}
const failed = results.filter((r) => !r.ok);
console.log(failed.length ? `\n✗ ${failed.length} case(s) over ${TARGET_MS} ms p95` : `\n✓ every subscribers page within ${TARGET_MS} ms p95`);

await container.services.apiKeys.revoke(organizationId, keyId);
await app.close();
await container.close();
process.exitCode = failed.length ? 1 : 0;
