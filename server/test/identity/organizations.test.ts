import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestContext, sessionApi, TEST_TOKEN_SECRET, type TestContext } from '../support/context.ts';
import { startWorker, waitFor } from '../email/helpers.ts';
import { requestLink, tokenFromMail, verify } from './helpers.ts';

let ctx: TestContext;
const serverDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

beforeAll(async () => {
  ctx = await createTestContext({ EMAIL_DEFAULT_FROM: 'Platform <no-reply@platform.example>' });
});
afterAll(() => ctx.close());

describe('organizations', () => {
  it("creates an organization whose creator is the owner, and lists the user's organizations", async () => {
    const user = sessionApi(ctx, await ctx.createSession(null));
    const created = await user('POST', '/api/v1/organizations', { name: 'Acme Newsletters' });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ name: 'Acme Newsletters', slug: 'acme-newsletters', role: 'owner', status: 'active', locale: 'en' });
    const second = await user('POST', '/api/v1/organizations', { name: 'Acme Newsletters' });
    expect(second.json().slug).toMatch(/^acme-newsletters-[a-z0-9x]{4}$/);
    const taken = await user('POST', '/api/v1/organizations', { name: 'Other', slug: 'acme-newsletters' });
    expect(taken.statusCode).toBe(409);
    expect(taken.json().error.code).toBe('organization_slug_taken');

    const list = (await user('GET', '/api/v1/organizations')).json();
    expect(list.items.map((o: { slug: string; role: string }) => [o.slug, o.role])).toEqual([
      [second.json().slug, 'owner'],
      ['acme-newsletters', 'owner'],
    ]);
    const page = (await user('GET', '/api/v1/organizations?limit=1')).json();
    expect(page.items).toHaveLength(1);
    expect((await user('GET', `/api/v1/organizations?limit=1&cursor=${page.next_cursor}`)).json().items[0].slug).toBe('acme-newsletters');
  });

  it("reads and changes the current organization's settings (admin), never for viewers", async () => {
    const org = await ctx.createOrganization('Settings Org');
    const admin = sessionApi(ctx, await ctx.createSession(org.id, 'admin'));
    const viewer = sessionApi(ctx, await ctx.createSession(org.id, 'viewer'));
    expect((await viewer('GET', '/api/v1/organizations/current')).json()).toMatchObject({ id: org.id, name: 'Settings Org' });

    const patch = {
      name: 'Settings GmbH',
      locale: 'de',
      postal_address: 'Hauptstrasse 1, 8000 Zürich',
      email_from_name: 'Settings News',
      email_from_address: 'news@platform.example',
    };
    const changed = await admin('PATCH', '/api/v1/organizations/current', patch);
    expect(changed.statusCode).toBe(200);
    expect(changed.json()).toMatchObject(patch);
    expect(changed.body).not.toContain('stripe');
    expect((await viewer('PATCH', '/api/v1/organizations/current', { name: 'Nope' })).json().error.code).toBe('insufficient_role');

    // Without domain verification (dev mailbox) only the platform's sending domain (EMAIL_DEFAULT_FROM) is allowed.
    for (const bad of [
      {},
      { locale: 'german' },
      { email_from_address: 'not-an-address' },
      { email_from_address: 'news@settings.example' },
      { name: 'Line\nbreak' },
      { slug: 'Has Spaces' },
      { plan: 'enterprise' },
    ]) {
      expect((await admin('PATCH', '/api/v1/organizations/current', bad)).statusCode).toBe(422);
    }
    const other = await ctx.createOrganization('Slug Holder');
    const clash = await admin('PATCH', '/api/v1/organizations/current', { slug: other.slug });
    expect(clash.statusCode).toBe(409);
    expect(clash.json().error.code).toBe('organization_slug_taken');
    expect((await admin('PATCH', '/api/v1/organizations/current', { postal_address: null })).json().postal_address).toBeNull();
  });

  it('is deleted only by an owner who types the slug; access ends at once and the data is purged', async () => {
    const org = await ctx.createOrganization('Doomed');
    const owner = await ctx.createSession(org.id, 'owner');
    const admin = sessionApi(ctx, await ctx.createSession(org.id, 'admin'));
    const key = api(ctx, org.key);
    const subscriber = (await key('POST', '/api/v1/subscribers', { email: 'gone@example.com', tags: ['t'] })).json();

    expect((await admin('DELETE', '/api/v1/organizations/current', { confirm_slug: org.slug })).json().error.code).toBe('insufficient_role');
    const wrong = await sessionApi(ctx, owner)('DELETE', '/api/v1/organizations/current', { confirm_slug: 'doomed-typo' });
    expect(wrong.statusCode).toBe(422);
    expect(wrong.json().error.details[0].field).toBe('confirm_slug');

    const deleted = await sessionApi(ctx, owner)('DELETE', '/api/v1/organizations/current', { confirm_slug: org.slug });
    expect(deleted.statusCode).toBe(202);
    const byKey = await key('GET', '/api/v1/subscribers');
    expect(byKey.statusCode).toBe(403);
    expect(byKey.json().error.code).toBe('organization_suspended');
    expect((await sessionApi(ctx, owner)('GET', '/api/v1/tags')).statusCode).toBe(404);
    expect((await sessionApi(ctx, owner)('GET', '/api/v1/auth/me')).json().memberships).toEqual([]);

    // The purge is a job: the worker (run here in-process) removes everything.
    expect(await ctx.container.queues.get('maintenance').getJob(`organization-purge-${org.id}`)).toBeDefined();
    const worker = await startWorker(ctx, { queues: ['maintenance'] });
    const db = ctx.container.db;
    try {
      await waitFor(async () => !(await db.selectFrom('organizations').select('id').where('id', '=', org.id).executeTakeFirst()));
    } finally {
      await worker.close();
    }
    await ctx.container.background.drain();
    expect(await db.selectFrom('subscribers').select('id').where('id', '=', subscriber.id).executeTakeFirst()).toBeUndefined();
    expect(await db.selectFrom('api_keys').select('id').where('organization_id', '=', org.id).executeTakeFirst()).toBeUndefined();
    // The deletion itself stays on record, outside the purged organization.
    const entry = await db
      .selectFrom('audit_logs')
      .select(['organization_id', 'actor_id'])
      .where('action', '=', 'organization.delete')
      .where('target_id', '=', org.id)
      .executeTakeFirst();
    expect(entry).toEqual({ organization_id: null, actor_id: owner.userId });
  });

  it('finishes an interrupted purge from the hourly sweep, without anyone asking', async () => {
    const org = await ctx.createOrganization('Never enqueued');
    // Deleted, but its purge job was lost (say Redis was down and the process died before the fallback).
    await ctx.container.db.updateTable('organizations').set({ deleted_at: new Date(), status: 'suspended' }).where('id', '=', org.id).execute();
    await ctx.container.jobs.enqueue('organizations.purge-sweep', { tick: '2026-11-23T1000Z' });
    const worker = await startWorker(ctx, { queues: ['maintenance'] });
    try {
      await waitFor(async () => !(await ctx.container.db.selectFrom('organizations').select('id').where('id', '=', org.id).executeTakeFirst()));
    } finally {
      await worker.close();
    }
  });

  it('finishes an interrupted purge when asked', async () => {
    const org = await ctx.createOrganization('Interrupted');
    await ctx.container.db.updateTable('organizations').set({ deleted_at: new Date(), status: 'suspended' }).where('id', '=', org.id).execute();
    expect(await ctx.container.services.organizations.purgePending()).toBeGreaterThanOrEqual(1);
    expect(await ctx.container.db.selectFrom('organizations').select('id').where('id', '=', org.id).executeTakeFirst()).toBeUndefined();
  });
});

