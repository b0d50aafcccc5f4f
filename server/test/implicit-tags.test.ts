import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { down, up } from '../src/db/migrations/20261207T1100_private_implicit_tags_and_single_use_confirmations.ts';
import { newId } from '../src/lib/ids.ts';
import { api, createTestContext, type TestContext } from './support/context.ts';
import { createSubscriber, preferenceToken } from './preferences/helpers.ts';

let ctx: TestContext;
let org: { id: string; slug: string; key: string };
let call: ReturnType<typeof api>;

beforeAll(async () => {
  ctx = await createTestContext({ RATE_LIMIT_PUBLIC_FORM_PER_MINUTE: '1000' });
  org = await ctx.createOrganization('Labels');
  call = api(ctx, org.key);
});
afterAll(() => ctx.close());

const tag = async (name: string) => (await call('GET', `/api/v1/tags/by-name/${encodeURIComponent(name)}`)).json() as { id: string; is_public: boolean };

describe('tags created implicitly', () => {
  it('are private when a subscriber create, a batch or a tag assignment names them', async () => {
    await createSubscriber(ctx, org.key, { email: 'vip@example.com', tags: ['churn-risk-vip'] });
    await call('POST', '/api/v1/subscribers/batch', { subscribers: [{ email: 'b@example.com', tags: ['Batch Label'] }] });
    const id = await createSubscriber(ctx, org.key, { email: 'c@example.com' });
    await call('POST', `/api/v1/subscribers/${id}/tags`, { tags: ['assigned-label'] });
    for (const name of ['churn-risk-vip', 'batch-label', 'assigned-label']) expect((await tag(name)).is_public).toBe(false);
    // A tag created on purpose through the tags API is public unless asked otherwise.
    expect((await call('POST', '/api/v1/tags', { name: 'Newsletter' })).json().is_public).toBe(true);
  });

  it('appear neither in the preference center nor on the public form until an admin publishes them', async () => {
    const id = await createSubscriber(ctx, org.key, { email: 'reader@example.com', tags: ['internal-score'] });
    const token = await preferenceToken(ctx, org.key, id);
    const page = async () => (await ctx.app.inject({ method: 'GET', url: `/api/v1/preference-center?token=${token}` })).json();
    expect(JSON.stringify((await page()).tags)).not.toContain('internal-score');
    const form = await ctx.app.inject({
      method: 'POST',
      url: `/api/v1/public/${org.slug}/subscribe`,
      payload: { email: 'x@example.com', tags: ['internal-score'] },
      remoteAddress: '10.7.0.1',
    });
    expect(form.statusCode).toBe(422);
    expect(form.json().error.code).toBe('unknown_topic');

    const published = await call('PATCH', `/api/v1/tags/${(await tag('internal-score')).id}`, { is_public: true });
    expect(published.statusCode).toBe(200);
    expect(JSON.stringify((await page()).tags)).toContain('internal-score');
  });
});

describe('the migration that hides existing implicit tags', () => {
  it('keeps public only what an admin evidently published: created or edited through the tags API, or described', async () => {
    const other = await ctx.createOrganization('Before');
    const db = ctx.container.db;
    await down(db);
    const rows = {
      implicit: { id: newId(), name: 'churn-risk', slug: 'churn-risk' },
      viaApi: { id: newId(), name: 'Weekly', slug: 'weekly' },
      edited: { id: newId(), name: 'Edited', slug: 'edited' },
      described: { id: newId(), name: 'Offers', slug: 'offers', description: 'Deals every month' },
      categorized: { id: newId(), name: 'Events', slug: 'events', category: 'Community' },
      alreadyPrivate: { id: newId(), name: 'Hidden', slug: 'hidden', is_public: false },
    };
    await db
      .insertInto('tags')
      .values(Object.values(rows).map((r) => ({ is_public: true, ...r, organization_id: other.id })))
      .execute();
    await db
      .insertInto('audit_logs')
      .values([
        { id: newId(), organization_id: other.id, actor_type: 'user', action: 'tag.create', target_type: 'tag', target_id: rows.viaApi.id },
        { id: newId(), organization_id: other.id, actor_type: 'api_key', action: 'tag.update', target_type: 'tag', target_id: rows.edited.id },
        // The same tag id audited in another organization proves nothing here.
        { id: newId(), organization_id: org.id, actor_type: 'user', action: 'tag.create', target_type: 'tag', target_id: rows.implicit.id },
      ])
      .execute();
    await up(db);

    const after = await db.selectFrom('tags').select(['slug', 'is_public']).where('organization_id', '=', other.id).orderBy('slug').execute();
    expect(Object.fromEntries(after.map((t) => [t.slug, t.is_public]))).toEqual({
      'churn-risk': false,
      weekly: true,
      edited: true,
      offers: true,
      events: true,
      hidden: false,
    });
    // New rows default to private; only the tags API asks for public ones.
    const fresh = await sql<{
      is_public: boolean;
    }>`insert into tags (id, organization_id, name, slug) values (${newId()}, ${other.id}, 'Fresh', 'fresh') returning is_public`.execute(db);
    expect(fresh.rows[0]!.is_public).toBe(false);
  });
});
