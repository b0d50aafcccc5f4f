import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestContext } from '../../server/test/support/context.ts';
import { startWorker, waitFor } from '../../server/test/email/helpers.ts';
import { ConflictError, PermissionDeniedError, SubscribeFlowClient, ValidationError } from '../src/index.ts';
import { startApi } from './support.ts';

const NEWSLETTER =
  '<mjml><mj-body><mj-section><mj-column><mj-text>Hello {{ subscriber.first_name | default: "reader" }}</mj-text></mj-column></mj-section></mj-body></mjml>';

let ctx: TestContext;
let sf: SubscribeFlowClient;
let baseUrl: string;
let organizationId: string;
let worker: Awaited<ReturnType<typeof startWorker>>;
let templateId: string;
let newsId: string;

beforeAll(async () => {
  const started = await startApi();
  ctx = started.ctx;
  baseUrl = started.baseUrl;
  organizationId = started.organization.id;
  sf = new SubscribeFlowClient({ apiKey: started.organization.key, baseUrl });
  // A campaign needs the sender's postal address (for the footer) and a marketing template.
  await ctx.container.db.updateTable('organizations').set({ postal_address: '1 Example Street, Berlin' }).where('id', '=', organizationId).execute();
  templateId = (await sf.templates.create({ name: 'Newsletter', slug: 'newsletter', category: 'marketing', subject: 'News', mjml_content: NEWSLETTER })).id;
  newsId = (await sf.tags.create({ name: 'News' })).id;
  await sf.subscribers.batch({
    subscribers: [
      { email: 'ada@acme.test', first_name: 'Ada', tags: ['news'], metadata: { plan: 'pro' } },
      { email: 'bob@acme.test', first_name: 'Bob', tags: ['news'], metadata: { plan: 'free' } },
      { email: 'cyd@other.test', first_name: 'Cyd', tags: ['news'], metadata: { plan: 'pro' } },
    ],
  });
  worker = await startWorker(ctx, { queues: ['sync', 'email'] });
});
afterAll(async () => {
  await worker?.close();
  await ctx?.close();
});

describe('segments through the SDK', () => {
  it('previews a filter, saves it, counts it, samples its members, changes and deletes it', async () => {
    const filter = { match: 'all' as const, conditions: [{ field: 'metadata.plan' as const, op: 'eq' as const, value: 'pro' }] };
    expect(await sf.segments.previewCount(filter)).toMatchObject({ count: 2 });
    const segment = await sf.segments.create({ name: 'Pro plan', filter });
    expect((await sf.segments.get(segment.id)).name).toBe('Pro plan');
    expect((await sf.segments.count(segment.id)).count).toBe(2);
    const members = await sf.segments.members(segment.id);
    expect(members.items.map((m) => m.email).sort()).toEqual(['ada@acme.test', 'cyd@other.test']);

    const narrowed = await sf.segments.update(segment.id, {
      filter: { match: 'all', conditions: [...filter.conditions, { field: 'email', op: 'domain', value: 'acme.test' }] },
    });
    expect(narrowed.id).toBe(segment.id);
    expect((await sf.segments.count(segment.id)).count).toBe(1);
    const listed: string[] = [];
    for await (const s of sf.segments.listAll({ limit: 1 })) listed.push(s.id);
    expect(listed).toContain(segment.id);
    await sf.segments.delete(segment.id);
    await expect(sf.segments.get(segment.id)).rejects.toMatchObject({ status: 404 });
  });

  it('reports a filter the API refuses as a ValidationError naming the field', async () => {
    const error = await sf.segments
      .previewCount({ match: 'all', conditions: [{ field: 'status', op: 'eq', value: 'nonsense' }] } as never)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).details.length).toBeGreaterThan(0);
  });
});

