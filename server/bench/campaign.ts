// `npm run bench:campaign -w server`: one campaign fanned out by the compiled worker to the fake Resend
// server (no latency, no rate limit). On demand, never in the test suite. Measures:
//   - recipient-count and segment count at N subscribers (goal ≤ 100 ms at 1M);
//   - snapshot: the campaign's own insert-select of the audience into the ledger, and in the same run the
//     floor: the raw insert-select of the same rows into an unlogged copy of the ledger table;
//   - recipients/s end to end (send request → status sent), worker peak RSS, ledger bytes per recipient,
//     CPU time per 1,000 recipients of the worker(s) and of their PostgreSQL backends (BENCH_WORKERS=2: two workers);
//   - exactly once: every address received exactly one email.
//   - rate runs: the provider limited to 2 requests/s (100 emails per batch request), plain and with 20 %
//     of the requests answered 429 + Retry-After: never above the limit in any second, ≥ 97 % of it used,
//     with a per-second histogram (BENCH_RATE_RECIPIENTS, default 4,000; BENCH_RATE=0 skips them).
// BENCH_SEND=0 stops after the counts (BENCH_EXPLAIN=1 prints the recipient-count plan).
// BENCH_RECIPIENTS (default 100,000) sets N; the goal of the issue is 1,000,000 in ≤ 100 s.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { sql } from 'kysely';
import { loadConfig } from '../src/config/index.ts';
import { createContainer } from '../src/container.ts';
import { audienceCountQuery } from '../src/modules/campaigns/campaigns.repository.ts';
import { createFakeResend } from '../test/support/fake-resend.ts';
import { backendPids, cpuMs, peakRssMb, scratchDatabase, serverDir, startBuiltWorker, verdict, withApplicationName } from './harness.ts';

const RECIPIENTS = Number(process.env.BENCH_RECIPIENTS ?? 100_000);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const TOKEN_SECRET = 'bench-secret-bench-secret-bench-secret-0000';

execFileSync(process.execPath, [path.join(serverDir, '../node_modules/typescript/bin/tsc'), '-p', path.join(serverDir, 'tsconfig.build.json')], {
  stdio: 'inherit',
});
const database = await scratchDatabase();
const fake = createFakeResend({ recordBodies: false });
await fake.start();
const prefix = `benchc${process.pid}`;
const base = {
  DATABASE_URL: database.url,
  REDIS_URL,
  REDIS_PREFIX: prefix,
  TOKEN_SECRET,
  LOG_LEVEL: 'warn',
  EMAIL_PROVIDER: 'resend',
  RESEND_API_KEY: 're_bench',
  RESEND_BASE_URL: fake.url,
  PROVIDER_RATE_LIMIT_PER_SECOND: '0',
  // A real provider needs public https links and senders on a real domain (the start checks refuse others).
  PUBLIC_API_URL: 'https://api.news.example.net',
  PREFERENCES_APP_URL: 'https://api.news.example.net/preferences',
  ADMIN_APP_URL: 'https://api.news.example.net/admin',
  EMAIL_DEFAULT_FROM: 'Subscribe Flow <no-reply@news.example.net>',
  AUTH_EMAIL_FROM: 'Subscribe Flow <login@news.example.net>',
};
const container = createContainer(loadConfig({ ...base, DATABASE_POOL_MAX: '10' }), { processName: 'bench' });
const { db } = container;
const { organization } = await container.services.organizations.createWithOwner({ name: 'Bench Campaigns', adminEmail: 'bench@campaign.test' });
await db.updateTable('organizations').set({ postal_address: '1 Bench Street, Berlin' }).where('id', '=', organization.id).execute();
const template = await container.services.templates.create(organization.id, {
  name: 'Newsletter',
  slug: 'newsletter',
  category: 'marketing',
  subject: 'News for {{ subscriber.first_name | default: "you" }}',
  mjml_content:
    '<mjml><mj-body><mj-section><mj-column><mj-text>Hello {{ subscriber.first_name | default: "reader" }},</mj-text>' +
    '<mj-text>This month in the project.</mj-text><mj-button href="https://example.com/news">Read more</mj-button></mj-column></mj-section></mj-body></mjml>',
});
const tag = await container.services.tags.create(organization.id, { name: 'News' });

