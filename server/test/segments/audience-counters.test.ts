import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/lib/ids.ts';
import { audienceCountQuery, topicAudienceCountQuery } from '../../src/modules/campaigns/campaigns.repository.ts';
import { counterShape, createAudienceCounts } from '../../src/modules/segments/audience-counts.ts';
import { createTestContext, type TestContext } from '../support/context.ts';

// The audience counters (migration 20261210T0500) against the tables they count: every write path the
// application uses, run concurrently from several connections, must leave counter = count(*) exactly.

let ctx: TestContext;
let pool: pg.Pool;
let orgA: string;
let orgB: string;
const tagsA: string[] = [];
let tagB: string;
const STATUSES = ['pending', 'active', 'unsubscribed', 'bounced', 'complained'];

beforeAll(async () => {
  ctx = await createTestContext();
  pool = new pg.Pool({ connectionString: ctx.databaseUrl, max: 10 });
  orgA = (await ctx.createOrganization('Counters A')).id;
  orgB = (await ctx.createOrganization('Counters B')).id;
  for (const name of ['One', 'Two', 'Three', 'Four']) tagsA.push((await ctx.container.services.tags.create(orgA, { name })).id);
  tagB = (await ctx.container.services.tags.create(orgB, { name: 'One' })).id;
});
afterAll(async () => {
  await pool.end();
  await ctx.close();
});

/** Counter sums and true counts, keyed alike; equal when the counters are exact. */
async function compare() {
  const [kept, truth, keptTags, truthTags] = await Promise.all([
    pool.query(`select organization_id || ':' || status as k, sum(n)::int as n from subscriber_counts group by 1 having sum(n) <> 0 order by 1`),
    pool.query(`select organization_id || ':' || status as k, count(*)::int as n from subscribers group by 1 order by 1`),
    pool.query(
      `select concat_ws(':', organization_id, tag_id, subscriber_status, tag_status) as k, sum(n)::int as n from subscriber_tag_counts group by 1 having sum(n) <> 0 order by 1`,
    ),
    pool.query(
      `select concat_ws(':', st.organization_id, st.tag_id, s.status, st.status) as k, count(*)::int as n
       from subscriber_tags st join subscribers s on s.id = st.subscriber_id group by 1 order by 1`,
    ),
  ]);
  return { kept: kept.rows, truth: truth.rows, keptTags: keptTags.rows, truthTags: truthTags.rows };
}

const pick = <T>(list: readonly T[], random: () => number): T => list[Math.floor(random() * list.length)]!;

