import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestContext, type TestContext } from './support/context.ts';

let ctx: TestContext;

beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(() => ctx.close());

const tagNames = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix} ${i}`);

describe('batch upsert within its documented limits', () => {
  it('takes 150 subscribers with 50 tags each (7,500 tag links, each with history and an event)', async () => {
    const org = await ctx.createOrganization();
    const call = api(ctx, org.key);
    const tags = tagNames('topic', 50);
    const subscribers = Array.from({ length: 150 }, (_, i) => ({ email: `many${i}@example.com`, tags }));
    const res = await call('POST', '/api/v1/subscribers/batch', { subscribers });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ created: 150, failed: 0 });
    const links = await ctx.container.db
      .selectFrom('subscription_history')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('organization_id', '=', org.id)
      .where('action', '=', 'tag_subscribed')
      .executeTakeFirstOrThrow();
    expect(Number(links.n)).toBe(7500);
  });
});

describe('tags created implicitly by one request', () => {
  it('refuses a request that would create more than 1,000 new tags, whole and before any change', async () => {
    const org = await ctx.createOrganization();
    const call = api(ctx, org.key);
    const subscribers = Array.from({ length: 21 }, (_, s) => ({ email: `flood${s}@example.com`, tags: tagNames(`flood ${s}`, 50) }));
    const res = await call('POST', '/api/v1/subscribers/batch', { subscribers });
    expect(res.statusCode).toBe(422);
    expect(res.json().error).toMatchObject({ code: 'too_many_new_tags', details: [{ field: 'subscribers', code: 'too_many' }] });
    const tags = await ctx.container.db.selectFrom('tags').select('id').where('organization_id', '=', org.id).execute();
    const people = await ctx.container.db.selectFrom('subscribers').select('id').where('organization_id', '=', org.id).execute();
    expect([tags.length, people.length]).toEqual([0, 0]);
  });

  it('creates up to 1,000 new tags in one statement, and tags that exist do not count toward the limit', async () => {
    const org = await ctx.createOrganization();
    const call = api(ctx, org.key);
    const first = Array.from({ length: 20 }, (_, s) => ({ email: `bulk${s}@example.com`, tags: tagNames(`bulk ${s}`, 50) }));
    const started = Date.now();
    const created = await call('POST', '/api/v1/subscribers/batch', { subscribers: first });
    expect(created.statusCode).toBe(200);
    // Linear: 1,000 new tags take about a second; the former quadratic join took several.
    expect(Date.now() - started).toBeLessThan(10_000);
    // The same 1,000 tags again (found by name, in any case) plus 500 new ones: within the limit.
    const again = [
      ...first.map((s) => ({ ...s, tags: s.tags.map((t) => t.toUpperCase()) })),
      ...Array.from({ length: 10 }, (_, s) => ({ email: `more${s}@example.com`, tags: tagNames(`more ${s}`, 50) })),
    ];
    const res = await call('POST', '/api/v1/subscribers/batch', { subscribers: again });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ created: 10, updated: 20, failed: 0 });
    const tags = await ctx.container.db.selectFrom('tags').select('id').where('organization_id', '=', org.id).execute();
    expect(tags).toHaveLength(1500);
  });
});
