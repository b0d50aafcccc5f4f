import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestContext, sessionApi, type TestContext } from '../support/context.ts';

let ctx: TestContext;

beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(() => ctx.close());

describe('platform operators', () => {
  it('list every organization; other users, even owners, cannot', async () => {
    const a = await ctx.createOrganization('Platform A');
    const b = await ctx.createOrganization('Platform B');
    const operator = sessionApi(ctx, await ctx.createSession(null, undefined, { platformAdmin: true }));
    const res = await operator('GET', '/api/v1/platform/organizations?limit=100');
    expect(res.statusCode).toBe(200);
    const ids = res.json().items.map((o: { id: string }) => o.id);
    expect(ids).toEqual(expect.arrayContaining([a.id, b.id]));
    expect(res.json().items.find((o: { id: string }) => o.id === a.id)).toMatchObject({ name: 'Platform A', status: 'active', member_count: 1 });
    expect((await operator('GET', '/api/v1/platform/organizations?q=platform%20b')).json().items.map((o: { id: string }) => o.id)).toEqual([b.id]);

    const owner = sessionApi(ctx, await ctx.createSession(a.id, 'owner'));
    const denied = await owner('GET', '/api/v1/platform/organizations');
    expect(denied.statusCode).toBe(403);
    expect(denied.json().error.code).toBe('platform_admin_required');
    expect((await api(ctx, a.key)('GET', '/api/v1/platform/organizations')).json().error.code).toBe('session_required');
  });

  it('suspend an organization: its API keys and sessions get 403 organization_suspended until unsuspended', async () => {
    const org = await ctx.createOrganization('Suspended Co');
    const key = api(ctx, org.key);
    const member = sessionApi(ctx, await ctx.createSession(org.id, 'owner'));
    const operator = sessionApi(ctx, await ctx.createSession(null, undefined, { platformAdmin: true }));
    expect((await key('GET', '/api/v1/tags')).statusCode).toBe(200);

    const suspended = await operator('POST', `/api/v1/platform/organizations/${org.id}/suspend`);
    expect(suspended.statusCode).toBe(200);
    expect(suspended.json()).toMatchObject({ id: org.id, status: 'suspended' });
    for (const call of [key, member]) {
      const res = await call('GET', '/api/v1/tags');
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('organization_suspended');
    }
    // The member still sees the organization and its status, so the dashboard can explain.
    expect((await member('GET', '/api/v1/auth/me')).json().memberships[0].organization.status).toBe('suspended');

    expect((await operator('POST', `/api/v1/platform/organizations/${org.id}/unsuspend`)).json().status).toBe('active');
    expect((await key('GET', '/api/v1/tags')).statusCode).toBe(200);
    expect((await member('GET', '/api/v1/tags')).statusCode).toBe(200);

    await ctx.container.background.drain();
    const log = await ctx.container.db.selectFrom('audit_logs').select(['action', 'organization_id']).where('target_id', '=', org.id).orderBy('id').execute();
    expect(log).toEqual([
      { action: 'organization.suspend', organization_id: org.id },
      { action: 'organization.unsuspend', organization_id: org.id },
    ]);
    expect((await operator('POST', '/api/v1/platform/organizations/01890000-0000-7000-8000-000000000000/suspend')).statusCode).toBe(404);
  });
});
