import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, sessionApi, type TestContext } from '../support/context.ts';

// Issue 12, item 16: keys belong to the organization (as with Stripe): they keep working when the admin
// who created them leaves, and the key list names who created each one so the team can review them.

let ctx: TestContext;

beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(() => ctx.close());

describe('API keys and their creators', () => {
  it('lists the creator of each key and keeps the key working after the creator leaves the organization', async () => {
    const org = await ctx.createOrganization('Keyholders');
    const owner = sessionApi(ctx, await ctx.createSession(org.id, 'owner'));
    const adminSession = await ctx.createSession(org.id, 'admin', { email: 'leaving-admin@example.com' });
    const admin = sessionApi(ctx, adminSession);
    await ctx.container.db.updateTable('users').set({ name: 'Lea Ving' }).where('id', '=', adminSession.userId).execute();

    const created = await admin('POST', '/api/v1/api-keys', { name: 'CRM sync', scopes: ['subscribers:read'] });
    expect(created.statusCode).toBe(201);
    expect(created.json().created_by).toEqual({ id: adminSession.userId, email: 'leaving-admin@example.com', name: 'Lea Ving' });
    const key = created.json().key as string;

    const members = (await owner('GET', '/api/v1/members?limit=100')).json().items as { id: string; user: { id: string } }[];
    const membership = members.find((m) => m.user.id === adminSession.userId)!;
    expect((await owner('DELETE', `/api/v1/members/${membership.id}`)).statusCode).toBe(204);

    // The organization's key, not the person's: it still works, and the list still names who made it.
    const used = await ctx.app.inject({ method: 'GET', url: '/api/v1/subscribers', headers: { authorization: `Bearer ${key}` } });
    expect(used.statusCode).toBe(200);
    const listed = (await owner('GET', '/api/v1/api-keys')).json().items as { id: string; created_by: unknown }[];
    expect(listed.find((k) => k.id === created.json().id)!.created_by).toEqual({
      id: adminSession.userId,
      email: 'leaving-admin@example.com',
      name: 'Lea Ving',
    });
    // A key made with a key has no user behind it.
    const byKey = await ctx.app.inject({
      method: 'POST',
      url: '/api/v1/api-keys',
      headers: { authorization: `Bearer ${org.key}` },
      payload: { name: 'made by a key', scopes: ['tags:read'] },
    });
    expect(byKey.statusCode).toBe(201);
    expect(byKey.json().created_by).toBeNull();
  });
});
