// Seeds a large organization for performance work: `node scripts/seed-large.ts [--subscribers 1000000]
// [--others 100000] [--database sf_large] [--reset]`. Creates the database when missing (on the server of
// DATABASE_ADMIN_URL, default the local one), migrates it, then inserts everything with set-based
// statements (generate_series), never a row at a time:
// - organization "large" with N subscribers created over two years (80% active, 5% pending, 10%
//   unsubscribed, 4% bounced, 1% complained), ids UUIDv7 of their creation time as the app makes them,
//   addresses like 3fa9c1.user42@example.com (leading characters independent of signup time);
// - 8 tags from very common (60%) to very rare (0.01%), subscriptions spread by a hash;
// - a consent-history row for the newest 10,000 subscribers;
// - another organization with --others subscribers, so every query has a tenant to filter out.
// Prints the organization's slug; benchmarks find it by that slug.
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { migrateToLatest } from '../src/db/migrator.ts';
import type { DB } from '../src/db/types.ts';
import { newId } from '../src/lib/ids.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 && args[index + 1] ? args[index + 1]! : fallback;
};
const SUBSCRIBERS = Number(option('subscribers', '1000000'));
const OTHERS = Number(option('others', '100000'));
const DATABASE = option('database', 'sf_large');
const RESET = args.includes('--reset');
const LARGE_SLUG = 'large';
if (!/^[a-z_][a-z0-9_]*$/.test(DATABASE)) throw new Error('--database must be a plain identifier');

// Share of subscribers per tag, in percent.
const TAGS: [string, number][] = [
  ['Product news', 60],
  ['Weekly digest', 35],
  ['Events', 15],
  ['Offers', 8],
  ['Research', 3],
  ['Beta programme', 1],
  ['Partners', 0.1],
  ['Board', 0.01],
];

const adminUrl = process.env.DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
if (RESET) await admin.query(`drop database if exists ${DATABASE} with (force)`);
if ((await admin.query('select 1 from pg_database where datname = $1', [DATABASE])).rowCount === 0) await admin.query(`create database ${DATABASE}`);
await admin.end();
const url = new URL(adminUrl);
url.pathname = `/${DATABASE}`;

const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url.toString(), max: 2 }) }) });
await migrateToLatest(db as unknown as Kysely<unknown>);

const timed = async (label: string, work: () => Promise<unknown>) => {
  const started = performance.now();
  await work();
  console.log(`${label}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
};

/** Inserts `count` subscribers of an organization in one statement; ids are UUIDv7 of created_at. */
async function seedSubscribers(organizationId: string, count: number, emailPrefix: string) {
  await sql`
    insert into subscribers (id, organization_id, email, status, first_name, last_name, metadata, source, confirmed_at, unsubscribed_at, created_at, updated_at)
    select
      (substr(ms_hex, 1, 8) || '-' || substr(ms_hex, 9, 4) || '-7' || substr(h, 1, 3) || '-8' || substr(h, 4, 3) || '-' || substr(h, 7, 12))::uuid,
      ${organizationId}::uuid,
      -- The address starts with hex digits of a hash, so an email prefix says nothing about signup time.
      substr(h, 13, 6) || '.' || ${emailPrefix} || g || '@example.com',
      status,
      case when g % 3 = 0 then 'Ada' end, case when g % 3 = 0 then 'Example' end,
      case when g % 10 = 0 then jsonb_build_object('plan', 'pro') else '{}'::jsonb end,
      case when g % 4 = 0 then 'form' else 'api' end,
      case when status <> 'pending' then created end,
      case when status = 'unsubscribed' then created + (now() - created) * 0.5 end,
      created, created
    from (
      select g, md5(${emailPrefix} || g) as h,
        -- Spread over two years, in creation order like a real list, newest last.
        now() - interval '730 days' * (1 - g::float8 / ${count}) as created,
        case when g % 100 < 80 then 'active' when g % 100 < 85 then 'pending' when g % 100 < 95 then 'unsubscribed' when g % 100 < 99 then 'bounced' else 'complained' end as status
      from generate_series(1, ${count}) as g
    ) s
    cross join lateral (select lpad(to_hex((extract(epoch from created) * 1000)::bigint), 12, '0') as ms_hex) t
  `.execute(db);
}

const existing = await db.selectFrom('organizations').select('id').where('slug', '=', LARGE_SLUG).executeTakeFirst();
if (existing) {
  const { count } = await db
    .selectFrom('subscribers')
    .select(sql<number>`count(*)::int`.as('count'))
    .where('organization_id', '=', existing.id)
    .executeTakeFirstOrThrow();
  console.log(`organization "${LARGE_SLUG}" already holds ${count} subscribers in database ${DATABASE}; pass --reset to seed again`);
  await db.destroy();
  process.exit(0);
}

const organizationId = newId();
const otherId = newId();
await db
  .insertInto('organizations')
  .values([
    {
      id: organizationId,
      name: 'Large organization',
      slug: LARGE_SLUG,
      plan: 'professional',
      max_emails_per_month: 1_000_000,
      emails_sent_this_month: 123_456,
    },
    { id: otherId, name: 'Another organization', slug: 'large-neighbour' },
  ])
  .execute();

await timed(`${SUBSCRIBERS} subscribers`, () => seedSubscribers(organizationId, SUBSCRIBERS, 'user'));
await timed(`${OTHERS} subscribers of another organization`, () => seedSubscribers(otherId, OTHERS, 'other'));

const tags = TAGS.map(([name, percent]) => ({ id: newId(), organization_id: organizationId, name, slug: name.toLowerCase().replace(/\s+/g, '-'), percent }));
await db
  .insertInto('tags')
  .values(tags.map(({ percent: _percent, ...tag }) => ({ ...tag, category: 'Newsletters' })))
  .execute();
await timed('tag subscriptions', async () => {
  for (const tag of tags) {
    // A hash of (subscriber, tag) picks who holds the tag: independent across tags, the same on every run.
    await sql`
      insert into subscriber_tags (subscriber_id, tag_id, organization_id, status, source, subscribed_at, created_at, updated_at)
      select s.id, ${tag.id}::uuid, s.organization_id, 'subscribed', 'api', s.created_at, s.created_at, s.created_at
      from subscribers s
      where s.organization_id = ${organizationId} and (hashtext(s.id::text || ${tag.slug}) & 1048575) < ${Math.round((1048576 * tag.percent) / 100)}
    `.execute(db);
  }
});
await timed('consent history of the newest subscribers', () =>
  sql`
  insert into subscription_history (id, organization_id, subscriber_id, action, source, details, created_at)
  select s.id, s.organization_id, s.id, 'created', s.source, jsonb_build_object('status', s.status), s.created_at
  from (select id, organization_id, source, status, created_at from subscribers where organization_id = ${organizationId} order by id desc limit 10000) s
`.execute(db),
);
// Index-only scans need the visibility map, and the planner needs statistics.
await timed('vacuum analyze', () => sql`vacuum (analyze) subscribers, subscriber_tags, tags, subscription_history, organizations`.execute(db));

console.log(`seeded organization "${LARGE_SLUG}" (${organizationId}) in database ${DATABASE}`);
await db.destroy();
