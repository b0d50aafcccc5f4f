import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../src/lib/crypto.ts';
import { api, createTestContext, type TestContext } from './support/context.ts';

let ctx: TestContext;
let org: { id: string; key: string };
let call: ReturnType<typeof api>;

beforeAll(async () => {
  ctx = await createTestContext();
  org = await ctx.createOrganization();
  call = api(ctx, org.key);
});
afterAll(() => ctx.close());

describe('API keys', () => {
  it('creates a key shown once, stores only its SHA-256 hash, and lists it without the secret', async () => {
    const res = await call('POST', '/api/v1/api-keys', { name: 'CI', scopes: ['subscribers:read'], environment: 'test' });
    expect(res.statusCode).toBe(201);
    const created = res.json();
    expect(created.key).toMatch(/^sf_test_[A-Za-z0-9_-]{40}$/);
    expect(created.key_prefix).toBe(created.key.slice(0, 16));
    const stored = await ctx.container.db.selectFrom('api_keys').select(['key_hash']).where('id', '=', created.id).executeTakeFirstOrThrow();
    expect(stored.key_hash).toBe(sha256Hex(created.key));
    const list = await call('GET', '/api/v1/api-keys');
    expect(list.body).not.toContain(created.key);
    expect(list.body).not.toContain(stored.key_hash);
    expect(list.json().items.find((k: { id: string }) => k.id === created.id)).toMatchObject({
      name: 'CI',
      scopes: ['subscribers:read'],
      environment: 'test',
      revoked_at: null,
    });
  });

  it('accepts a key as Bearer or X-API-Key and records when it was used', async () => {
    const { key, id } = await ctx.createKey(org.id, ['subscribers:read']);
    expect((await ctx.app.inject({ method: 'GET', url: '/api/v1/subscribers', headers: { authorization: `Bearer ${key}` } })).statusCode).toBe(200);
    expect((await ctx.app.inject({ method: 'GET', url: '/api/v1/subscribers', headers: { 'x-api-key': key } })).statusCode).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const row = await ctx.container.db.selectFrom('api_keys').select('last_used_at').where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.last_used_at).not.toBeNull();
  });

  it('rejects missing, malformed, unknown and revoked keys with 401 and distinct codes', async () => {
    const get = (headers: Record<string, string>) => ctx.app.inject({ method: 'GET', url: '/api/v1/subscribers', headers });
    expect((await get({})).json().error.code).toBe('unauthorized');
    expect((await get({ authorization: 'Basic abc' })).json().error.code).toBe('invalid_api_key');
    expect((await get({ authorization: 'Bearer nope' })).json().error.code).toBe('invalid_api_key');
    expect((await get({ authorization: `Bearer sf_live_${'x'.repeat(40)}` })).statusCode).toBe(401);
    const { key, id } = await ctx.createKey(org.id, ['subscribers:read']);
    const revoked = await call('DELETE', `/api/v1/api-keys/${id}`);
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json().revoked_at).not.toBeNull();
    const res = await get({ authorization: `Bearer ${key}` });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('api_key_revoked');
  });

  it('enforces scopes: a read key cannot write, and only api-keys:manage manages keys', async () => {
    const reader = api(ctx, (await ctx.createKey(org.id, ['subscribers:read', 'tags:read'])).key);
    const denied = await reader('POST', '/api/v1/subscribers', { email: 'x@scope.test' });
    expect(denied.statusCode).toBe(403);
    expect(denied.json().error.code).toBe('insufficient_scope');
    expect((await reader('GET', '/api/v1/api-keys')).statusCode).toBe(403);
    expect((await reader('POST', '/api/v1/tags', { name: 'x' })).statusCode).toBe(403);
    expect((await reader('GET', '/api/v1/tags')).statusCode).toBe(200);
    const writer = api(ctx, (await ctx.createKey(org.id, ['subscribers:write'])).key);
    const { id } = (await writer('POST', '/api/v1/subscribers', { email: 'y@scope.test' })).json();
    expect((await writer('DELETE', `/api/v1/subscribers/${id}`)).json().error.code).toBe('insufficient_scope');
  });

  it('rejects unknown scopes and empty names', async () => {
    const res = await call('POST', '/api/v1/api-keys', { name: ' ', scopes: ['everything'] });
    expect(res.statusCode).toBe(422);
    expect(
      res
        .json()
        .error.details.map((d: { field: string }) => d.field)
        .sort(),
    ).toEqual(['name', 'scopes.0']);
  });

  it("cannot see or revoke another organization's keys", async () => {
    const other = await ctx.createOrganization('Other');
    const otherKey = await ctx.createKey(other.id, ['subscribers:read']);
    expect((await call('DELETE', `/api/v1/api-keys/${otherKey.id}`)).statusCode).toBe(404);
    expect((await call('GET', '/api/v1/api-keys')).json().items.map((k: { id: string }) => k.id)).not.toContain(otherKey.id);
    expect((await ctx.app.inject({ method: 'GET', url: '/api/v1/subscribers', headers: { 'x-api-key': otherKey.key } })).statusCode).toBe(200);
  });

  it('refuses every key of a suspended organization', async () => {
    const suspended = await ctx.createOrganization('Suspended');
    await ctx.container.db.updateTable('organizations').set({ status: 'suspended' }).where('id', '=', suspended.id).execute();
    const res = await api(ctx, suspended.key)('GET', '/api/v1/subscribers');
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('organization_suspended');
  });
});

describe('the per-process key cache', () => {
  it('forgets a revoked key in every API process at once', async () => {
    // A second app on the same database and Redis prefix stands in for another API process.
    const { createContainer } = await import('../src/container.ts');
    const { buildApp } = await import('../src/app.ts');
    const otherContainer = createContainer(ctx.config, { processName: 'test-other' });
    const otherApp = await buildApp(otherContainer);
    try {
      const { key, id } = await ctx.createKey(org.id, ['tags:read']);
      const get = (app: typeof otherApp) => app.inject({ method: 'GET', url: '/api/v1/tags', headers: { authorization: `Bearer ${key}` } });
      expect((await get(otherApp)).statusCode).toBe(200);
      expect((await get(ctx.app)).statusCode).toBe(200);
      await call('DELETE', `/api/v1/api-keys/${id}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect((await get(otherApp)).json().error.code).toBe('api_key_revoked');
      expect((await get(ctx.app)).json().error.code).toBe('api_key_revoked');
    } finally {
      await otherApp.close();
      await otherContainer.close();
    }
  });
});
