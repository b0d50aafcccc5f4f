import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestContext, type TestContext } from './support/context.ts';

let ctx: TestContext;
let call: ReturnType<typeof api>;
let orgId: string;

beforeAll(async () => {
  ctx = await createTestContext();
  const org = await ctx.createOrganization();
  orgId = org.id;
  call = api(ctx, org.key);
});
afterAll(() => ctx.close());

async function outboxTypes(subjectId: string): Promise<string[]> {
  const rows = await ctx.container.db.selectFrom('events').select('type').where('subject_id', '=', subjectId).orderBy('id').execute();
  return rows.map((r) => r.type);
}

describe('creating a subscriber', () => {
  it('stores the subscriber with its tags, creating unknown tags, and answers 201', async () => {
    const res = await call('POST', '/api/v1/subscribers', {
      email: 'Ada@Example.com',
      first_name: 'Ada',
      metadata: { plan: 'pro' },
      tags: ['Weekly News', 'product'],
    });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toMatchObject({ email: 'Ada@Example.com', status: 'active', first_name: 'Ada', last_name: null, metadata: { plan: 'pro' }, source: 'api' });
    expect(body.tags.map((t: { slug: string }) => t.slug).sort()).toEqual(['product', 'weekly-news']);
    expect(body.confirmed_at).not.toBeNull();
  });

  it('writes consent history and outbox events in the same transaction', async () => {
    const res = await call('POST', '/api/v1/subscribers', { email: 'history@example.com', tags: ['product'] });
    const id = res.json().id;
    expect(await outboxTypes(id)).toEqual(['subscriber.created', 'tag.subscribed']);
    const history = await call('GET', `/api/v1/subscribers/${id}/events`);
    expect(
      history
        .json()
        .items.map((h: { action: string }) => h.action)
        .sort(),
    ).toEqual(['created', 'tag_subscribed']);
  });

  it('reuses an existing tag by slug or by name, whatever the case', async () => {
    const res = await call('POST', '/api/v1/subscribers', { email: 'reuse@example.com', tags: ['PRODUCT', 'weekly-news'] });
    expect(res.statusCode).toBe(201);
    const tags = await call('GET', '/api/v1/tags');
    expect(tags.json().items.filter((t: { slug: string }) => t.slug === 'product')).toHaveLength(1);
    expect(tags.json().items).toHaveLength(2);
  });

  it('answers 409 subscriber_exists for a known email in any case', async () => {
    const res = await call('POST', '/api/v1/subscribers', { email: 'ada@EXAMPLE.com' });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('subscriber_exists');
  });

  it('names every invalid field', async () => {
    const res = await call('POST', '/api/v1/subscribers', { email: 'not-an-email', first_name: 42, nickname: 'x', tags: 'news' });
    expect(res.statusCode).toBe(422);
    const fields = res
      .json()
      .error.details.map((d: { field: string }) => d.field)
      .sort();
    expect(fields).toEqual(['email', 'first_name', 'nickname', 'tags']);
  });

  it('rejects oversized metadata and too many tags', async () => {
    const big = await call('POST', '/api/v1/subscribers', { email: 'big@example.com', metadata: { blob: 'x'.repeat(17_000) } });
    expect(big.statusCode).toBe(422);
    expect(big.json().error.details[0].field).toBe('metadata');
    const many = await call('POST', '/api/v1/subscribers', { email: 'many@example.com', tags: Array.from({ length: 51 }, (_, i) => `t${i}`) });
    expect(many.statusCode).toBe(422);
  });

  it('creates each shared tag once when many subscribers arrive at the same time', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => call('POST', '/api/v1/subscribers', { email: `race${i}@example.com`, tags: ['race-a', 'Race B'] })),
    );
    expect(results.map((r) => r.statusCode)).toEqual(Array(20).fill(201));
    for (const r of results) expect(r.json().tags).toHaveLength(2);
    const tag = await call('GET', '/api/v1/tags/by-name/race-a');
    expect(tag.json().subscriber_count).toBe(20);
  });
});

