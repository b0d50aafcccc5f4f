// `npm run bench:counts -w server`: recipient-count and segment count at the size of the database seeded
// by scripts/seed-large.ts (BENCH_DATABASE, default sf_large; seed it first), on demand, never in the
// suite. Migrates the database to the latest version first (the audience counters are filled then, timed).
// Each number is the median of 7 warm runs, through the services the API calls:
//   - recipient-count of a one-topic campaign (from the counters) and the same audience counted by SQL;
//   - segment count of "topic + active" (counters), of "status" alone (counters), of two topics (SQL);
//   - the cost the counters add to writes: a status change of 10,000 subscribers, and 10,000 topic rows.
// Goal (issue 15): ≤ 100 ms for both counts at 1M subscribers. Prints the load average beside the numbers.
import { execSync } from 'node:child_process';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { loadConfig } from '../src/config/index.ts';
import { createContainer } from '../src/container.ts';
import { migrateToLatest } from '../src/db/migrator.ts';
import { audienceCountQuery } from '../src/modules/campaigns/campaigns.repository.ts';
import { verdict } from './harness.ts';

const DATABASE = process.env.BENCH_DATABASE ?? 'sf_large';
if (!/^[a-z_][a-z0-9_]*$/.test(DATABASE)) throw new Error('BENCH_DATABASE must be a plain identifier');
const url = new URL(process.env.DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
url.pathname = `/${DATABASE}`;

const timed = async <T>(work: () => Promise<T>): Promise<[T, number]> => {
  const started = performance.now();
  const result = await work();
  return [result, performance.now() - started];
};
/** The median of 7 runs after one warm-up. */
async function median<T>(work: () => Promise<T>): Promise<[T, number]> {
  await work();
  const runs: [T, number][] = [];
  for (let run = 0; run < 7; run += 1) runs.push(await timed(work));
  return runs.sort((a, b) => a[1] - b[1])[3]!;
}

const migrator = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url.toString(), max: 1 }) }) });
const [, migrateMs] = await timed(() => migrateToLatest(migrator));
await migrator.destroy();

const container = createContainer(
  loadConfig({
    DATABASE_URL: url.toString(),
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    REDIS_PREFIX: `benchcount${process.pid}`,
    LOG_LEVEL: 'warn',
    TOKEN_SECRET: 'bench-secret-bench-secret-bench-secret-0000',
  }),
  { processName: 'bench' },
);
const { db } = container;
const { campaigns, segments } = container.services;
const organization = await db.selectFrom('organizations').select('id').where('slug', '=', 'large').executeTakeFirstOrThrow();
const org = organization.id;
const subscribers = Number((await sql<{ n: string }>`select count(*) as n from subscribers where organization_id = ${org}`.execute(db)).rows[0]!.n);
const tags = await db.selectFrom('tags').select(['id', 'slug']).where('organization_id', '=', org).orderBy('name').execute();
const topic = tags.find((t) => t.slug === 'product-news') ?? tags[0]!;
const second = tags.find((t) => t.slug === 'weekly-digest') ?? tags[1]!;
const rare = tags.find((t) => t.slug === 'board') ?? tags[tags.length - 1]!;

const campaign = await campaigns.create(org, {
  name: 'Count bench',
  template_id: null,
  segment_id: null,
  tag_filter: { include_tags: [topic.id] },
  subject: null,
  preheader: null,
  from_name: null,
  reply_to: null,
});
const [audience, recipientMs] = await median(() => campaigns.recipientCount(org, campaign.id));
const { predicate, topicTags } = await campaigns.audience(org, campaign);
const [bySql, recipientSqlMs] = await median(() =>
  db.transaction().execute(async (trx) => {
    await sql`select set_config('jit', 'off', true), set_config('work_mem', '64MB', true)`.execute(trx);
    return (await audienceCountQuery(org, predicate, topicTags).execute(trx)).rows[0]!;
  }),
);