const timed = async <T>(work: () => Promise<T>): Promise<[T, number]> => {
  const started = performance.now();
  const result = await work();
  return [result, performance.now() - started];
};

// N active subscribers of the topic, plus 10 % who left it and 10 % bounced (the count must leave them out).
const [, seedMs] = await timed(() =>
  sql`
  with s as (
    insert into subscribers (id, organization_id, email, status, first_name, source, confirmed_at)
    select gen_random_uuid(), ${organization.id}::uuid, 'r' || g || '@bench.test', case when g % 10 = 0 then 'bounced' else 'active' end,
           case when g % 3 = 0 then 'Ada' end, 'import', now()
    from generate_series(1, ${Math.round(RECIPIENTS / 0.8)}) g
    returning id, email
  )
  insert into subscriber_tags (subscriber_id, tag_id, organization_id, status, source, subscribed_at)
  select s.id, ${tag.id}::uuid, ${organization.id}::uuid, case when right(s.email, 12) like '5@%' then 'unsubscribed' else 'subscribed' end, 'import', now() from s`.execute(
    db,
  ),
);
await sql`vacuum analyze subscribers, subscriber_tags`.execute(db);

const campaign = await container.services.campaigns.create(organization.id, {
  name: 'Bench',
  template_id: template.id,
  segment_id: null,
  tag_filter: { include_tags: [tag.id] },
  subject: null,
  preheader: null,
  from_name: null,
  reply_to: null,
});
await container.services.campaigns.recipientCount(organization.id, campaign.id);
// The median of five warm runs.
const countRuns: [Awaited<ReturnType<typeof container.services.campaigns.recipientCount>>, number][] = [];
for (let run = 0; run < 5; run += 1) countRuns.push(await timed(() => container.services.campaigns.recipientCount(organization.id, campaign.id)));
const [audience, countMs] = countRuns.sort((a, b) => a[1] - b[1])[2]!;
const segment = await container.services.segments.create(organization.id, {
  name: 'News',
  filter: {
    match: 'all',
    conditions: [
      { field: 'tags', op: 'any', value: [tag.id] },
      { field: 'status', op: 'eq', value: 'active' },
    ],
  },
});
const [, segmentMs] = await timed(() => container.services.segments.count(organization.id, segment.id));

// Where the time of the counts goes (BENCH_EXPLAIN=1): the recipient-count statement's plan, as run.
if (process.env.BENCH_EXPLAIN === '1') {
  const { predicate: countPredicate, topicTags } = await container.services.campaigns.audience(organization.id, campaign);
  const compiled = audienceCountQuery(organization.id, countPredicate, topicTags).compile(db);
  const plan = await db.transaction().execute(async (trx) => {
    await sql`select set_config('jit', 'off', true), set_config('work_mem', '64MB', true)`.execute(trx);
    return trx.executeQuery<{ 'QUERY PLAN': string }>({ ...compiled, sql: `explain (analyze, buffers) ${compiled.sql}` });
  });
  console.log(`\nrecipient-count (${countMs.toFixed(0)} ms):\n${plan.rows.map((r) => r['QUERY PLAN']).join('\n')}`);
}
if (process.env.BENCH_SEND === '0') {
  console.log(`\n| recipients | ${audience.count} |\n| recipient-count | ${countMs.toFixed(0)} ms |\n| segment count | ${segmentMs.toFixed(0)} ms |`);
  await container.close();
  await fake.close();
  await database.drop();
  process.exit(0);
}