describe('campaigns through the SDK', () => {
  const draft = (name: string) => sf.campaigns.create({ name, template_id: templateId, tag_filter: { include_tags: [newsId] } });

  it('drafts, counts the audience, sends, follows progress, reads stats and the recipients', async () => {
    const campaign = await draft('December news');
    expect(campaign.status).toBe('draft');
    expect(await sf.campaigns.recipientCount(campaign.id)).toMatchObject({ count: 3 });
    expect((await sf.campaigns.test(campaign.id, ['me@example.com'])).sent).toBe(1);

    const sending = await sf.campaigns.send(campaign.id);
    expect(['scheduled', 'sending', 'sent']).toContain(sending.status);
    // Sending twice is a conflict, never a second send.
    await expect(sf.campaigns.send(campaign.id)).rejects.toBeInstanceOf(ConflictError);

    const progress = await waitFor(
      async () => {
        const p = await sf.campaigns.progress(campaign.id);
        return p.status === 'sent' ? p : null;
      },
      30_000,
      200,
    );
    expect(progress).toMatchObject({ targeted: 3, sent: 3, failed: 0 });
    expect(await sf.campaigns.stats(campaign.id)).toMatchObject({ targeted: 3, sent: 3 });

    const firstPage = await sf.campaigns.recipients(campaign.id, { limit: 2 });
    expect(firstPage.items).toHaveLength(2);
    const everyone: string[] = [];
    for await (const r of sf.campaigns.recipientsAll(campaign.id, { limit: 2 })) everyone.push(r.email ?? '');
    expect(everyone.sort()).toEqual(['ada@acme.test', 'bob@acme.test', 'cyd@other.test']);
    expect((await sf.campaigns.list({ status: 'sent' })).items.map((c) => c.id)).toEqual([campaign.id]);
    // Nothing failed, so a retry has nothing to send again.
    expect(await sf.campaigns.retry(campaign.id)).toMatchObject({ requeued: 0, campaign: { id: campaign.id, status: 'sent' } });
  });

  it('schedules, pauses nothing that is not sending, cancels, duplicates and deletes a draft', async () => {
    const campaign = await draft('Later');
    const updated = await sf.campaigns.update(campaign.id, { subject: 'Coming soon' });
    expect(updated.subject).toBe('Coming soon');
    const scheduled = await sf.campaigns.send(campaign.id, { scheduled_at: new Date(Date.now() + 3_600_000).toISOString() });
    expect(scheduled.status).toBe('scheduled');
    await expect(sf.campaigns.pause(campaign.id)).rejects.toMatchObject({ status: 409, code: 'campaign_invalid_state' });
    await expect(sf.campaigns.resume(campaign.id)).rejects.toMatchObject({ status: 409 });
    expect((await sf.campaigns.cancel(campaign.id)).status).toBe('cancelled');

    const copy = await sf.campaigns.duplicate(campaign.id);
    expect(copy).toMatchObject({ status: 'draft', name: 'Later (copy)' });
    expect((await sf.campaigns.get(copy.id)).subject).toBe('Coming soon');
    await sf.campaigns.delete(copy.id);
    await expect(sf.campaigns.get(copy.id)).rejects.toMatchObject({ status: 404, code: 'campaign_not_found' });
    const all: string[] = [];
    for await (const c of sf.campaigns.listAll({ limit: 1 })) all.push(c.id);
    expect(all).toContain(campaign.id);
  });

  it('lets a campaigns:read key read but not send', async () => {
    const campaign = await draft('Read only');
    const reader = new SubscribeFlowClient({ apiKey: (await ctx.createKey(organizationId, ['campaigns:read'])).key, baseUrl });
    expect((await reader.campaigns.get(campaign.id)).id).toBe(campaign.id);
    await expect(reader.campaigns.recipientCount(campaign.id)).resolves.toMatchObject({ count: 3 });
    await expect(reader.campaigns.send(campaign.id)).rejects.toBeInstanceOf(PermissionDeniedError);
    expect((await sf.campaigns.get(campaign.id)).status).toBe('draft');
  });

  it('runs an A/B test: reads the results per variant and chooses the winner', async () => {
    const campaign = await sf.campaigns.create({
      name: 'Subject test',
      template_id: templateId,
      tag_filter: { include_tags: [newsId] },
      ab_test: { variants: [{ subject: 'One' }, { subject: 'Two' }], test_share: 50, metric: 'human_unique_clicks', wait_hours: 1, winner: 'manual' },
    });
    expect((await sf.campaigns.abTest(campaign.id)).state).toBe('not_started');
    await sf.campaigns.send(campaign.id);
    // round(3 × 50 %) = 2 in the test, one per variant; one waits for the winner.
    const waiting = await waitFor(
      async () => {
        const r = await sf.campaigns.abTest(campaign.id);
        return r.state === 'waiting' ? r : null;
      },
      30_000,
      200,
    );
    expect(waiting.variants.map((v) => v.recipients)).toEqual([1, 1]);
    expect(waiting.rest).toEqual({ recipients: 1, held: 1 });
    expect(await sf.campaigns.chooseAbTestWinner(campaign.id, 1)).toMatchObject({ state: 'decided', winner: 1, winner_chosen_by: 'manual' });
    await expect(sf.campaigns.chooseAbTestWinner(campaign.id, 0)).rejects.toBeInstanceOf(ConflictError);
    await waitFor(async () => (await sf.campaigns.progress(campaign.id)).status === 'sent', 30_000, 200);
  });
});