describe('reading subscribers', () => {
  it('finds a subscriber by id and by email, case-insensitively', async () => {
    const created = (await call('POST', '/api/v1/subscribers', { email: 'Find.Me@example.com' })).json();
    expect((await call('GET', `/api/v1/subscribers/${created.id}`)).json().email).toBe('Find.Me@example.com');
    const byEmail = await call('GET', '/api/v1/subscribers/by-email?email=find.me%40EXAMPLE.com');
    expect(byEmail.statusCode).toBe(200);
    expect(byEmail.json().id).toBe(created.id);
    expect((await call('GET', '/api/v1/subscribers/by-email?email=nobody%40example.com')).json().error.code).toBe('subscriber_not_found');
  });

  it('pages through every subscriber exactly once with the cursor', async () => {
    for (let i = 0; i < 7; i += 1) await call('POST', '/api/v1/subscribers', { email: `page${i}@paging.test`, tags: ['paging'] });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await call('GET', `/api/v1/subscribers?limit=3&tag=paging${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.statusCode).toBe(200);
      const page = res.json();
      expect(page.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.items.map((s: { email: string }) => s.email));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toHaveLength(7);
    expect(new Set(seen).size).toBe(7);
  });

  it('filters by status, tag and email prefix, and treats LIKE wildcards literally', async () => {
    await call('POST', '/api/v1/subscribers', { email: 'pending_one@filter.test', status: 'pending' });
    await call('POST', '/api/v1/subscribers', { email: 'pendingxone@filter.test' });
    const pending = (await call('GET', '/api/v1/subscribers?status=pending')).json();
    expect(pending.items.map((s: { email: string }) => s.email)).toEqual(['pending_one@filter.test']);
    const prefix = (await call('GET', '/api/v1/subscribers?q=PENDING_')).json();
    expect(prefix.items.map((s: { email: string }) => s.email)).toEqual(['pending_one@filter.test']);
    expect((await call('GET', '/api/v1/subscribers?tag=no-such-tag')).json().items).toEqual([]);
  });

  it("finds a tag's subscribers by the tag's name as well as its slug", async () => {
    await call('POST', '/api/v1/subscribers', { email: 'named@filter.test', tags: ['Product Updates'] });
    for (const tag of ['product-updates', 'Product Updates', 'product updates']) {
      const found = (await call('GET', `/api/v1/subscribers?tag=${encodeURIComponent(tag)}`)).json();
      expect(
        found.items.map((s: { email: string }) => s.email),
        tag,
      ).toEqual(['named@filter.test']);
    }
  });

  it('replaces metadata on PATCH, as documented, while the batch upsert merges it', async () => {
    const created = (await call('POST', '/api/v1/subscribers', { email: 'meta@filter.test', metadata: { plan: 'pro', city: 'Oslo' } })).json();
    expect((await call('PATCH', `/api/v1/subscribers/${created.id}`, { metadata: { plan: 'team' } })).json().metadata).toEqual({ plan: 'team' });
    await call('POST', '/api/v1/subscribers/batch', { subscribers: [{ email: 'meta@filter.test', metadata: { city: 'Bergen' } }] });
    expect((await call('GET', `/api/v1/subscribers/${created.id}`)).json().metadata).toEqual({ plan: 'team', city: 'Bergen' });
  });

  it('rejects a forged cursor and out-of-range limits', async () => {
    expect((await call('GET', '/api/v1/subscribers?cursor=Zm9v')).json().error.code).toBe('invalid_cursor');
    expect((await call('GET', '/api/v1/subscribers?limit=101')).statusCode).toBe(422);
    expect((await call('GET', '/api/v1/subscribers?status=gone')).statusCode).toBe(422);
  });
});

describe('changing subscribers', () => {
  it('updates fields, records a status change in the history and emits subscriber.updated', async () => {
    const { id } = (await call('POST', '/api/v1/subscribers', { email: 'change@example.com' })).json();
    const res = await call('PATCH', `/api/v1/subscribers/${id}`, { first_name: 'Chan', status: 'unsubscribed', metadata: { a: 1 } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ first_name: 'Chan', status: 'unsubscribed', metadata: { a: 1 } });
    expect(res.json().unsubscribed_at).not.toBeNull();
    expect(await outboxTypes(id)).toEqual(['subscriber.created', 'subscriber.updated']);
    const history = (await call('GET', `/api/v1/subscribers/${id}/events`)).json().items;
    expect(history[0]).toMatchObject({ action: 'status_changed', details: { from: 'active', to: 'unsubscribed' } });
  });

  it('refuses to change an email to one another subscriber has', async () => {
    const { id } = (await call('POST', '/api/v1/subscribers', { email: 'one@dupe.test' })).json();
    await call('POST', '/api/v1/subscribers', { email: 'two@dupe.test' });
    const res = await call('PATCH', `/api/v1/subscribers/${id}`, { email: 'TWO@dupe.test' });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('subscriber_exists');
  });

  it('rejects an empty patch and statuses only providers may set', async () => {
    const { id } = (await call('POST', '/api/v1/subscribers', { email: 'empty@patch.test' })).json();
    expect((await call('PATCH', `/api/v1/subscribers/${id}`, {})).statusCode).toBe(422);
    expect((await call('PATCH', `/api/v1/subscribers/${id}`, { status: 'bounced' })).statusCode).toBe(422);
  });

  it('adds tags without touching the others and removes one tag by slug', async () => {
    const { id } = (await call('POST', '/api/v1/subscribers', { email: 'tags@example.com', tags: ['alpha'] })).json();
    const added = await call('POST', `/api/v1/subscribers/${id}/tags`, { tags: ['beta', 'Alpha'] });
    expect(added.json().tags.map((t: { slug: string }) => t.slug)).toEqual(['alpha', 'beta']);
    const removed = await call('DELETE', `/api/v1/subscribers/${id}/tags/alpha`);
    expect(removed.statusCode).toBe(200);
    expect(removed.json().tags.map((t: { slug: string }) => t.slug)).toEqual(['beta']);
    expect(await outboxTypes(id)).toEqual(['subscriber.created', 'tag.subscribed', 'tag.subscribed', 'tag.unsubscribed']);
    expect((await call('DELETE', `/api/v1/subscribers/${id}/tags/nope`)).json().error.code).toBe('tag_not_found');
    // Removing it again changes nothing and writes nothing.
    await call('DELETE', `/api/v1/subscribers/${id}/tags/alpha`);
    expect((await outboxTypes(id)).length).toBe(4);
  });

  it('keeps notes with their author and emits subscriber.note_added', async () => {
    const { id } = (await call('POST', '/api/v1/subscribers', { email: 'notes@example.com' })).json();
    const note = await call('POST', `/api/v1/subscribers/${id}/notes`, { body: 'Called about invoices' });
    expect(note.statusCode).toBe(201);
    expect(note.json()).toMatchObject({ body: 'Called about invoices', author: { type: 'api_key' } });
    expect((await call('GET', `/api/v1/subscribers/${id}/notes`)).json().items).toHaveLength(1);
    expect(await outboxTypes(id)).toContain('subscriber.note_added');
  });

  it('erases a subscriber with tags, history and notes, leaving only the subscriber.deleted event', async () => {
    const { id } = (await call('POST', '/api/v1/subscribers', { email: 'erase@example.com', tags: ['alpha'] })).json();
    await call('POST', `/api/v1/subscribers/${id}/notes`, { body: 'note' });
    const res = await call('DELETE', `/api/v1/subscribers/${id}`);
    expect(res.statusCode).toBe(204);
    expect((await call('GET', `/api/v1/subscribers/${id}`)).statusCode).toBe(404);
    const db = ctx.container.db;
    for (const table of ['subscriber_tags', 'subscription_history', 'subscriber_notes'] as const) {
      const row = await db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('subscriber_id', '=', id)
        .executeTakeFirstOrThrow();
      expect(row.n).toBe(0);
    }
    expect((await outboxTypes(id)).at(-1)).toBe('subscriber.deleted');
    expect((await call('DELETE', `/api/v1/subscribers/${id}`)).statusCode).toBe(404);
  });
});

describe('batch upsert', () => {
  it('creates and updates in one call and reports invalid items without failing the others', async () => {
    await call('POST', '/api/v1/subscribers', { email: 'existing@batch.test', first_name: 'Old', metadata: { keep: true } });
    const res = await call('POST', '/api/v1/subscribers/batch', {
      subscribers: [
        { email: 'new1@batch.test', tags: ['batch-tag'] },
        { email: 'EXISTING@batch.test', last_name: 'New', metadata: { added: 1 } },
        { email: 'broken' },
        { email: 'new1@batch.test' },
        'not an object',
        { email: 'new2@batch.test', unknown: true },
      ],
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.results.map((r: { status: string }) => r.status)).toEqual(['created', 'updated', 'failed', 'failed', 'failed', 'failed']);
    expect(body.results[3].error.code).toBe('duplicate_in_batch');
    expect(body.results[2].error.details[0].field).toBe('email');
    expect(body.results[5].error.details[0].field).toBe('unknown');
    expect(body).toMatchObject({ created: 1, updated: 1, failed: 4 });
    const existing = (await call('GET', '/api/v1/subscribers/by-email?email=existing%40batch.test')).json();
    expect(existing).toMatchObject({ first_name: 'Old', last_name: 'New', metadata: { keep: true, added: 1 } });
    const tagged = (await call('GET', '/api/v1/subscribers?tag=batch-tag')).json();
    expect(tagged.items.map((s: { email: string }) => s.email)).toEqual(['new1@batch.test']);
  });

  it('accepts 1,000 items and refuses 1,001', async () => {
    const items = Array.from({ length: 1000 }, (_, i) => ({ email: `bulk${i}@bulk.test`, tags: ['bulk'] }));
    const ok = await call('POST', '/api/v1/subscribers/batch', { subscribers: items });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().created).toBe(1000);
    expect((await call('GET', '/api/v1/tags/by-name/bulk')).json().subscriber_count).toBe(1000);
    const tooMany = await call('POST', '/api/v1/subscribers/batch', { subscribers: [...items, { email: 'x@bulk.test' }] });
    expect(tooMany.statusCode).toBe(422);
  });
});

it('keeps the organization id out of every response', async () => {
  const res = await call('GET', '/api/v1/subscribers?limit=5');
  expect(res.body).not.toContain(orgId);
});
