import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestContext, sessionApi, type TestContext, type TestSession } from '../support/context.ts';

let ctx: TestContext;
let org: { id: string; slug: string; key: string };
let keyId: string;
let admin: TestSession;

interface Entry {
  action: string;
  actor: { type: string; id: string };
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  details: Record<string, unknown>;
}

beforeAll(async () => {
  ctx = await createTestContext();
  org = await ctx.createOrganization('Audited');
  const row = await ctx.container.db.selectFrom('api_keys').select('id').where('organization_id', '=', org.id).executeTakeFirstOrThrow();
  keyId = row.id;
  admin = await ctx.createSession(org.id, 'admin');
});
afterAll(() => ctx.close());

async function entries(query = ''): Promise<Entry[]> {
  await ctx.container.background.drain();
  const res = await sessionApi(ctx, admin)('GET', `/api/v1/audit-logs?limit=100${query}`);
  expect(res.statusCode).toBe(200);
  return res.json().items;
}

describe('the audit log', () => {
  it("records an API key's mutation with the action, the created target, IP, user agent and request id", async () => {
    const created = await api(ctx, org.key)(
      'POST',
      '/api/v1/subscribers',
      { email: 'audited@example.com', first_name: 'Secret' },
      { 'user-agent': 'sdk/1.0', 'x-request-id': 'req-audit-1' },
    );
    expect(created.statusCode).toBe(201);
    const entry = (await entries('&action=subscriber.create'))[0]!;
    expect(entry).toMatchObject({
      action: 'subscriber.create',
      actor: { type: 'api_key', id: keyId },
      target_type: 'subscriber',
      target_id: created.json().id,
      ip: '127.0.0.1',
      user_agent: 'sdk/1.0',
      request_id: 'req-audit-1',
      details: {},
    });
    // Only what the entry needs: no request or response bodies, no addresses.
    expect(JSON.stringify(entry)).not.toContain('audited@example.com');
    expect(JSON.stringify(entry)).not.toContain('Secret');
  });

  it("records a user's mutation with the :id target, and role changes with from/to only", async () => {
    const call = sessionApi(ctx, admin);
    const tag = (await call('POST', '/api/v1/tags', { name: 'Audited tag' })).json();
    await call('PATCH', `/api/v1/tags/${tag.id}`, { description: 'changed' });
    const viewer = await ctx.createSession(org.id, 'viewer');
    const members = (await call('GET', '/api/v1/members?limit=100')).json().items as { id: string; user: { id: string } }[];
    const member = members.find((m) => m.user.id === viewer.userId)!;
    await call('PATCH', `/api/v1/members/${member.id}`, { role: 'admin' });

    const list = await entries(`&actor_id=${admin.userId}`);
    expect(list.map((e) => e.action).slice(0, 3)).toEqual(['member.update_role', 'tag.update', 'tag.create']);
    expect(list[1]).toMatchObject({ actor: { type: 'user', id: admin.userId }, target_id: tag.id });
    expect(list[0]).toMatchObject({ target_id: member.id, details: { from: 'viewer', to: 'admin' } });
  });

  it('skips reads, failures and replayed idempotent requests', async () => {
    const before = (await entries()).length;
    const key = api(ctx, org.key);
    await key('GET', '/api/v1/subscribers');
    await key('POST', '/api/v1/subscribers', { email: 'not-an-email' });
    await key('DELETE', '/api/v1/subscribers/01890000-0000-7000-8000-000000000000');
    const headers = { 'idempotency-key': 'audit-once' };
    await key('POST', '/api/v1/tags', { name: 'Once' }, headers);
    const replay = await key('POST', '/api/v1/tags', { name: 'Once' }, headers);
    expect(replay.headers['idempotency-replayed']).toBe('true');
    expect((await entries()).length).toBe(before + 1);
  });

  it('pages with a cursor and filters by action', async () => {
    for (let i = 0; i < 3; i += 1) await api(ctx, org.key)('POST', '/api/v1/tags', { name: `paged ${i}` });
    await ctx.container.background.drain();
    const call = sessionApi(ctx, admin);
    const first = (await call('GET', '/api/v1/audit-logs?limit=2&action=tag.create')).json();
    expect(first.items).toHaveLength(2);
    const second = (await call('GET', `/api/v1/audit-logs?limit=2&action=tag.create&cursor=${first.next_cursor}`)).json();
    expect(second.items.length).toBeGreaterThan(0);
    expect(new Set([...first.items, ...second.items].map((e: { action: string }) => e.action))).toEqual(new Set(['tag.create']));
  });

  it('is for admins of the organization only', async () => {
    const viewer = await ctx.createSession(org.id, 'viewer');
    expect((await sessionApi(ctx, viewer)('GET', '/api/v1/audit-logs')).json().error.code).toBe('insufficient_role');
    expect((await api(ctx, org.key)('GET', '/api/v1/audit-logs')).json().error.code).toBe('session_required');
    const other = await ctx.createOrganization('Unrelated');
    const outsider = await ctx.createSession(other.id, 'owner');
    expect((await sessionApi(ctx, outsider)('GET', '/api/v1/audit-logs')).json().items).toEqual([]);
  });
});
