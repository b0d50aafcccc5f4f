import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestContext, type TestContext } from '../support/context.ts';

let ctx: TestContext;
let callA: ReturnType<typeof api>;
let callB: ReturnType<typeof api>;
let tagB: string;
let orgA: string;
/** Organization A's subscribers by short name, with the attributes the filters below select on. */
const ids: Record<string, string> = {};

const PEOPLE = [
  {
    name: 'ada',
    email: 'ada@acme.test',
    status: 'active',
    tags: ['news', 'events'],
    metadata: { plan: 'pro', seats: 12, beta: true, renews: '2027-01-15T00:00:00.000Z' },
    source: 'form',
  },
  { name: 'bob', email: 'bob@acme.test', status: 'active', tags: ['news'], metadata: { plan: 'free', seats: 1, beta: false }, source: 'api' },
  { name: 'cyd', email: 'cyd@other.test', status: 'active', tags: ['events'], metadata: { plan: 'pro', seats: '12' }, source: 'api' },
  { name: 'dee', email: 'dee@other.test', status: 'unsubscribed', tags: ['news'], metadata: {}, source: 'import' },
  { name: 'eve', email: 'eve@acme.test', status: 'pending', tags: [], metadata: { plan: 'team', seats: 40 }, source: 'form' },
] as const;

beforeAll(async () => {
  ctx = await createTestContext();
  const a = await ctx.createOrganization('Segments A');
  orgA = a.id;
  const b = await ctx.createOrganization('Segments B');
  callA = api(ctx, a.key);
  callB = api(ctx, b.key);
  for (const call of [callB, callA]) {
    for (const person of PEOPLE) {
      const status = person.status === 'pending' ? 'pending' : 'active';
      const res = await call('POST', '/api/v1/subscribers', {
        email: person.email,
        status,
        tags: person.tags,
        metadata: person.metadata,
        source: person.source,
      });
      expect(res.statusCode, res.body).toBe(201);
      if (person.status === 'unsubscribed')
        expect((await call('PATCH', `/api/v1/subscribers/${res.json().id}`, { status: 'unsubscribed' })).statusCode).toBe(200);
      // Organization B, created first, has look-alikes that must never be counted for A.
      if (call === callA) ids[person.name] = res.json().id;
    }
  }
  tagB = (await callB('GET', '/api/v1/tags/by-name/news')).json().id;
  // Bob leaves the news topic: a tag condition counts only an active subscription.
  expect((await callA('DELETE', `/api/v1/subscribers/${ids.bob}/tags/news`)).statusCode).toBeLessThan(300);
});
afterAll(() => ctx.close());

async function members(filter: unknown): Promise<string[]> {
  const created = await callA('POST', '/api/v1/segments', { name: 'probe', filter });
  expect(created.statusCode, created.body).toBe(201);
  const id = created.json().id as string;
  const list = (await callA('GET', `/api/v1/segments/${id}/members`)).json().items as { id: string }[];
  const count = (await callA('GET', `/api/v1/segments/${id}/count`)).json().count as number;
  expect(count).toBe(list.length);
  const byId = Object.fromEntries(Object.entries(ids).map(([name, id]) => [id, name]));
  return list.map((m) => byId[m.id] ?? `foreign:${m.id}`).sort();
}

const all = (...conditions: unknown[]) => ({ match: 'all', conditions });
const any = (...conditions: unknown[]) => ({ match: 'any', conditions });