// The floor: the same rows by a bare insert-select into an unlogged copy of the ledger.
await sql`create unlogged table bench_ledger (like campaign_recipients including defaults)`.execute(db);
const predicate = (await container.services.campaigns.audience(organization.id, campaign)).predicate;
const [, floorMs] = await timed(() =>
  sql`
  insert into bench_ledger (campaign_id, subscriber_id, organization_id)
  select ${campaign.id}::uuid, s.id, s.organization_id from subscribers s
  where s.organization_id = ${organization.id} and s.status = 'active' and ${predicate}`.execute(db),
);
await sql`drop table bench_ledger`.execute(db);

// The worker's connections carry an application name (with this run's pid: other runs may share the server), so the CPU its PostgreSQL backends use can be read too:
// on a machine shared with other work, CPU time per recipient says more than the wall clock.
const WORKER_APP = `bench-worker-${process.pid}`;
const startWorker = () => startBuiltWorker({ ...base, DATABASE_URL: withApplicationName(database.url, WORKER_APP) }, 120_000);

// BENCH_WORKERS (default 1): worker processes sending the campaign together.
const WORKERS = Number(process.env.BENCH_WORKERS ?? 1);
const workers = await Promise.all(Array.from({ length: WORKERS }, startWorker));
const workerPids = workers.map((w) => w.child.pid!);
const peakRss = () => Math.max(...workerPids.map(peakRssMb));
const started = performance.now();
const sentAt = new Date();
await container.services.campaigns.send(organization.id, campaign.id, {});
let row;
let lastProgress = performance.now();
for (;;) {
  row = await db
    .selectFrom('campaigns')
    .select(['status', 'started_at', 'targeted_count', 'created_at'])
    .where('id', '=', campaign.id)
    .executeTakeFirstOrThrow();
  if (row.status === 'sent' || row.status === 'failed') break;
  // Progress on long runs (1M): what the fake has accepted so far, the rate since the start, the worker's peak RSS.
  if (performance.now() - lastProgress > 30_000) {
    lastProgress = performance.now();
    const elapsed = (lastProgress - started) / 1000;
    console.log(
      `progress: ${fake.emails.length} of ${row.targeted_count} accepted after ${elapsed.toFixed(0)} s (${Math.round(fake.emails.length / elapsed)}/s), worker peak RSS ${peakRss()} MB`,
    );
  }
  await new Promise((resolve) => setTimeout(resolve, 250));
}
const seconds = (performance.now() - started) / 1000;
const rss = peakRss();
const workerCpuMs = cpuMs(workerPids);
const databaseCpuMs = cpuMs(await backendPids(database.url, WORKER_APP));
await Promise.all(workers.map((w) => w.stop()));
// started_at is set after the insert-select, in its transaction: the snapshot is the time from the send
// request to started_at; the first message follows when the first claim commits.
const snapshot = await sql<{ ms: number; first_ms: number }>`
  select extract(epoch from (c.started_at - ${sentAt}::timestamptz)) * 1000 as ms, extract(epoch from (min(m.created_at) - ${sentAt}::timestamptz)) * 1000 as first_ms
  from campaigns c join email_messages m on m.campaign_id = c.id where c.id = ${campaign.id} group by c.started_at`.execute(db);
const ledger = await sql<{ bytes: number }>`select pg_total_relation_size('campaign_recipients') as bytes`.execute(db);
const bytesPerRecipient = Number(ledger.rows[0]!.bytes) / row.targeted_count;
const perAddress = new Map<string, number>();
for (const email of fake.emails) for (const to of email.to) perAddress.set(to, (perAddress.get(to) ?? 0) + 1);
const twice = [...perAddress.values()].filter((n) => n > 1).length;
const rate = row.targeted_count / seconds;

