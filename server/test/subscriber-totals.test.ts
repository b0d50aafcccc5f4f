import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestContext, type TestContext } from './support/context.ts';

/** The subscriber list's total: exact for what a person can page through, an estimate for a huge result. */
let ctx: TestContext;

beforeAll(async () => {
  ctx = await createTestContext();
});

afterAll(() => ctx.close());

describe('the subscriber list total', () => {
  it('counts every page of the filtered list when asked, and only then', async () => {
    const org = await ctx.createOrganization('Totals');
    const call = api(ctx, org.key);
    for (const [i, tags] of [['news'], ['news'], [], [], []].entries()) {
      expect((await call('POST', '/api/v1/subscribers', { email: `t${i}@example.com`, tags })).statusCode).toBe(201);
    }
    const other = await ctx.createOrganization('Totals elsewhere');
    expect((await api(ctx, other.key)('POST', '/api/v1/subscribers', { email: 'elsewhere@example.com', tags: ['news'] })).statusCode).toBe(201);

    const plain = (await call('GET', '/api/v1/subscribers?limit=2')).json();
    expect(plain.total).toBeUndefined();
    const page = (await call('GET', '/api/v1/subscribers?limit=2&include_total=true')).json();
    expect(page).toMatchObject({ total: 5, total_exact: true });
    expect(page.items).toHaveLength(2);
    // The total is the filter's, not the page's, and stays the same on later pages.
    expect((await call('GET', `/api/v1/subscribers?limit=2&include_total=true&cursor=${page.next_cursor}`)).json().total).toBe(5);
    expect((await call('GET', '/api/v1/subscribers?include_total=true&tag=news')).json()).toMatchObject({ total: 2, total_exact: true });
    expect((await call('GET', '/api/v1/subscribers?include_total=true&tag=News')).json().total).toBe(2);
    expect((await call('GET', '/api/v1/subscribers?include_total=true&q=t1')).json().total).toBe(1);
    expect((await call('GET', '/api/v1/subscribers?include_total=true&status=unsubscribed')).json().total).toBe(0);
    expect((await call('GET', '/api/v1/subscribers?include_total=true&tag=no-such-tag')).json()).toMatchObject({ items: [], total: 0, total_exact: true });
  });

  it('estimates above 100,000 matches instead of counting them all, and says so', async () => {
    const org = await ctx.createOrganization('Totals large');
    await sql`
      insert into subscribers (id, organization_id, email, status, source, confirmed_at)
      select gen_random_uuid(), ${org.id}::uuid, 'big' || g || '@example.com', 'active', 'import', now() from generate_series(1, 100050) g`.execute(
      ctx.container.db,
    );
    await sql`analyze subscribers`.execute(ctx.container.db);
    const res = (await api(ctx, org.key)('GET', '/api/v1/subscribers?limit=1&include_total=true')).json();
    expect(res.total_exact).toBe(false);
    expect(res.total).toBeGreaterThan(100_000);
    // The planner's estimate is close to the truth after an analyze.
    expect(Math.abs(res.total - 100_050) / 100_050).toBeLessThan(0.2);
  }, 60_000);
});
