import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, sessionApi, type TestContext } from '../support/context.ts';
import { campaignOrganization, runJob } from './support.ts';

/**
 * The organization's sending window: a campaign that starts outside it freezes its audience, sends
 * nothing, and says when it goes on; once the window is open again the cron tick starts it.
 */
let ctx: TestContext;

beforeAll(async () => {
  ctx = await createTestContext();
});

afterAll(async () => {
  await ctx?.close();
});

/** The organization's owner, signed in: settings are changed by people, not API keys. */
async function owner(organizationId: string) {
  return sessionApi(ctx, await ctx.createSession(organizationId, 'owner'));
}

/** Tomorrow (UTC) at 09:00 and its ISO weekday: a window on that day only is closed right now. */
function tomorrowAtNine() {
  const now = new Date();
  const at = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1, 9, 0));
  return { at, weekday: at.getUTCDay() === 0 ? 7 : at.getUTCDay() };
}

describe('the sending window', () => {
  it('is validated in words a person understands', async () => {
    const org = await campaignOrganization(ctx, 'Window rules', 0);
    const settings = await owner(org.id);
    const zone = await settings('PATCH', '/api/v1/organizations/current', { timezone: 'Mars/Olympus_Mons' });
    expect(zone.statusCode).toBe(422);
    expect(zone.json().error).toMatchObject({ code: 'invalid_timezone', details: [{ field: 'timezone' }] });
    const backwards = await settings('PATCH', '/api/v1/organizations/current', { sending_window: { days: [1, 2], start: '17:00', end: '09:00' } });
    expect(backwards.statusCode).toBe(422);
    // A rule of the operation: its own sentence, marked `rejected` so apps show it as it is.
    expect(backwards.json().error).toMatchObject({
      code: 'invalid_sending_window',
      details: [{ field: 'sending_window.end', code: 'rejected', message: 'Choose an end time later than the start time' }],
    });
    expect((await settings('PATCH', '/api/v1/organizations/current', { sending_window: { days: [8], start: '09:00', end: '17:00' } })).statusCode).toBe(422);
    const saved = await settings('PATCH', '/api/v1/organizations/current', {
      timezone: 'Europe/Berlin',
      sending_window: { days: [1, 2, 3, 4, 5], start: '09:00', end: '17:30' },
    });
    expect(saved.statusCode, saved.body).toBe(200);
    expect(saved.json()).toMatchObject({ timezone: 'Europe/Berlin', sending_window: { days: [1, 2, 3, 4, 5], start: '09:00', end: '17:30' } });
    expect((await settings('GET', '/api/v1/organizations/current')).json()).toMatchObject({ timezone: 'Europe/Berlin' });
  });

  it('holds a campaign outside the window, says when it resumes, and goes on when the window opens', async () => {
    const org = await campaignOrganization(ctx, 'Window hold', 30);
    const settings = await owner(org.id);
    const { at, weekday } = tomorrowAtNine();
    expect(
      (await settings('PATCH', '/api/v1/organizations/current', { timezone: 'UTC', sending_window: { days: [weekday], start: '09:00', end: '17:00' } }))
        .statusCode,
    ).toBe(200);
    const created = await org.call('POST', '/api/v1/campaigns', { name: 'Held news', template_id: org.templateId, tag_filter: { include_tags: [org.tagId] } });
    const id = created.json().id as string;
    expect((await org.call('POST', `/api/v1/campaigns/${id}/send`, {})).statusCode).toBe(200);
    const run = runJob(ctx);
    await run('campaign.start', { campaign_id: id, tick: 'window-test' });
    expect(await run('campaign.pump', { campaign_id: id, round: 1, step: 's_0' })).toBe('held');

    const campaign = (await org.call('GET', `/api/v1/campaigns/${id}`)).json();
    expect(campaign).toMatchObject({ status: 'sending', targeted_count: 30, resumes_at: at.toISOString() });
    expect((await org.call('GET', `/api/v1/campaigns/${id}/progress`)).json()).toMatchObject({ queued: 30, sent: 0, resumes_at: at.toISOString() });
    const messages = () =>
      ctx.container.db
        .selectFrom('email_messages')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('campaign_id', '=', id)
        .executeTakeFirstOrThrow();
    expect((await messages()).n).toBe(0);
    // A held campaign is not a stalled one: the tick leaves it alone while the window is closed.
    expect(await run('campaigns.tick', { tick: 'window-tick-1' })).toMatchObject({ restarted: 0 });

    // The admin removes the window: the next tick starts the pump, which clears the hold and sends.
    expect((await settings('PATCH', '/api/v1/organizations/current', { sending_window: null })).statusCode).toBe(200);
    expect(await run('campaigns.tick', { tick: 'window-tick-2' })).toMatchObject({ restarted: 1 });
    await run('campaign.pump', { campaign_id: id, round: 1, step: 'window-tick-2_0' });
    expect((await messages()).n).toBe(30);
    expect((await org.call('GET', `/api/v1/campaigns/${id}`)).json().resumes_at).toBeNull();
  });
});
