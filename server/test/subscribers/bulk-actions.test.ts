import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics/registry.ts';
import { jobContext } from '../imports/helpers.ts';
import { api, createTestContext, sessionApi, type TestContext } from '../support/context.ts';

/** "Apply to all N matching": one background job over a filter, in chunks, with consent history and progress. */
let ctx: TestContext;
let org: { id: string; key: string };
let call: ReturnType<typeof api>;
let runJob: (id: string) => Promise<unknown>;

const MANY = 1_234; // more than two chunks of 500

beforeAll(async () => {
  ctx = await createTestContext();
  org = await ctx.createOrganization('Bulk');
  call = api(ctx, org.key);
  const handlers = ctx.container.jobHandlers(createMetrics('test-bulk'));
  runJob = (id) => handlers['subscribers.bulk-action']({ bulk_action_id: id }, jobContext(ctx));
  await sql`
    insert into subscribers (id, organization_id, email, first_name, status, source, confirmed_at, created_at)
    select uuid_v7(), ${org.id}::uuid, 'member' || g || '@bulk.example', 'Member', case when g % 10 = 0 then 'bounced' else 'active' end, 'import', now(), now() - interval '1 day'
    from generate_series(1, ${MANY}) g`.execute(ctx.container.db);
  for (const email of ['keep1@other.example', 'keep2@other.example'])
    expect((await call('POST', '/api/v1/subscribers', { email, tags: ['vip'] })).statusCode).toBe(201);
  expect((await call('POST', '/api/v1/tags', { name: 'Spring' })).statusCode).toBe(201);
  // The same addresses in another organization: never touched.
  const other = await ctx.createOrganization('Bulk elsewhere');
  expect((await api(ctx, other.key)('POST', '/api/v1/subscribers', { email: 'member1@bulk.example' })).statusCode).toBe(201);
});

afterAll(() => ctx.close());

const total = async (query: string) => (await call('GET', `/api/v1/subscribers?limit=1&include_total=true&${query}`)).json().total as number;
const historyCount = async (bulkId: string) =>
  Number(
    (
      await sql<{
        n: string;
      }>`select count(*) as n from subscription_history where organization_id = ${org.id} and details->>'bulk_action_id' = ${bulkId}`.execute(ctx.container.db)
    ).rows[0]!.n,
  );
const eventCount = async (type: string) =>
  Number(
    (await sql<{ n: string }>`select count(*) as n from events where organization_id = ${org.id} and type = ${type}`.execute(ctx.container.db)).rows[0]!.n,
  );

async function perform(body: Record<string, unknown>) {
  const res = await call('POST', '/api/v1/subscribers/bulk-actions', body);
  expect(res.statusCode, res.body).toBe(202);
  const created = res.json();
  expect(created).toMatchObject({ status: 'queued', processed: 0 });
  await runJob(created.id);
  const done = (await call('GET', `/api/v1/subscribers/bulk-actions/${created.id}`)).json();
  expect(done.status).toBe('completed');
  return done;
}