describe('operator CLI', () => {
  const cli = (args: string[]) =>
    promisify(execFile)(process.execPath, ['src/cli.ts', ...args], {
      cwd: serverDir,
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: ctx.databaseUrl,
        REDIS_URL: ctx.config.REDIS_URL,
        REDIS_PREFIX: ctx.config.REDIS_PREFIX,
        TOKEN_SECRET: TEST_TOKEN_SECRET,
        LOG_LEVEL: 'silent',
      },
    });

  it('create-admin makes a user who can then sign in to that organization', async () => {
    const org = await ctx.createOrganization('CLI Org');
    const { stdout } = await cli(['create-admin', '--email', 'operator@example.com', '--org', org.slug, '--role', 'admin']);
    const created = JSON.parse(stdout);
    expect(created).toMatchObject({
      email: 'operator@example.com',
      organization_id: org.id,
      organization_slug: org.slug,
      role: 'admin',
      is_platform_admin: false,
    });

    await requestLink(ctx, 'operator@example.com');
    const signedIn = await verify(ctx, await tokenFromMail(ctx, 'operator@example.com', '/login/verify'));
    expect(signedIn.json().user.id).toBe(created.user_id);

    const again = JSON.parse((await cli(['create-admin', '--email', 'OPERATOR@example.com', '--org', org.slug, '--platform-admin'])).stdout);
    expect(again).toMatchObject({ user_id: created.user_id, role: 'owner', is_platform_admin: true });
    await expect(cli(['create-admin', '--email', 'x@example.com', '--org', 'no-such-org'])).rejects.toThrow(/organization not found/);
  });

  it("set-limits overrides one organization's limits and gives them back to the plan", async () => {
    const org = await ctx.createOrganization('Limits Org');
    const other = await ctx.createOrganization('Untouched Org');
    const set = JSON.parse((await cli(['set-limits', '--org', org.slug, '--subscribers', '2', '--webhook-endpoints', '0'])).stdout);
    expect(set).toMatchObject({ organization_id: org.id, limits: { subscribers: 2, emails_per_month: null, webhook_endpoints: 0, custom_domains: null } });
    const call = api(ctx, org.key);
    expect((await call('POST', '/api/v1/subscribers', { email: 'a@example.com' })).statusCode).toBe(201);
    expect((await call('POST', '/api/v1/subscribers', { email: 'b@example.com' })).statusCode).toBe(201);
    expect((await call('POST', '/api/v1/subscribers', { email: 'c@example.com' })).statusCode).toBe(402);
    expect((await api(ctx, other.key)('POST', '/api/v1/subscribers', { email: 'c@example.com' })).statusCode).toBe(201);
    const back = JSON.parse((await cli(['set-limits', '--org', org.slug, '--subscribers', 'plan'])).stdout);
    expect(back.limits.subscribers).toBeNull();
    expect((await call('POST', '/api/v1/subscribers', { email: 'c@example.com' })).statusCode).toBe(201);
    await expect(cli(['set-limits', '--org', org.slug, '--subscribers', 'lots'])).rejects.toThrow(
      /whole number from 0 to 2,000,000,000, "unlimited" or "plan"/,
    );
  });
});
