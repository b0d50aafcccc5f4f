import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.ts';
import { createSubscriber, createTags, preferenceToken } from './helpers.ts';

// The page's public topics are kept in each API process's memory under organizations.tags_version,
// which triggers bump on every change to tags. These tests change tags behind the app's back (plain
// SQL, as another API process or an operator would) and through the routes that create tags as a side
// effect, and expect the very next page read to show it.
let ctx: TestContext;
let org: { id: string; slug: string; key: string };
let token: string;
let ids: Record<string, string>;

const page = async () => {
  const res = await ctx.app.inject({ method: 'GET', url: `/api/v1/preference-center?token=${encodeURIComponent(token)}` });
  expect(res.statusCode).toBe(200);
  return res.json() as { tags: { id: string; name: string; description: string | null; category: string | null; is_subscribed: boolean }[] };
};
const names = async () => (await page()).tags.map((tag) => tag.name);
const version = async (organizationId = org.id) =>
  Number((await sql<{ v: string }>`select tags_version as v from organizations where id = ${organizationId}`.execute(ctx.container.db)).rows[0]!.v);

beforeAll(async () => {
  ctx = await createTestContext();
  org = await ctx.createOrganization();
  ids = await createTags(ctx, org.key, [
    { name: 'Alpha', category: 'News' },
    { name: 'Beta', category: 'News' },
  ]);
  token = await preferenceToken(ctx, org.key, await createSubscriber(ctx, org.key, { email: 'reader@example.com', tags: ['alpha'] }));
});
afterAll(() => ctx.close());

describe('public topics cached per process', () => {
  it('shows a rename, a description and a move made directly in the database at once', async () => {
    expect(await names()).toEqual(['Alpha', 'Beta']);
    await sql`update tags set name = 'Alpha Renamed', description = 'New words' where id = ${ids.alpha!}`.execute(ctx.container.db);
    const tag = (await page()).tags.find((t) => t.id === ids.alpha);
    expect(tag).toMatchObject({ name: 'Alpha Renamed', description: 'New words', is_subscribed: true });
  });

  it('drops a topic made private and shows it again when public', async () => {
    await sql`update tags set is_public = false where id = ${ids.beta!}`.execute(ctx.container.db);
    expect(await names()).toEqual(['Alpha Renamed']);
    await sql`update tags set is_public = true where id = ${ids.beta!}`.execute(ctx.container.db);
    expect(await names()).toEqual(['Alpha Renamed', 'Beta']);
  });

  it('shows a tag created as a side effect of creating a subscriber as soon as an admin publishes it', async () => {
    await createSubscriber(ctx, org.key, { email: 'other@example.com', tags: ['Gamma'] });
    expect(await names()).not.toContain('Gamma');
    const tag = (await ctx.app.inject({ method: 'GET', url: '/api/v1/tags/by-name/gamma', headers: { authorization: `Bearer ${org.key}` } })).json();
    const published = await ctx.app.inject({
      method: 'PATCH',
      url: `/api/v1/tags/${tag.id}`,
      headers: { authorization: `Bearer ${org.key}` },
      payload: { is_public: true },
    });
    expect(published.statusCode).toBe(200);
    expect(await names()).toContain('Gamma');
  });

  it('shows topics created, updated and deleted through the API', async () => {
    const created = await createTags(ctx, org.key, [{ name: 'Delta', category: 'Events' }]);
    expect(await names()).toContain('Delta');
    const auth = { authorization: `Bearer ${org.key}` };
    expect((await ctx.app.inject({ method: 'PATCH', url: `/api/v1/tags/${created.delta}`, headers: auth, payload: { name: 'Delta 2' } })).statusCode).toBe(200);
    expect(await names()).toContain('Delta 2');
    expect((await ctx.app.inject({ method: 'DELETE', url: `/api/v1/tags/${created.delta}`, headers: auth })).statusCode).toBe(204);
    expect(await names()).not.toContain('Delta 2');
  });

  it('bumps the version once per changing statement, never for one that changed nothing, and only for its organization', async () => {
    const other = await ctx.createOrganization('Other');
    const [before, otherBefore] = [await version(), await version(other.id)];
    await sql`update tags set description = 'x' where organization_id = ${org.id}`.execute(ctx.container.db);
    expect(await version()).toBe(before + 1);
    await sql`insert into tags (id, organization_id, name, slug) select id, organization_id, name, slug from tags where organization_id = ${org.id} on conflict do nothing`.execute(
      ctx.container.db,
    );
    await sql`update tags set name = name where false`.execute(ctx.container.db);
    expect(await version()).toBe(before + 1);
    expect(await version(other.id)).toBe(otherBefore);
  });
});