console.log(
  `\nseeded ${Math.round(RECIPIENTS / 0.8)} subscribers in ${(seedMs / 1000).toFixed(1)} s; audience ${audience.count}, excluded ${JSON.stringify(audience.excluded)}`,
);
console.log('\n| measure | value |');
console.log('|---|---:|');
console.log(`| recipients | ${row.targeted_count} |`);
console.log(`| recipient-count | ${countMs.toFixed(0)} ms |`);
console.log(`| segment count | ${segmentMs.toFixed(0)} ms |`);
console.log(
  `| snapshot (send request → audience frozen: the start job's insert-select into the ledger) | ${Number(snapshot.rows[0]?.ms ?? Number.NaN).toFixed(0)} ms |`,
);
console.log(`| send request → first message stored | ${Number(snapshot.rows[0]?.first_ms ?? Number.NaN).toFixed(0)} ms |`);
console.log(`| floor: bare insert-select of the same rows (unlogged) | ${floorMs.toFixed(0)} ms |`);
console.log(`| end to end (send → sent) | ${seconds.toFixed(1)} s |`);
console.log(`| recipients/s | ${Math.round(rate)} |`);
console.log(`| worker processes | ${WORKERS} |`);
console.log(`| worker peak RSS (the largest of them) | ${rss} MB |`);
console.log(`| workers' CPU per 1,000 recipients (whole run, start-up included) | ${((workerCpuMs / row.targeted_count) * 1000).toFixed(0)} ms |`);
console.log(`| its PostgreSQL backends' CPU per 1,000 recipients | ${((databaseCpuMs / row.targeted_count) * 1000).toFixed(0)} ms |`);
console.log(`| ledger bytes per recipient (table + indexes) | ${Math.round(bytesPerRecipient)} |`);
console.log(`| emails accepted by the fake / addresses sent twice | ${fake.emails.length} / ${twice} |\n`);