describe('segment filters', () => {
  it('select exactly the hand-computed subscribers', async () => {
    expect(await members(all())).toEqual(['ada', 'bob', 'cyd', 'dee', 'eve']);
    expect(await members(all({ field: 'status', op: 'eq', value: 'active' }))).toEqual(['ada', 'bob', 'cyd']);
    expect(await members(all({ field: 'status', op: 'not_in', value: ['active', 'pending'] }))).toEqual(['dee']);
    expect(await members(all({ field: 'tags', op: 'any', value: ['news'] }))).toEqual(['ada', 'dee']);
    expect(await members(all({ field: 'tags', op: 'all', value: ['news', 'events'] }))).toEqual(['ada']);
    expect(await members(all({ field: 'tags', op: 'none', value: ['news'] }))).toEqual(['bob', 'cyd', 'eve']);
    expect(await members(all({ field: 'email', op: 'domain', value: 'ACME.test' }))).toEqual(['ada', 'bob', 'eve']);
    expect(await members(all({ field: 'email', op: 'prefix', value: 'cy' }))).toEqual(['cyd']);
    expect(await members(all({ field: 'source', op: 'in', value: ['form', 'import'] }))).toEqual(['ada', 'dee', 'eve']);
    expect(await members(all({ field: 'metadata.plan', op: 'eq', value: 'pro' }))).toEqual(['ada', 'cyd']);
    // A number compares only with JSON numbers: cyd's "12" is text.
    expect(await members(all({ field: 'metadata.seats', type: 'number', op: 'gte', value: 12 }))).toEqual(['ada', 'eve']);
    expect(await members(all({ field: 'metadata.beta', type: 'boolean', op: 'eq', value: false }))).toEqual(['bob']);
    expect(await members(all({ field: 'metadata.renews', type: 'date', op: 'after', value: '2027-01-01' }))).toEqual(['ada']);
    expect(await members(all({ field: 'metadata.plan', op: 'not_exists' }))).toEqual(['dee']);
    expect(await members(all({ field: 'created_at', op: 'within_days', value: 1 }))).toEqual(['ada', 'bob', 'cyd', 'dee', 'eve']);
    expect(await members(all({ field: 'confirmed_at', op: 'not_exists' }))).toEqual(['eve']);
    // Nested: active and (pro or on the acme domain) and not in events.
    expect(
      await members(
        all(
          { field: 'status', op: 'eq', value: 'active' },
          any({ field: 'metadata.plan', op: 'eq', value: 'pro' }, { field: 'email', op: 'domain', value: 'acme.test' }),
          { field: 'tags', op: 'none', value: ['events'] },
        ),
      ),
    ).toEqual(['bob']);
  });

  it('treat every value and metadata key as data, never as SQL', async () => {
    const hostile = "x'); delete from subscribers; --";
    expect(await members(all({ field: 'metadata.plan', op: 'eq', value: hostile }))).toEqual([]);
    expect(await members(all({ field: 'email', op: 'prefix', value: '%' }))).toEqual([]);
    expect(await members(all({ field: 'email', op: 'contains', value: '_' }))).toEqual([]);
    expect((await callA('POST', '/api/v1/segments', { name: 'bad key', filter: all({ field: "metadata.a'b", op: 'exists' }) })).statusCode).toBe(422);
    expect((await callA('GET', '/api/v1/subscribers?limit=10')).json().items).toHaveLength(5);
  });

  it('refuse, naming the condition, an operator that does not fit the field, and bound depth and size', async () => {
    const wrong = await callA('POST', '/api/v1/segments', { name: 'wrong', filter: all({ field: 'status', op: 'gt', value: 3 }) });
    expect(wrong.statusCode).toBe(422);
    expect(wrong.json().error.details[0].field).toBe('filter.conditions.0.op');
    const status = await callA('POST', '/api/v1/segments', { name: 'wrong', filter: all({ field: 'status', op: 'eq', value: 'gone' }) });
    expect(status.json().error.details[0].field).toBe('filter.conditions.0.value');
    const tooDeep = all(any(all(any({ field: 'status', op: 'eq', value: 'active' }))));
    expect((await callA('POST', '/api/v1/segments', { name: 'deep', filter: tooDeep })).statusCode).toBe(422);
    const tooMany = all(...Array.from({ length: 51 }, () => ({ field: 'status', op: 'eq', value: 'active' })));
    expect((await callA('POST', '/api/v1/segments', { name: 'many', filter: tooMany })).statusCode).toBe(422);
    // 50 spread over nested groups is also too many once they add up past the limit.
    const spread = all(...Array.from({ length: 3 }, () => any(...Array.from({ length: 20 }, () => ({ field: 'status', op: 'eq', value: 'active' })))));
    expect((await callA('POST', '/api/v1/segments', { name: 'spread', filter: spread })).statusCode).toBe(422);
  });

  it("never match or name another organization's tags or subscribers", async () => {
    const foreignTag = await callA('POST', '/api/v1/segments', { name: 'foreign', filter: all({ field: 'tags', op: 'any', value: [tagB] }) });
    expect(foreignTag.statusCode).toBe(422);
    expect(foreignTag.json().error.code).toBe('tag_not_found');
    const segmentA = (await callA('POST', '/api/v1/segments', { name: 'mine', filter: all() })).json().id as string;
    expect((await callB('GET', `/api/v1/segments/${segmentA}`)).statusCode).toBe(404);
    expect((await callB('GET', `/api/v1/segments/${segmentA}/count`)).statusCode).toBe(404);
    expect((await callB('GET', `/api/v1/segments/${segmentA}/members`)).statusCode).toBe(404);
    expect((await callB('PATCH', `/api/v1/segments/${segmentA}`, { name: 'taken' })).statusCode).toBe(404);
    expect((await callB('DELETE', `/api/v1/segments/${segmentA}`)).statusCode).toBe(404);
  });

  it('answer randomized filters with 200 or 422, never a server error, and never count across organizations', async () => {
    let seed = 42;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
    // Mostly sensible conditions (a field with one of its operators and a fitting value), some nonsense.
    const sensible: [string, string[], unknown[]][] = [
      ['status', ['eq', 'neq', 'in', 'not_in'], ['active', 'pending', ['active', 'unsubscribed']]],
      ['email', ['domain', 'prefix', 'contains', 'eq'], ['acme.test', 'a', '%', "'; --"]],
      ['source', ['eq', 'in'], ['api', ['form', 'import']]],
      ['created_at', ['before', 'after', 'within_days', 'between', 'exists'], ['2026-01-01', 30, ['2020-01-01', '2030-01-01']]],
      ['confirmed_at', ['exists', 'not_exists', 'after'], ['2020-01-01T00:00:00Z']],
      ['tags', ['any', 'all', 'none'], [['news'], ['news', 'events'], ['events']]],
      ['metadata.plan', ['eq', 'neq', 'in', 'prefix', 'exists', 'not_exists'], ['pro', ['pro', 'team'], 'p']],
    ];
    const ops = [
      'eq',
      'neq',
      'in',
      'not_in',
      'domain',
      'prefix',
      'contains',
      'before',
      'after',
      'between',
      'within_days',
      'gt',
      'gte',
      'lt',
      'lte',
      'exists',
      'not_exists',
      'any',
      'all',
      'none',
    ];
    const junk = ['', 12, -1, 1e308, true, ['news'], "'; --", '%', 'no-such-tag', '2026-13-45'];
    const condition = () => {
      if (random() < 0.75) {
        const [field, fieldOps, fieldValues] = pick(sensible);
        return { field, op: pick(fieldOps), value: pick(fieldValues) };
      }
      return {
        field: pick([...sensible.map((s) => s[0]), 'metadata.seats', 'metadata.beta']),
        op: pick(ops),
        ...(random() < 0.3 ? { type: pick(['string', 'number', 'boolean', 'date']) } : {}),
        ...(random() < 0.9 ? { value: pick(junk) } : {}),
      };
    };
    const group = (depth: number): unknown => ({
      match: pick(['all', 'any']),
      conditions: Array.from({ length: 1 + Math.floor(random() * 3) }, () => (depth < 3 && random() < 0.3 ? group(depth + 1) : condition())),
    });
    const statuses = new Map<number, number>();
    for (let i = 0; i < 150; i += 1) {
      const res = await callA('POST', '/api/v1/segments/preview-count', { filter: group(1) });
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      expect([200, 400, 422], res.body).toContain(res.statusCode);
      if (res.statusCode === 200) expect(res.json().count).toBeLessThanOrEqual(PEOPLE.length);
    }
    expect(statuses.get(200)).toBeGreaterThan(10);
  });

  it('are read with campaigns:read and changed only with campaigns:write', async () => {
    const reader = api(ctx, (await ctx.createKey(orgA, ['campaigns:read'])).key);
    expect((await reader('GET', '/api/v1/segments')).statusCode).toBe(200);
    expect((await reader('POST', '/api/v1/segments/preview-count', { filter: all() })).statusCode).toBe(200);
    const denied = await reader('POST', '/api/v1/segments', { name: 'nope', filter: all() });
    expect(denied.statusCode).toBe(403);
    expect(denied.json().error.code).toBe('insufficient_scope');
  });
});