/** A small deterministic generator, so a failure can be run again as it was. */
function generator(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** One transaction of one of the shapes the application writes in, on subscribers of `org`. */
async function randomWrite(client: pg.PoolClient, random: () => number, org: string, tags: readonly string[], worker: number, step: number) {
  const some = `(select id from subscribers where organization_id = $1 order by md5(id::text || $2) limit $3)`;
  const salt = `${worker}-${step}`;
  const kind = Math.floor(random() * 9);
  await client.query('begin');
  try {
    switch (kind) {
      case 0: {
        // Create with tags in ONE statement (the API's createOne).
        const emails = Array.from({ length: 1 + Math.floor(random() * 20) }, (_, i) => `w${salt}-${i}@counters.test`);
        await client.query(
          `with s as (
             insert into subscribers (id, organization_id, email, status)
             select gen_random_uuid(), $1, e, (array['pending','active','active','unsubscribed','bounced'])[1 + (abs(hashtext(e)) % 5)]
             from unnest($2::text[]) e on conflict do nothing returning id
           )
           insert into subscriber_tags (subscriber_id, tag_id, organization_id, status, source)
           select s.id, t, $1, 'subscribed', 'api' from s cross join unnest($3::uuid[]) t`,
          [org, emails, tags.filter(() => random() < 0.5)],
        );
        break;
      }
      case 1:
        // A status change of many at once (bulk unsubscribe, bounces).
        await client.query(`update subscribers set status = $4 where id in ${some} and status <> $4`, [
          org,
          salt,
          1 + Math.floor(random() * 30),
          pick(STATUSES, random),
        ]);
        break;
      case 2:
        // Topic added to many (bulk action), existing rows untouched.
        await client.query(
          `insert into subscriber_tags (subscriber_id, tag_id, organization_id, status, source) select id, $4, $1, 'subscribed', 'bulk' from ${some} x on conflict do nothing`,
          [org, salt, 1 + Math.floor(random() * 30), pick(tags, random)],
        );
        break;
      case 3:
        // Topic left or joined again.
        await client.query(`update subscriber_tags set status = $4 where organization_id = $1 and tag_id = $5 and subscriber_id in ${some}`, [
          org,
          salt,
          1 + Math.floor(random() * 30),
          random() < 0.5 ? 'unsubscribed' : 'subscribed',
          pick(tags, random),
        ]);
        break;
      case 4:
        // Erasure: subscribers with their topic rows.
        await client.query(`delete from subscribers where id in ${some}`, [org, salt, 1 + Math.floor(random() * 5)]);
        break;
      case 5:
        // A topic row removed.
        await client.query(`delete from subscriber_tags where organization_id = $1 and tag_id = $4 and subscriber_id in ${some}`, [
          org,
          salt,
          1 + Math.floor(random() * 10),
          pick(tags, random),
        ]);
        break;
      case 6: {
        // The import's bulk path: triggers of replication off, insert then topic rows in separate statements.
        await client.query('set local session_replication_role = replica');
        const emails = Array.from({ length: 5 + Math.floor(random() * 40) }, (_, i) => `i${salt}-${i}@counters.test`);
        await client.query(
          `create temp table plan on commit drop as select gen_random_uuid() as id, e as email from unnest($1::text[]) e
           where not exists (select 1 from subscribers s where s.organization_id = $2 and lower(s.email) = lower(e))`,
          [emails, org],
        );
        await client.query(`insert into subscribers (id, organization_id, email, status, source) select id, $1, email, 'active', 'import' from plan`, [org]);
        await client.query(
          `insert into subscriber_tags (subscriber_id, tag_id, organization_id, status, source) select id, $2, $1, 'subscribed', 'import' from plan on conflict do nothing`,
          [org, pick(tags, random)],
        );
        break;
      }
      case 7: {
        // Upsert of many (insert or update, with status): the subscribers' upsertMany.
        const emails = Array.from({ length: 1 + Math.floor(random() * 20) }, (_, i) => `w${worker}-${Math.floor(random() * 40)}-${i}@counters.test`);
        await client.query(
          `insert into subscribers (id, organization_id, email, status) select gen_random_uuid(), $1, e, $3 from unnest($2::text[]) e
           on conflict (organization_id, lower(email)) do update set status = excluded.status, updated_at = now()`,
          [org, [...new Set(emails)], pick(STATUSES, random)],
        );
        break;
      }
      default:
        // A field change that is not the status: nothing to count.
        await client.query(`update subscribers set first_name = 'Ada' where id in ${some}`, [org, salt, 1 + Math.floor(random() * 30)]);
    }
    // Some transactions roll back: their differences must go with them.
    await client.query(random() < 0.15 ? 'rollback' : 'commit');
  } catch (error) {
    await client.query('rollback');
    // Two writers on the same subscribers may deadlock or collide (a topic added to a subscriber being
    // erased fails its foreign key); the application retries those or reports them.
    if (!['40P01', '40001', '23505', '23503'].includes((error as { code?: string }).code ?? '')) throw error;
  }
}

describe('audience counters', () => {
  it('stay exact under concurrent inserts, status and topic changes, deletes, imports and rollbacks', async () => {
    const counts = createAudienceCounts(ctx.container.db);
    const workers = Array.from({ length: 6 }, async (_, worker) => {
      const client = await pool.connect();
      const random = generator(1000 + worker);
      try {
        for (let step = 0; step < 40; step += 1) {
          const [org, tags] = worker % 3 === 2 ? [orgB, [tagB]] : [orgA, tagsA];
          await randomWrite(client, random, org, tags, worker, step);
        }
      } finally {
        client.release();
      }
    });
    // Folding and verifying run while the writers write; a verification finds nothing to repair.
    let running = true;
    const verifications: ({ subscriberKeys: number; tagKeys: number } | null)[] = [];
    const upkeep = (async () => {
      while (running) {
        await counts.compact();
        verifications.push(await counts.verify());
      }
    })();
    const done = await Promise.allSettled(workers);
    running = false;
    await upkeep;
    for (const result of done) if (result.status === 'rejected') throw result.reason;

    const { kept, truth, keptTags, truthTags } = await compare();
    expect(truth.length).toBeGreaterThan(4);
    expect(truthTags.length).toBeGreaterThan(8);
    expect(kept).toEqual(truth);
    expect(keptTags).toEqual(truthTags);
    expect(verifications.filter((v) => v && v.subscriberKeys + v.tagKeys > 0)).toEqual([]);
    expect(await counts.verify()).toEqual({ subscriberKeys: 0, tagKeys: 0 });
  });

  it('follow a deleted tag and a deleted organization away', async () => {
    const org = await ctx.createOrganization('Counters gone');
    const tag = await ctx.container.services.tags.create(org.id, { name: 'Soon gone' });
    const subscriber = newId();
    await pool.query(`insert into subscribers (id, organization_id, email, status) values ($1, $2, 'gone@counters.test', 'active')`, [subscriber, org.id]);
    await pool.query(`insert into subscriber_tags (subscriber_id, tag_id, organization_id, status, source) values ($1, $2, $3, 'subscribed', 'api')`, [
      subscriber,
      tag.id,
      org.id,
    ]);
    await pool.query('delete from tags where id = $1', [tag.id]);
    expect((await pool.query('select count(*)::int as n from subscriber_tag_counts where tag_id = $1', [tag.id])).rows[0].n).toBe(0);
    await pool.query('delete from organizations where id = $1', [org.id]);
    expect((await pool.query('select count(*)::int as n from subscriber_counts where organization_id = $1', [org.id])).rows[0].n).toBe(0);
  });

  it('are folded to one row per key without changing a sum', async () => {
    const counts = createAudienceCounts(ctx.container.db);
    const before = await compare();
    await counts.compact();
    const after = await compare();
    expect(after).toEqual(before);
    const rows = await pool.query(
      `select count(*)::int as n from (select 1 from subscriber_tag_counts group by organization_id, tag_id, subscriber_status, tag_status having count(*) > 1) k`,
    );
    expect(rows.rows[0].n).toBe(0);
  });

  it('are repaired by the verification when something went around them', async () => {
    const counts = createAudienceCounts(ctx.container.db);
    // A count that drifted (a write path the triggers do not see, such as a restore of one table).
    await pool.query(
      `insert into subscriber_tag_counts (organization_id, tag_id, subscriber_status, tag_status, n) values ($1, $2, 'active', 'subscribed', 7)`,
      [orgA, tagsA[0]],
    );
    await pool.query(`insert into subscriber_counts (organization_id, status, n) values ($1, 'bounced', -3)`, [orgB]);
    expect(await counts.verify()).toEqual({ subscriberKeys: 1, tagKeys: 1 });
    const { kept, truth, keptTags, truthTags } = await compare();
    expect(kept).toEqual(truth);
    expect(keptTags).toEqual(truthTags);
    expect(await counts.verify()).toEqual({ subscriberKeys: 0, tagKeys: 0 });
  });
});

describe('segment counts from the counters', () => {
  const conditionPool = (tagRefs: string[]) => [
    { field: 'status', op: 'eq', value: 'active' },
    { field: 'status', op: 'in', value: ['active', 'pending'] },
    { field: 'status', op: 'neq', value: 'bounced' },
    { field: 'status', op: 'not_in', value: ['unsubscribed', 'complained'] },
    ...tagRefs.flatMap((ref) => [
      { field: 'tags', op: 'any', value: [ref] },
      { field: 'tags', op: 'all', value: [ref] },
      { field: 'tags', op: 'none', value: [ref] },
    ]),
    { field: 'tags', op: 'any', value: tagRefs.slice(0, 2) },
    { field: 'email', op: 'prefix', value: 'w1' },
    { field: 'source', op: 'eq', value: 'import' },
  ];

  it('equal the SQL count for randomized filters, and the counters answer the shapes they can', async () => {
    const { segments } = ctx.container.services;
    const random = generator(42);
    const refs = [...tagsA.slice(0, 3), 'one'];
    const options = conditionPool(refs);
    let fromCounters = 0;
    for (let round = 0; round < 60; round += 1) {
      const size = Math.floor(random() * 4);
      const conditions = Array.from({ length: size }, () => pick(options, random));
      const match = random() < 0.8 ? 'all' : 'any';
      const filter = random() < 0.3 ? { match: 'all', conditions: [{ match, conditions }] } : { match, conditions };
      const typed = filter as Parameters<typeof segments.preview>[1];
      const tagIds = new Map([...tagsA.map((id) => [id, id] as const), ['one', tagsA[0]!] as const]);
      if (counterShape(typed, tagIds)) fromCounters += 1;
      const [fast, slow] = await Promise.all([segments.preview(orgA, typed), segments.countBySql(orgA, typed)]);
      expect(fast, JSON.stringify(filter)).toEqual(slow);
    }
    expect(fromCounters).toBeGreaterThan(15);
  });

  it('give a one-topic recipient count equal to the count over the tables, excluded reasons and suppressions included', async () => {
    const { db } = ctx.container;
    // Some active subscribers of each topic are on the suppression list (one address in another case).
    await pool.query(
      `insert into suppressions (id, organization_id, email, reason)
       select gen_random_uuid(), s.organization_id, case when row_number() over () % 2 = 0 then upper(s.email) else s.email end, 'manual'
       from subscribers s where s.organization_id = $1 and s.status = 'active' order by md5(s.id::text) limit 7
       on conflict do nothing`,
      [orgA],
    );
    const seen = { suppressed: 0, unsubscribed_from_topic: 0, count: 0 };
    for (const tag of tagsA) {
      const predicate = await ctx.container.services.segments.compile(orgA, { match: 'all', conditions: [{ field: 'tags', op: 'any', value: [tag] }] });
      const fast = (await topicAudienceCountQuery(orgA, predicate, tag).execute(db)).rows[0]!;
      const slow = (await audienceCountQuery(orgA, predicate, [tag]).execute(db)).rows[0]!;
      expect(Object.fromEntries(Object.entries(fast).map(([k, v]) => [k, Number(v)]))).toEqual(
        Object.fromEntries(Object.entries(slow).map(([k, v]) => [k, Number(v)])),
      );
      for (const key of ['suppressed', 'unsubscribed_from_topic', 'count'] as const) seen[key] += Number(fast[key]);
    }
    // The comparison covered every reason that needs more than a counter.
    expect(seen.suppressed).toBeGreaterThan(0);
    expect(seen.unsubscribed_from_topic).toBeGreaterThan(0);
    expect(seen.count).toBeGreaterThan(0);
  });

  it('counterShape takes only what the counters answer exactly', () => {
    const ids = new Map([
      ['a', 'A'],
      ['b', 'B'],
    ]);
    const shape = (filter: unknown) => counterShape(filter as never, ids);
    expect(shape({ match: 'all', conditions: [] })).toEqual({ statuses: STATUSES });
    expect(shape({ match: 'any', conditions: [] })).toEqual({ statuses: [] });
    expect(
      shape({
        match: 'all',
        conditions: [
          { field: 'tags', op: 'any', value: ['a'] },
          { field: 'status', op: 'eq', value: 'active' },
        ],
      }),
    ).toEqual({ statuses: ['active'], tag: { id: 'A', mode: 'with' } });
    expect(shape({ match: 'all', conditions: [{ field: 'tags', op: 'none', value: ['a', 'a'] }] })).toEqual({
      statuses: STATUSES,
      tag: { id: 'A', mode: 'without' },
    });
    // Two tags, an OR of two conditions, or another field: SQL.
    expect(shape({ match: 'all', conditions: [{ field: 'tags', op: 'any', value: ['a', 'b'] }] })).toBeNull();
    expect(
      shape({
        match: 'all',
        conditions: [
          { field: 'tags', op: 'any', value: ['a'] },
          { field: 'tags', op: 'any', value: ['b'] },
        ],
      }),
    ).toBeNull();
    expect(
      shape({
        match: 'any',
        conditions: [
          { field: 'status', op: 'eq', value: 'active' },
          { field: 'status', op: 'eq', value: 'pending' },
        ],
      }),
    ).toBeNull();
    expect(shape({ match: 'all', conditions: [{ field: 'locale', op: 'eq', value: 'de' }] })).toBeNull();
  });
});