// Rate runs: the provider limited to RATE requests/s (Resend's default is 2), 100 emails per batch request;
// the worker's gate set to the same limit. Then again with a fifth of the requests answered 429 + Retry-After.
const RATE = 2;
const RATE_RECIPIENTS = Number(process.env.BENCH_RATE_RECIPIENTS ?? 4000);
async function rateRun(label: string, throttle: { share: number; retryAfterSeconds: number } | null) {
  fake.reset();
  fake.setRateLimit({ requests: RATE });
  fake.setThrottle(throttle);
  const { organization: org } = await container.services.organizations.createWithOwner({
    name: `Bench rate ${label}`,
    adminEmail: `rate-${label}@campaign.test`,
  });
  await db.updateTable('organizations').set({ postal_address: '1 Bench Street, Berlin' }).where('id', '=', org.id).execute();
  const tpl = await container.services.templates.create(org.id, {
    name: 'Newsletter',
    slug: 'newsletter',
    category: 'marketing',
    subject: 'News',
    mjml_content:
      '<mjml><mj-body><mj-section><mj-column><mj-text>Hello {{ subscriber.first_name | default: "reader" }}</mj-text></mj-column></mj-section></mj-body></mjml>',
  });
  const topic = await container.services.tags.create(org.id, { name: 'News' });
  await sql`
    with s as (
      insert into subscribers (id, organization_id, email, status, source, confirmed_at)
      select gen_random_uuid(), ${org.id}::uuid, ${label} || '-' || g || '@rate.test', 'active', 'import', now() from generate_series(1, ${RATE_RECIPIENTS}) g
      returning id
    )
    insert into subscriber_tags (subscriber_id, tag_id, organization_id, status, source, subscribed_at)
    select s.id, ${topic.id}::uuid, ${org.id}::uuid, 'subscribed', 'import', now() from s`.execute(db);
  const c = await container.services.campaigns.create(org.id, {
    name: `Rate ${label}`,
    template_id: tpl.id,
    segment_id: null,
    tag_filter: { include_tags: [topic.id] },
    subject: null,
    preheader: null,
    from_name: null,
    reply_to: null,
  });
  const limited = await startBuiltWorker({ ...base, PROVIDER_RATE_LIMIT_PER_SECOND: String(RATE) }, 120_000);
  await container.services.campaigns.send(org.id, c.id, {});
  let state;
  for (;;) {
    state = await db.selectFrom('campaigns').select('status').where('id', '=', c.id).executeTakeFirstOrThrow();
    if (state.status === 'sent' || state.status === 'failed') break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await limited.stop();
  const requests = fake.requests.filter((r) => r.path === '/emails/batch').sort((a, b) => a.at - b.at);
  const first = requests[0]!.at;
  const spanSeconds = (requests.at(-1)!.at - first) / 1000;
  const perSecond = new Map<number, number>();
  for (const r of requests) perSecond.set(Math.floor((r.at - first) / 1000), (perSecond.get(Math.floor((r.at - first) / 1000)) ?? 0) + 1);
  const seconds = Math.floor(spanSeconds) + 1;
  const histogram = new Map<number, number>();
  for (let second = 0; second < seconds; second += 1) histogram.set(perSecond.get(second) ?? 0, (histogram.get(perSecond.get(second) ?? 0) ?? 0) + 1);
  const maxInWindow = fake.maxRequestsInWindow(1000);
  // Share of the limit used: requests over the slots of the span (a perfectly paced run fills every slot).
  const used = requests.length / (RATE * (spanSeconds + 1));
  const addresses = new Map<string, number>();
  for (const email of fake.emails) for (const to of email.to) addresses.set(to, (addresses.get(to) ?? 0) + 1);
  const doubled = [...addresses.values()].filter((n) => n > 1).length;
  const refused = requests.filter((r) => r.status === 429).length;
  console.log(
    `\nrate run "${label}": ${RATE_RECIPIENTS} recipients, limit ${RATE} requests/s${throttle ? `, ${throttle.share * 100} % answered 429 + Retry-After ${throttle.retryAfterSeconds} s` : ''}`,
  );
  console.log(
    `  ${requests.length} batch requests (${refused} answered 429) over ${spanSeconds.toFixed(1)} s; most in any 1 s window: ${maxInWindow}; used ${(used * 100).toFixed(1)} % of the limit`,
  );
  console.log(
    `  requests per second, histogram: ${[...histogram]
      .sort((a, b) => a[0] - b[0])
      .map(([n, count]) => `${n}/s × ${count} s`)
      .join(', ')}`,
  );
  console.log(`  emails ${fake.emails.length}, addresses ${addresses.size}, sent twice ${doubled}, status ${state.status}`);
  return [
    verdict(`${label}: never above ${RATE}/s`, maxInWindow <= RATE, `most ${maxInWindow} in any 1 s window`),
    verdict(`${label}: ≥ 97 % of the limit used`, used >= 0.97, `${(used * 100).toFixed(1)} %`),
    verdict(
      `${label}: exactly once`,
      addresses.size === RATE_RECIPIENTS && doubled === 0 && state.status === 'sent',
      `${addresses.size} addresses, ${doubled} twice`,
    ),
  ];
}
const rateVerdicts =
  process.env.BENCH_RATE === '0' ? [] : [...(await rateRun('limited', null)), ...(await rateRun('throttled', { share: 0.2, retryAfterSeconds: 1 }))];

const ok = [
  verdict('exactly once', perAddress.size === row.targeted_count && twice === 0, `${perAddress.size} addresses, ${twice} twice`),
  verdict('status sent', row.status === 'sent', row.status),
  verdict('recipient-count ≤ 100 ms', countMs <= 100, `${countMs.toFixed(0)} ms at ${row.targeted_count}`),
  verdict('segment count ≤ 100 ms', segmentMs <= 100, `${segmentMs.toFixed(0)} ms at ${row.targeted_count}`),
  verdict('worker RSS ≤ 250 MB', rss <= 250, `${rss} MB`),
  ...rateVerdicts,
].every(Boolean);
await container.close();
await fake.close();
await database.drop();
process.exit(ok ? 0 : 1);