const topicActive = {
  match: 'all' as const,
  conditions: [
    { field: 'tags', op: 'any' as const, value: [topic.id] },
    { field: 'status', op: 'eq' as const, value: 'active' },
  ],
};
const segment = await segments.create(org, { name: 'Count bench', filter: topicActive });
const [segmentCount, segmentMs] = await median(() => segments.count(org, segment.id));
const [segmentSql, segmentSqlMs] = await median(() => segments.countBySql(org, topicActive));
const statusOnly = { match: 'all' as const, conditions: [{ field: 'status', op: 'in' as const, value: ['active', 'pending'] }] };
const [, statusMs] = await median(() => segments.preview(org, statusOnly));
const twoTopics = { match: 'all' as const, conditions: [{ field: 'tags', op: 'any' as const, value: [topic.id, second.id] }] };
const [, twoTopicsMs] = await median(() => segments.preview(org, twoTopics));

await segments.remove(org, segment.id);
await campaigns.remove(org, campaign.id);
const load = execSync('uptime').toString().trim();

const ms = (value: number) => `${value.toFixed(1)} ms`;
console.log(`\n${DATABASE}: ${subscribers} subscribers in the organization; migration to latest ${(migrateMs / 1000).toFixed(1)} s`);
console.log(`load: ${load}\n`);
console.log('| measure | time | result |\n|---|---|---|');
console.log(`| recipient-count, one topic (counters) | ${ms(recipientMs)} | ${audience.count}, excluded ${JSON.stringify(audience.excluded)} |`);
console.log(`| same audience by SQL (audienceCountQuery) | ${ms(recipientSqlMs)} | ${bySql.count} |`);
console.log(`| segment count, topic + active (counters) | ${ms(segmentMs)} | ${segmentCount.count} |`);
console.log(`| same segment by SQL | ${ms(segmentSqlMs)} | ${segmentSql.count} |`);
console.log(`| segment count, status in (active, pending) (counters) | ${ms(statusMs)} | |`);
console.log(`| segment count, two topics (SQL) | ${ms(twoTopicsMs)} | |`);
// What the triggers add to writes, measured inside a transaction that is rolled back (nothing changes).
class Rollback extends Error {
  readonly result: { statusChange: number; topicRows: number };
  constructor(result: { statusChange: number; topicRows: number }) {
    super('rollback');
    this.result = result;
  }
}
const writeCost = async (withCounters: boolean) =>
  db
    .transaction()
    .execute(async (trx) => {
      if (!withCounters) await sql`alter table subscribers disable trigger subscribers_count_update`.execute(trx);
      if (!withCounters) await sql`alter table subscriber_tags disable trigger subscriber_tags_count_insert`.execute(trx);
      const [, statusChange] = await timed(() =>
        sql`update subscribers set status = 'bounced' where id in (select id from subscribers where organization_id = ${org} and status = 'active' order by id limit 10000)`.execute(
          trx,
        ),
      );
      const [, topicRows] = await timed(() =>
        sql`insert into subscriber_tags (subscriber_id, tag_id, organization_id, status, source)
          select s.id, ${rare.id}, s.organization_id, 'subscribed', 'api' from subscribers s
          where s.organization_id = ${org} and not exists (select 1 from subscriber_tags st where st.subscriber_id = s.id and st.tag_id = ${rare.id})
          order by s.id desc limit 10000`.execute(trx),
      );
      throw new Rollback({ statusChange, topicRows });
    })
    .then(() => null)
    .catch((error: unknown) => {
      if (error instanceof Rollback) return error.result;
      throw error;
    });
const costs = { with: await writeCost(true), without: await writeCost(false) };
if (costs.with && costs.without) {
  console.log(`| status change of 10,000 subscribers | ${ms(costs.with.statusChange)} with counters, ${ms(costs.without.statusChange)} without | |`);
  console.log(`| 10,000 topic rows added | ${ms(costs.with.topicRows)} with counters, ${ms(costs.without.topicRows)} without | |`);
}
console.log('');
await container.close();
const results = [
  verdict('recipient-count ≤ 100 ms', recipientMs <= 100, ms(recipientMs)),
  verdict('segment count ≤ 100 ms', segmentMs <= 100, ms(segmentMs)),
  verdict('counters = SQL (recipient-count)', audience.count === Number(bySql.count), `${audience.count} = ${bySql.count}`),
  verdict('counters = SQL (segment)', segmentCount.count === segmentSql.count, `${segmentCount.count} = ${segmentSql.count}`),
];
process.exit(results.every(Boolean) ? 0 : 1);