describe('bulk actions over a filter', () => {
  it('adds a tag to every matching subscriber in chunks, with history, events and progress', async () => {
    const before = await eventCount('tag.subscribed');
    const done = await perform({ action: 'add_tag', tag: 'spring', filter: { q: '@bulk.example' } });
    expect(done).toMatchObject({ expected: MANY, processed: MANY, changed: MANY, tag: { slug: 'spring' } });
    expect(await total('tags_all=spring')).toBe(MANY);
    expect(await historyCount(done.id)).toBe(MANY);
    expect((await eventCount('tag.subscribed')) - before).toBe(MANY);
    // A second run of the same job finds it completed and changes nothing.
    await runJob(done.id);
    expect((await eventCount('tag.subscribed')) - before).toBe(MANY);
  });

  it('never subscribes again a topic someone left', async () => {
    const one = (await call('GET', '/api/v1/subscribers/by-email?email=member7@bulk.example')).json();
    expect((await call('DELETE', `/api/v1/subscribers/${one.id}/tags/spring`)).statusCode).toBe(200);
    const done = await perform({ action: 'add_tag', tag: 'Spring', filter: { q: 'member7' } });
    // The others matching already hold the tag; member7 left it and keeps it left.
    expect(done).toMatchObject({ processed: done.expected, changed: 0 });
    expect((await call('GET', `/api/v1/subscribers/${one.id}`)).json().tags).toEqual([]);
  });

  it('removes a tag from the subscribers matching several filters', async () => {
    const done = await perform({ action: 'remove_tag', tag: 'spring', filter: { status: 'bounced', tags_any: 'spring' } });
    expect(done.changed).toBe(Math.floor(MANY / 10));
    expect(await total('status=bounced&tags_any=spring')).toBe(0);
    expect(await total('status=active&tags_any=spring')).toBeGreaterThan(1000);
  });

  it('unsubscribes only with a reason, records it in each consent history, and leaves bounced addresses as they are', async () => {
    const refused = await call('POST', '/api/v1/subscribers/bulk-actions', { action: 'unsubscribe', filter: { q: 'member1' } });
    expect(refused.statusCode).toBe(422);
    expect(refused.json().error.details[0]).toMatchObject({ field: 'reason', code: 'required' });
    const matching = await total('q=member1');
    const bounced = await total('q=member1&status=bounced');
    const done = await perform({ action: 'unsubscribe', reason: 'Asked at the spring fair to be removed', filter: { q: 'member1' } });
    expect(done).toMatchObject({ expected: matching, processed: matching, changed: matching - bounced });
    expect(await total('q=member1&status=unsubscribed')).toBe(matching - bounced);
    expect(await total('q=member1&status=bounced')).toBe(bounced);
    const row = await sql<{ details: Record<string, unknown> }>`
      select details from subscription_history where organization_id = ${org.id} and details->>'bulk_action_id' = ${done.id} limit 1`.execute(ctx.container.db);
    expect(row.rows[0]!.details).toMatchObject({ from: 'active', to: 'unsubscribed', via: 'bulk', reason: 'Asked at the spring fair to be removed' });
    expect(await total('q=keep')).toBe(2);
  });

  it('erases the matching subscribers only with the delete scope, leaving the subscriber.deleted events', async () => {
    const writer = await ctx.createKey(org.id, ['subscribers:write', 'subscribers:read']);
    const denied = await api(ctx, writer.key)('POST', '/api/v1/subscribers/bulk-actions', { action: 'delete', filter: { q: 'member2' } });
    expect(denied.statusCode).toBe(403);
    const matching = await total('q=member2');
    const before = await eventCount('subscriber.deleted');
    const done = await perform({ action: 'delete', filter: { q: 'member2' } });
    expect(done.changed).toBe(matching);
    expect(await total('q=member2')).toBe(0);
    expect((await eventCount('subscriber.deleted')) - before).toBe(matching);
  });

  it('leaves out subscribers created after the action was asked for', async () => {
    const res = await call('POST', '/api/v1/subscribers/bulk-actions', { action: 'add_tag', tag: 'vip', filter: { q: 'late' } });
    const id = res.json().id;
    expect((await call('POST', '/api/v1/subscribers', { email: 'late@bulk.example' })).statusCode).toBe(201);
    await runJob(id);
    expect((await call('GET', `/api/v1/subscribers/bulk-actions/${id}`)).json()).toMatchObject({ status: 'completed', changed: 0 });
  });

  it('needs an existing tag, is for admins, is audited, and hides another organization’s actions', async () => {
    expect((await call('POST', '/api/v1/subscribers/bulk-actions', { action: 'add_tag', tag: 'nope', filter: {} })).json().error.details[0].code).toBe(
      'unknown_tag',
    );
    const viewer = await ctx.createSession(org.id, 'viewer');
    expect((await sessionApi(ctx, viewer)('POST', '/api/v1/subscribers/bulk-actions', { action: 'add_tag', tag: 'vip', filter: {} })).statusCode).toBe(403);
    const admin = await ctx.createSession(org.id, 'admin');
    const res = await sessionApi(ctx, admin)('POST', '/api/v1/subscribers/bulk-actions', { action: 'add_tag', tag: 'vip', filter: { q: 'keep' } });
    expect(res.statusCode).toBe(202);
    await new Promise((r) => setTimeout(r, 200));
    const audit = await ctx.container.db
      .selectFrom('audit_logs')
      .select(['action', 'target_id', 'details'])
      .where('organization_id', '=', org.id)
      .where('target_id', '=', res.json().id)
      .execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]!.action).toBe('subscriber_bulk_action.create');
    const other = await ctx.createOrganization('Bulk snooper');
    expect((await api(ctx, other.key)('GET', `/api/v1/subscribers/bulk-actions/${res.json().id}`)).statusCode).toBe(404);
  });
});
