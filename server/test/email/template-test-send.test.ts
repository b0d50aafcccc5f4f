import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestContext, type TestContext } from '../support/context.ts';
import { messageRow, mjml, startWorker, waitFor } from './helpers.ts';

/**
 * "Send test to me" in the template editor: a team member gets any template, marketing ones too, at
 * their own address (which is not a subscriber), marked as a test, rendered for a sample subscriber.
 */
let ctx: TestContext;
let call: ReturnType<typeof api>;
let orgId: string;
let worker: Awaited<ReturnType<typeof startWorker>>;
const templateIds: Record<string, string> = {};

beforeAll(async () => {
  ctx = await createTestContext();
  const org = await ctx.createOrganization('Acme');
  orgId = org.id;
  call = api(ctx, org.key);
  worker = await startWorker(ctx);
  await ctx.container.db.updateTable('organizations').set({ postal_address: '1 Main Street, Springfield' }).where('id', '=', orgId).execute();
  for (const [slug, category] of [['news', 'marketing'], ['receipt', 'transactional']] as const) {
    const res = await call('POST', '/api/v1/templates', { name: slug, slug, category, subject: 'Hello {{ subscriber.first_name }} {{ issue }}', mjml_content: mjml('Issue {{ issue }} for {{ subscriber.email }}') });
    expect(res.statusCode, res.body).toBe(201);
    templateIds[slug] = res.json().id;
  }
});
afterAll(async () => {
  await worker?.close();
  await ctx?.close();
});

const test = (headers: Record<string, string>, id: string, body: object = { variables: { issue: 7 } }) =>
  ctx.app.inject({ method: 'POST', url: `/api/v1/templates/${id}/test`, headers, payload: body });

describe('sending a template to yourself as a test', () => {
  it('sends a marketing template to an admin who is not a subscriber, marked as a test and linked to nobody', async () => {
    const admin = await ctx.createSession(orgId, 'admin', { email: 'editor@acme.example' });
    // The old way (sending to yourself through /emails/send) refuses marketing mail to a non-subscriber.
    const old = await ctx.app.inject({ method: 'POST', url: '/api/v1/emails/send', headers: { authorization: `Bearer ${(await ctx.createKey(orgId, ['emails:send'])).key}` }, payload: { template_id: templateIds.news, to: 'editor@acme.example', variables: { issue: 7 } } });
    expect(old.json().error.code).toBe('recipient_not_subscribed');

    const res = await test(admin.headers, templateIds.news!);
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json().to).toBe('editor@acme.example');
    const row = await messageRow(ctx, res.json().id);
    expect(row).toMatchObject({ to_address: 'editor@acme.example', subscriber_id: null, campaign_id: null, category: 'marketing', subject: '[Test] Hello Ada 7' });
    expect(row.headers).toMatchObject({ 'X-Subscribe-Flow-Test': 'true', 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' });
    expect(row.text).toContain('Issue 7 for editor@acme.example');
    await waitFor(async () => (await ctx.container.devMailbox.latestTo('editor@acme.example'))?.subject === '[Test] Hello Ada 7');
    const subscribers = await call('GET', '/api/v1/subscribers?limit=10');
    expect(subscribers.json().items).toEqual([]);
  });

  it('sends transactional templates the same way', async () => {
    const admin = await ctx.createSession(orgId, 'owner');
    const res = await test(admin.headers, templateIds.receipt!);
    expect(res.statusCode, res.body).toBe(202);
    expect((await messageRow(ctx, res.json().id)).subject).toBe('[Test] Hello Ada 7');
  });

  it('goes only to the signed-in member\'s own address: there is no address to give, and API keys cannot', async () => {
    const admin = await ctx.createSession(orgId, 'admin');
    expect((await test(admin.headers, templateIds.news!, { to: 'someone@else.example' })).statusCode).toBe(422);
    const key = await ctx.createKey(orgId, ['templates:write', 'emails:send']);
    expect((await test({ authorization: `Bearer ${key.key}` }, templateIds.news!)).json().error.code).toBe('session_required');
    const viewer = await ctx.createSession(orgId, 'viewer');
    expect((await test(viewer.headers, templateIds.news!)).statusCode).toBe(403);
  });

  it('does not reach another organization\'s template', async () => {
    const other = await ctx.createOrganization('Other');
    const stranger = await ctx.createSession(other.id, 'owner');
    expect((await test(stranger.headers, templateIds.news!)).statusCode).toBe(404);
  });
});
