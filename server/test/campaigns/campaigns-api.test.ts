import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestContext, type TestContext } from '../support/context.ts';
import { mjml } from '../email/helpers.ts';
import { campaignOrganization } from './support.ts';

let ctx: TestContext;
let org: Awaited<ReturnType<typeof campaignOrganization>>;

beforeAll(async () => {
  ctx = await createTestContext();
  org = await campaignOrganization(ctx, 'Campaign API', 10);
});
afterAll(() => ctx.close());

const draft = async (extra: Record<string, unknown> = {}) => {
  const res = await org.call('POST', '/api/v1/campaigns', { name: 'Draft', template_id: org.templateId, tag_filter: { include_tags: [org.tagId] }, ...extra });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string; status: string };
};

describe('the campaign API', () => {
  it('creates drafts, lists them by status and changes or deletes them only before sending', async () => {
    const campaign = await draft({ subject: 'Hello {{ subscriber.email }}' });
    expect(campaign.status).toBe('draft');
    const listed = (await org.call('GET', '/api/v1/campaigns?status=draft')).json().items as { id: string }[];
    expect(listed.map((c) => c.id)).toContain(campaign.id);
    expect((await org.call('GET', '/api/v1/campaigns?status=sent')).json().items).toEqual([]);
    expect((await org.call('PATCH', `/api/v1/campaigns/${campaign.id}`, { name: 'Renamed' })).json().name).toBe('Renamed');
    const scheduled = await org.call('POST', `/api/v1/campaigns/${campaign.id}/send`, { scheduled_at: new Date(Date.now() + 3_600_000).toISOString() });
    expect(scheduled.statusCode, scheduled.body).toBe(200);
    expect(scheduled.json().status).toBe('scheduled');
    expect((await org.call('PATCH', `/api/v1/campaigns/${campaign.id}`, { name: 'Still editable' })).statusCode).toBe(200);
    expect((await org.call('POST', `/api/v1/campaigns/${campaign.id}/cancel`)).json().status).toBe('cancelled');
    const edit = await org.call('PATCH', `/api/v1/campaigns/${campaign.id}`, { name: 'Too late' });
    expect(edit.statusCode).toBe(409);
    expect(edit.json().error.code).toBe('campaign_invalid_state');
    expect((await org.call('DELETE', `/api/v1/campaigns/${campaign.id}`)).statusCode).toBe(409);
    const copy = await org.call('POST', `/api/v1/campaigns/${campaign.id}/duplicate`);
    expect(copy.statusCode).toBe(201);
    expect(copy.json()).toMatchObject({ status: 'draft', name: 'Still editable (copy)' });
    expect((await org.call('DELETE', `/api/v1/campaigns/${copy.json().id}`)).statusCode).toBe(204);
  });

  it('counts the audience exactly and says who is left out and why', async () => {
    const people = await ctx.container.db.selectFrom('subscribers').select(['id', 'email']).where('organization_id', '=', org.id).orderBy('email').execute();
    await org.call('PATCH', `/api/v1/subscribers/${people[0]!.id}`, { status: 'unsubscribed' });
    await org.call('POST', '/api/v1/suppressions', { email: people[1]!.email });
    await org.call('DELETE', `/api/v1/subscribers/${people[2]!.id}/tags/news`);
    const campaign = await draft();
    const count = await org.call('GET', `/api/v1/campaigns/${campaign.id}/recipient-count`);
    expect(count.json()).toEqual({
      count: 7,
      excluded: { unsubscribed_from_topic: 1, unsubscribed: 1, bounced: 0, complained: 0, suppressed: 1, pending_confirmation: 0 },
    });
  });

  it('refuses to send what cannot go out: a past time, a transactional template, no postal address, no audience, too little quota', async () => {
    const campaign = await draft();
    const past = await org.call('POST', `/api/v1/campaigns/${campaign.id}/send`, { scheduled_at: '2020-01-01T00:00:00Z' });
    expect(past.statusCode).toBe(422);
    expect(past.json().error.code).toBe('scheduled_in_past');

    const transactional = (
      await org.call('POST', '/api/v1/templates', { name: 'Receipt', slug: 'receipt', subject: 'Receipt', mjml_content: mjml('Thanks') })
    ).json().id as string;
    const wrongTemplate = await draft({ template_id: transactional });
    expect((await org.call('POST', `/api/v1/campaigns/${wrongTemplate.id}/send`, {})).json().error.code).toBe('template_not_marketing');

    const emptyTag = (await org.call('POST', '/api/v1/tags', { name: 'Nobody' })).json().id as string;
    const nobody = await draft({ tag_filter: { include_tags: [emptyTag] } });
    expect((await org.call('POST', `/api/v1/campaigns/${nobody.id}/send`, {})).json().error.code).toBe('audience_empty');

    await ctx.container.db.updateTable('organizations').set({ max_emails_per_month: 5 }).where('id', '=', org.id).execute();
    const quota = await org.call('POST', `/api/v1/campaigns/${campaign.id}/send`, {});
    expect(quota.statusCode).toBe(402);
    expect(quota.json().error.code).toBe('plan_limit_exceeded');
    expect(quota.json().error.message).toMatch(/of the 5 emails .* 7 more/);
    await ctx.container.db.updateTable('organizations').set({ max_emails_per_month: null }).where('id', '=', org.id).execute();

    await ctx.container.db.updateTable('organizations').set({ postal_address: null }).where('id', '=', org.id).execute();
    const noAddress = await org.call('POST', `/api/v1/campaigns/${campaign.id}/send`, {});
    expect(noAddress.json().error.code).toBe('postal_address_missing');
    await ctx.container.db.updateTable('organizations').set({ postal_address: '1 Example Street, Berlin' }).where('id', '=', org.id).execute();
    expect((await org.call('GET', `/api/v1/campaigns/${campaign.id}`)).json().status).toBe('draft');
    const usage = await ctx.container.db.selectFrom('organizations').select('emails_sent_this_month').where('id', '=', org.id).executeTakeFirstOrThrow();
    expect(usage.emails_sent_this_month).toBe(0);
  });

  it('sends a test to at most five addresses without touching the campaign', async () => {
    const campaign = await draft({ subject: 'Test for {{ subscriber.email }}' });
    const tested = await org.call('POST', `/api/v1/campaigns/${campaign.id}/test`, { emails: ['me@example.com', 'you@example.com'] });
    expect(tested.statusCode, tested.body).toBe(202);
    expect(tested.json()).toEqual({ sent: 2 });
    const rows = await ctx.container.db
      .selectFrom('email_messages')
      .select(['to_address', 'campaign_id', 'subscriber_id', 'headers', 'subject'])
      .where('organization_id', '=', org.id)
      .where('to_address', 'in', ['me@example.com', 'you@example.com'])
      .execute();
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row).toMatchObject({ campaign_id: null, subscriber_id: null });
    expect(rows[0]!.subject).toMatch(/^Test for .+@example\.com$/);
    expect((rows[0]!.headers as Record<string, string>)['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    expect((await org.call('GET', `/api/v1/campaigns/${campaign.id}`)).json()).toMatchObject({ status: 'draft', targeted_count: 0 });
    const tooMany = await org.call('POST', `/api/v1/campaigns/${campaign.id}/test`, {
      emails: ['a@x.test', 'b@x.test', 'c@x.test', 'd@x.test', 'e@x.test', 'f@x.test'],
    });
    expect(tooMany.statusCode).toBe(422);
    await ctx.container.db.deleteFrom('email_messages').where('organization_id', '=', org.id).execute();
    await ctx.container.db.updateTable('organizations').set({ emails_sent_this_month: 0 }).where('id', '=', org.id).execute();
  });

  it('lets a campaigns:read key read everything but send, pause, cancel or change nothing', async () => {
    const campaign = await draft();
    const reader = api(ctx, (await ctx.createKey(org.id, ['campaigns:read'])).key);
    for (const path of ['', '/recipient-count', '/progress', '/stats', '/recipients']) {
      expect((await reader('GET', `/api/v1/campaigns/${campaign.id}${path}`)).statusCode, path).toBe(200);
    }
    for (const action of ['send', 'pause', 'resume', 'cancel', 'duplicate', 'retry', 'test']) {
      const body = action === 'send' ? {} : action === 'test' ? { emails: ['me@example.com'] } : undefined;
      const res = await reader('POST', `/api/v1/campaigns/${campaign.id}/${action}`, body);
      expect(res.statusCode, action).toBe(403);
      expect(res.json().error.code).toBe('insufficient_scope');
    }
    expect((await reader('PATCH', `/api/v1/campaigns/${campaign.id}`, { name: 'x' })).statusCode).toBe(403);
    expect((await reader('POST', '/api/v1/campaigns', { name: 'x' })).statusCode).toBe(403);
    expect((await org.call('GET', `/api/v1/campaigns/${campaign.id}`)).json().status).toBe('draft');
  });

  it("hides one organization's campaigns from another", async () => {
    const campaign = await draft();
    const other = await ctx.createOrganization('Other');
    const call = api(ctx, other.key);
    expect((await call('GET', `/api/v1/campaigns/${campaign.id}`)).statusCode).toBe(404);
    expect((await call('POST', `/api/v1/campaigns/${campaign.id}/send`, {})).statusCode).toBe(404);
    expect((await call('POST', `/api/v1/campaigns/${campaign.id}/cancel`)).statusCode).toBe(404);
    expect((await call('GET', '/api/v1/campaigns')).json().items).toEqual([]);
    // Nor can another organization's tag or segment become an audience.
    const foreign = await call('POST', '/api/v1/campaigns', { name: 'Steal', tag_filter: { include_tags: [org.tagId] } });
    expect(foreign.statusCode).toBe(422);
  });
});
