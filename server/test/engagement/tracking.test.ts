import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTokenSigner } from '../../src/lib/tokens.ts';
import { newId } from '../../src/lib/ids.ts';
import { mjml, signedHeaders, WEBHOOK_SECRET } from '../email/helpers.ts';
import { api, createTestContext, type TestContext } from '../support/context.ts';
import { seedSubscribers } from '../campaigns/support.ts';

let ctx: TestContext;

beforeAll(async () => {
  ctx = await createTestContext({ TRACKING_FLUSH_MS: '20', RESEND_WEBHOOK_SECRET: WEBHOOK_SECRET });
});
afterAll(async () => {
  await ctx?.close();
});

const LINKS =
  '<a href="https://shop.example.com/sale?x=1&amp;y=2">Sale</a> <a href="mailto:help@example.com">Mail us</a> ' +
  '<a href="https://example.com/private" data-notrack>Untracked</a> <a href="{{ unsubscribe_url }}">Leave</a>';

/** An organization with a marketing template with links, one topic and `count` subscribers, and a draft campaign. */
async function setup(name: string, options: { campaignTracking?: boolean } = {}) {
  const org = await ctx.createOrganization(name);
  const call = api(ctx, org.key);
  await ctx.container.db.updateTable('organizations').set({ postal_address: '1 Example Street, Berlin' }).where('id', '=', org.id).execute();
  const template = (
    await call('POST', '/api/v1/templates', { name: 'News', slug: 'news', category: 'marketing', subject: 'News', mjml_content: mjml(LINKS) })
  ).json() as { id: string };
  const tag = (await call('POST', '/api/v1/tags', { name: 'News' })).json() as { id: string };
  await seedSubscribers(ctx, org.id, tag.id, 3, `${org.slug}-r`);
  const created = await call('POST', '/api/v1/campaigns', {
    name: 'Sale',
    template_id: template.id,
    tag_filter: { include_tags: [tag.id] },
    ...(options.campaignTracking === undefined ? {} : { tracking: options.campaignTracking }),
  });
  expect(created.statusCode, created.body).toBe(201);
  const campaign = created.json() as { id: string; tracking: boolean };
  return { org, call, campaign };
}

/** Renders and stores one campaign email per subscriber, exactly as the campaign pump does. */
async function render(organizationId: string, campaign: { id: string; tracking: boolean }) {
  const row = await ctx.container.db
    .selectFrom('campaigns')
    .select(['template_id', 'subject', 'from_name', 'reply_to', 'tracking'])
    .where('id', '=', campaign.id)
    .executeTakeFirstOrThrow();
  const composer = await ctx.container.services.emails.campaignComposer(organizationId, {
    id: campaign.id,
    templateId: row.template_id!,
    subject: row.subject,
    fromName: row.from_name,
    replyTo: row.reply_to,
    tracking: row.tracking,
  });
  const subscribers = await ctx.container.db
    .selectFrom('subscribers')
    .select(['id', 'email', 'status', 'first_name', 'last_name', 'metadata', 'locale'])
    .where('organization_id', '=', organizationId)
    .orderBy('email')
    .execute();
  const messages = await Promise.all(subscribers.map((s) => composer.compose(s, 1)));
  await ctx.container.db.transaction().execute((trx) => ctx.container.services.emailRepository.insertMessages(trx, organizationId, messages));
  return messages;
}

const hrefs = (html: string) => [...html.matchAll(/href="([^"]+)"/g)].map((m) => m[1]!.replaceAll('&amp;', '&'));
const pixelOf = (html: string) => /<img src="([^"]+\/t\/o\/[^"]+)"/.exec(html)![1]!;
const pathOf = (url: string) => new URL(url).pathname;
const flush = () => ctx.container.services.engagementRecorder.flush();
const HUMAN = { 'user-agent': 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15' };

async function rollups(campaignId: string) {
  return ctx.container.db
    .selectFrom('engagement_rollups')
    .select(['kind', 'machine', 'url', 'total', 'uniques'])
    .where('campaign_id', '=', campaignId)
    .orderBy('kind')
    .orderBy('machine')
    .orderBy('url')
    .execute();
}

/** The tracked URLs the email would carry had it been made a minute ago (past the machine window). */
function minuteOld(organizationId: string, campaignId: string, messageId: string) {
  const urls = ctx.container.services.links.tracking({ organizationId, campaignId, messageId, sentAt: Date.now() - 60_000 });
  return { pixel: pathOf(urls.pixel()), link: pathOf(urls.link('https://shop.example.com/sale?x=1&y=2')!) };
}

describe('open and click tracking', () => {
  it("rewrites a campaign email's links through signed redirects, leaves mailto, data-notrack and unsubscribe links alone, and adds a pixel and a hidden honeypot", async () => {
    const { org, campaign } = await setup('Rewrite');
    const [message] = await render(org.id, campaign);
    const links = hrefs(message!.html);
    const tracked = links.filter((l) => l.includes('/t/c/'));
    expect(tracked).toHaveLength(1);
    expect(links).toContain('mailto:help@example.com');
    expect(links).toContain('https://example.com/private');
    expect(links.some((l) => /\/u\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(l))).toBe(true);
    expect(links.filter((l) => l.includes('/t/h/'))).toHaveLength(1);
    expect(message!.html).toMatch(/<img src="[^"]+\/t\/o\/[^"]+" width="1" height="1"/);
    // The List-Unsubscribe header keeps the plain one-click URL.
    expect(message!.headers!['List-Unsubscribe']).toMatch(/\/u\//);

    // The plain-text part carries the same signed link (no raw address that bypasses tracking); the
    // unsubscribe link and the data-notrack link stay as they are there too.
    expect(message!.text).toContain(`Sale (${tracked[0]!})`);
    expect(message!.text).not.toContain('https://shop.example.com');
    expect(message!.text).toContain('(https://example.com/private)');
    expect(message!.text).toMatch(/Leave \([^)]+\/u\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\)/);

    const res = await ctx.app.inject({ method: 'GET', url: pathOf(tracked[0]!), headers: HUMAN });
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe('https://shop.example.com/sale?x=1&y=2');
    expect(res.headers['cache-control']).toContain('no-store');
  });

  it('records opens and clicks in batches with unique and total counts, human and machine apart, and the per-link rollup', async () => {
    const { org, campaign } = await setup('Counts');
    const messages = await render(org.id, campaign);
    // A hit right after sending is too soon for a person: a machine by timing.
    const [first, second] = messages;
    const fast = await ctx.app.inject({ method: 'GET', url: pathOf(pixelOf(first!.html)), headers: HUMAN });
    expect(fast.statusCode).toBe(200);
    expect(fast.headers['content-type']).toBe('image/gif');
    expect(fast.rawPayload.subarray(0, 6).toString()).toBe('GIF89a');
    const one = minuteOld(org.id, campaign.id, first!.id);
    const two = minuteOld(org.id, campaign.id, second!.id);
    for (const url of [one.pixel, one.pixel, two.pixel]) expect((await ctx.app.inject({ method: 'GET', url, headers: HUMAN })).statusCode).toBe(200);
    // HEAD is a machine, whatever its agent; a scanner agent is a machine.
    expect((await ctx.app.inject({ method: 'HEAD', url: one.link, headers: HUMAN })).statusCode).toBe(302);
    expect((await ctx.app.inject({ method: 'GET', url: two.link, headers: { 'user-agent': 'Mozilla/5.0 (compatible; Barracuda Sentinel)' } })).statusCode).toBe(
      302,
    );
    expect((await ctx.app.inject({ method: 'GET', url: one.link, headers: HUMAN })).statusCode).toBe(302);
    expect((await ctx.app.inject({ method: 'GET', url: one.link, headers: HUMAN })).statusCode).toBe(302);
    await flush();

    const rows = (await rollups(campaign.id)).map((r) => ({ ...r, total: Number(r.total), uniques: Number(r.uniques) }));
    const url = 'https://shop.example.com/sale?x=1&y=2';
    expect(rows).toEqual([
      { kind: 'click', machine: false, url: '', total: 2, uniques: 1 },
      { kind: 'click', machine: false, url, total: 2, uniques: 1 },
      { kind: 'click', machine: true, url: '', total: 2, uniques: 2 },
      { kind: 'click', machine: true, url, total: 2, uniques: 2 },
      { kind: 'open', machine: false, url: '', total: 3, uniques: 2 },
      { kind: 'open', machine: true, url: '', total: 1, uniques: 1 },
    ]);
    const events = await ctx.container.db
      .selectFrom('engagement_events')
      .select(['kind', 'machine', 'reason', 'subscriber_id', 'source'])
      .where('campaign_id', '=', campaign.id)
      .execute();
    expect(events).toHaveLength(8);
    expect(new Set(events.filter((e) => e.machine).map((e) => e.reason))).toEqual(new Set(['open_seconds_after_send', 'head_request', 'scanner_user_agent']));
    expect(events.every((e) => e.subscriber_id !== null)).toBe(true);
  });

  it('answers the pixel and tracked links without a single PostgreSQL or Redis round trip: hits are written later, one statement per batch', async () => {
    const { org, campaign } = await setup('Round trips');
    const messages = await render(org.id, campaign);
    const paths = messages.flatMap((m) => [...hrefs(m.html).filter((l) => l.includes('/t/')), pixelOf(m.html)].map(pathOf));
    // What the setup's API calls left to write (audit entries) is written before counting.
    await ctx.container.background.drain();
    await flush();
    const queries = vi.spyOn(pg.Client.prototype, 'query');
    const commands = vi.spyOn(ctx.container.redis, 'sendCommand');
    const started = Date.now();
    try {
      for (let round = 0; round < 20; round += 1) {
        for (const url of paths) expect((await ctx.app.inject({ method: 'GET', url, headers: HUMAN })).statusCode).toBeLessThan(500);
      }
      await flush();
      const statements = queries.mock.calls.map(([query]) => (typeof query === 'string' ? query : (query as { text: string }).text));
      // Only the recorder's batch statements reached PostgreSQL, at most one per flush interval (20 ms
      // here) however many hits arrived in it; nothing per hit, and nothing at all went to Redis.
      const intervals = Math.ceil((Date.now() - started) / 20) + 1;
      expect(statements.filter((text) => !text.includes('insert into engagement_events'))).toEqual([]);
      expect(statements.length).toBeGreaterThan(0);
      expect(statements.length).toBeLessThanOrEqual(Math.min(intervals, paths.length * 20));
      expect(commands.mock.calls.map(([command]) => (command as { name?: string }).name)).toEqual([]);
    } finally {
      queries.mockRestore();
      commands.mockRestore();
    }
  });

  it('counts a hit on the hidden honeypot link as a machine click and answers it with a 404', async () => {
    const { org, campaign } = await setup('Honeypot');
    const [message] = await render(org.id, campaign);
    const trap = hrefs(message!.html).find((l) => l.includes('/t/h/'))!;
    const res = await ctx.app.inject({ method: 'GET', url: pathOf(trap), headers: HUMAN });
    expect(res.statusCode).toBe(404);
    await flush();
    const events = await ctx.container.db
      .selectFrom('engagement_events')
      .select(['kind', 'machine', 'reason', 'source'])
      .where('campaign_id', '=', campaign.id)
      .execute();
    expect(events).toEqual([{ kind: 'click', machine: true, reason: 'honeypot_link', source: 'honeypot' }]);
  });

  it('never redirects anywhere but the signed address, and never answers garbage with a 5xx', async () => {
    const { org, campaign } = await setup('Garbage');
    const [message] = await render(org.id, campaign);
    const good = pathOf(hrefs(message!.html).find((l) => l.includes('/t/c/'))!)
      .split('/')
      .at(-1)!;
    const [body, signature] = good.split('.') as [string, string];
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString()) as { x: Record<string, string> };
    const evil = Buffer.from(JSON.stringify({ ...claims, x: { ...claims.x, u: 'https://evil.example/phish' } })).toString('base64url');
    const otherSecret = createTokenSigner(['another-secret-that-is-long-enough-0000000']);
    const pixelToken = pathOf(pixelOf(message!.html)).split('/').at(-1)!;
    const garbage = [
      `${evil}.${signature}`, // the address changed, the signature kept
      otherSecret.sign({ purpose: 'tc', organizationId: org.id, subjectId: message!.id, extra: { c: campaign.id, t: '0', u: 'https://evil.example/' } }),
      pixelToken, // a genuine token for another purpose
      ctx.container.tokens.sign({ purpose: 'tc', organizationId: org.id, subjectId: message!.id, extra: { c: campaign.id, t: '0', u: 'javascript:alert(1)' } }),
      ctx.container.tokens.sign({ purpose: 'tc', organizationId: org.id, subjectId: message!.id, extra: { c: campaign.id, t: '0', u: '//evil.example' } }),
      ctx.container.tokens.sign({ purpose: 'tc', organizationId: 'not-a-uuid', subjectId: 'x', extra: { c: 'y', u: 'https://evil.example' } }),
      '',
      'x',
      '.',
      '..',
      'a.b.c',
      '%00',
      '%E0%A4%A',
      encodeURIComponent('https://evil.example'),
      'é'.repeat(300),
      'A'.repeat(5000),
      `${good}x`,
      `${body}.`,
      `.${signature}`,
      encodeURIComponent('{"p":"tc"}'),
      '..%2F..%2Fetc%2Fpasswd',
    ];
    for (const token of garbage) {
      for (const kind of ['c', 'o', 'h']) {
        if (token === pixelToken && kind === 'o') continue; // that one is genuine there
        for (const method of ['GET', 'HEAD'] as const) {
          const res = await ctx.app.inject({ method, url: `/t/${kind}/${token}`, headers: HUMAN });
          expect(res.statusCode, `${method} /t/${kind}/${token.slice(0, 40)}`).toBeLessThan(500);
          expect(res.headers.location, `${method} /t/${kind}/${token.slice(0, 40)}`).toBeUndefined();
          if (kind === 'o' && res.statusCode === 200) expect(res.headers['content-type']).toBe('image/gif');
        }
      }
    }
    const res = await ctx.app.inject({ method: 'GET', url: `/t/c/${garbage[0]}`, headers: HUMAN });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ error: { code: 'invalid_link' } });
    // A pixel with a wrong token is still an image (mail clients show a broken image otherwise), and counts nothing.
    expect((await ctx.app.inject({ method: 'GET', url: '/t/o/nonsense', headers: HUMAN })).headers['content-type']).toBe('image/gif');
    await flush();
    expect(await rollups(campaign.id)).toEqual([]);
  }, 30_000);

  it('drops a hit whose signed organization does not own the campaign or the message (no cross-tenant counting)', async () => {
    const a = await setup('Tenant A');
    const b = await setup('Tenant B');
    const [message] = await render(a.org.id, a.campaign);
    const forged = [
      ctx.container.tokens.sign({ purpose: 'to', organizationId: b.org.id, subjectId: message!.id, extra: { c: a.campaign.id, t: '0' } }),
      ctx.container.tokens.sign({ purpose: 'to', organizationId: b.org.id, subjectId: message!.id, extra: { c: b.campaign.id, t: '0' } }),
      ctx.container.tokens.sign({ purpose: 'to', organizationId: a.org.id, subjectId: newId(), extra: { c: a.campaign.id, t: '0' } }),
    ];
    for (const token of forged) expect((await ctx.app.inject({ method: 'GET', url: `/t/o/${token}`, headers: HUMAN })).statusCode).toBe(200);
    await flush();
    expect(await rollups(a.campaign.id)).toEqual([]);
    expect(await rollups(b.campaign.id)).toEqual([]);
  });

  it('in privacy mode counts only aggregates: no message id in the links, no raw event, no per-subscriber row', async () => {
    const { org, campaign } = await setup('Privacy');
    const session = await ctx.createSession(org.id, 'admin');
    const changed = await ctx.app.inject({
      method: 'PATCH',
      url: '/api/v1/organizations/current',
      headers: session.headers,
      payload: { tracking_privacy: true },
    });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.json()).toMatchObject({ tracking_enabled: true, tracking_privacy: true });
    const [message] = await render(org.id, campaign);
    const token = pathOf(pixelOf(message!.html)).split('/').at(-1)!;
    expect(Buffer.from(token.split('.')[0]!, 'base64url').toString()).not.toContain(message!.id);
    expect((await ctx.app.inject({ method: 'GET', url: pathOf(pixelOf(message!.html)), headers: HUMAN })).statusCode).toBe(200);
    await flush();
    expect((await rollups(campaign.id)).map((r) => [r.kind, Number(r.total), Number(r.uniques)])).toEqual([['open', 1, 0]]);
    expect(await ctx.container.db.selectFrom('engagement_events').select('id').where('campaign_id', '=', campaign.id).execute()).toEqual([]);
    expect(await ctx.container.db.selectFrom('engagement_firsts').select('email_message_id').where('campaign_id', '=', campaign.id).execute()).toEqual([]);
  });

  it('leaves the email untouched when tracking is off for the campaign or for the organization, and in test sends', async () => {
    const off = await setup('Campaign off', { campaignTracking: false });
    expect(off.campaign.tracking).toBe(false);
    const [plain] = await render(off.org.id, off.campaign);
    expect(plain!.html).not.toContain('/t/');
    expect(hrefs(plain!.html)).toContain('https://shop.example.com/sale?x=1&y=2');
    expect(plain!.text).not.toContain('/t/');
    expect(plain!.text).toContain('Sale (https://shop.example.com/sale?x=1&y=2)');

    const orgOff = await setup('Organization off');
    await ctx.container.db.updateTable('organizations').set({ tracking_enabled: false }).where('id', '=', orgOff.org.id).execute();
    const [alsoPlain] = await render(orgOff.org.id, orgOff.campaign);
    expect(alsoPlain!.html).not.toContain('/t/');

    const on = await setup('Test send');
    expect((await on.call('POST', `/api/v1/campaigns/${on.campaign.id}/test`, { emails: ['tester@example.com'] })).statusCode).toBe(202);
    const test = await ctx.container.db
      .selectFrom('email_messages')
      .select('html')
      .where('organization_id', '=', on.org.id)
      .where('to_address', '=', 'tester@example.com')
      .executeTakeFirstOrThrow();
    expect(test.html).not.toContain('/t/');
  });

  it('counts a Resend open or click once however often the event is redelivered, and only where our own tracking is off', async () => {
    const resendEvent = (type: string, organizationId: string, messageId: string, data: Record<string, unknown> = {}) =>
      JSON.stringify({
        type,
        created_at: new Date(Date.now() + 60_000).toISOString(),
        data: { email_id: `re_${messageId}`, to: ['x@example.com'], tags: { organization_id: organizationId, message_id: messageId }, ...data },
      });
    const post = (body: string, id: string) => ctx.app.inject({ method: 'POST', url: '/hooks/resend', payload: body, headers: signedHeaders(body, id) });

    const off = await setup('Resend counts', { campaignTracking: false });
    const [message] = await render(off.org.id, off.campaign);
    const opened = resendEvent('email.opened', off.org.id, message!.id);
    const clicked = resendEvent('email.clicked', off.org.id, message!.id, {
      click: { link: 'https://shop.example.com/sale', userAgent: HUMAN['user-agent'], ipAddress: '203.0.113.9' },
    });
    for (let i = 0; i < 3; i += 1) {
      expect((await post(opened, `msg_open_${off.org.id}`)).statusCode).toBe(200);
      expect((await post(clicked, `msg_click_${off.org.id}`)).statusCode).toBe(200);
    }
    const rows = (await rollups(off.campaign.id)).map((r) => [r.kind, r.machine, r.url, Number(r.total), Number(r.uniques)]);
    expect(rows).toEqual([
      ['click', false, '', 1, 1],
      ['click', false, 'https://shop.example.com/sale', 1, 1],
      ['open', false, '', 1, 1],
    ]);
    expect(
      (await ctx.container.db.selectFrom('engagement_events').select('source').where('campaign_id', '=', off.campaign.id).execute()).map((e) => e.source),
    ).toEqual(['resend', 'resend']);

    // With our pixel in the email, Resend's own open would count the same reader twice: it is left out.
    const on = await setup('Resend with ours');
    const [tracked] = await render(on.org.id, on.campaign);
    expect((await post(resendEvent('email.opened', on.org.id, tracked!.id), `msg_open_${on.org.id}`)).statusCode).toBe(200);
    expect(await rollups(on.campaign.id)).toEqual([]);
  });

  it('serves campaign analytics from the rollups: human and machine apart, per link, rates with warnings, hourly then daily; and the organization timeseries', async () => {
    const { org, call, campaign } = await setup('Analytics');
    const messages = await render(org.id, campaign);
    await ctx.container.db
      .updateTable('campaigns')
      .set({ started_at: new Date(Date.now() - 3 * 86_400_000) })
      .where('id', '=', campaign.id)
      .execute();
    // All three sent; one bounced and one complained: both rates far above the thresholds.
    await ctx.container.db.updateTable('campaign_recipients').set({ status: 'sent' }).where('campaign_id', '=', campaign.id).execute();
    await ctx.container.db
      .insertInto('campaign_recipients')
      .values(
        messages.map((m) => ({ campaign_id: campaign.id, subscriber_id: m.subscriber_id!, organization_id: org.id, status: 'sent', email_message_id: m.id })),
      )
      .execute();
    await ctx.container.db
      .updateTable('email_messages')
      .set({ status: 'delivered', sent_at: new Date(), delivered_at: new Date() })
      .where('campaign_id', '=', campaign.id)
      .execute();
    await ctx.container.db.updateTable('email_messages').set({ bounced_at: new Date() }).where('id', '=', messages[0]!.id).execute();
    await ctx.container.db.updateTable('email_messages').set({ complained_at: new Date() }).where('id', '=', messages[1]!.id).execute();
    const one = minuteOld(org.id, campaign.id, messages[2]!.id);
    for (const url of [one.pixel, one.pixel, one.link]) await ctx.app.inject({ method: 'GET', url, headers: HUMAN });
    await ctx.app.inject({ method: 'HEAD', url: one.link, headers: HUMAN });
    await flush();
    // An old hit, two days after sending started: it lands in the daily part of the series.
    await ctx.container.db
      .insertInto('engagement_rollups')
      .values({
        organization_id: org.id,
        campaign_id: campaign.id,
        bucket: new Date(Date.now() - 86_400_000 + 0),
        kind: 'open',
        machine: false,
        url: '',
        total: 4,
        uniques: 0,
      })
      .execute();

    const res = await call('GET', `/api/v1/campaigns/${campaign.id}/analytics`);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      sent: 3,
      delivered: 3,
      bounced: 1,
      complained: 1,
      opens: { human: { total: 6, unique: 1 }, machine: { total: 0, unique: 0 } },
      clicks: { human: { total: 1, unique: 1 }, machine: { total: 1, unique: 1 } },
      links: [{ url: 'https://shop.example.com/sale?x=1&y=2', human: { total: 1, unique: 1 }, machine: { total: 1, unique: 1 } }],
    });
    expect(body.rates.open_rate).toBeCloseTo(1 / 3);
    expect(body.warnings.map((w: { code: string }) => w.code)).toEqual(['bounce_rate_high', 'complaint_rate_high']);
    expect(body.series.map((p: { interval: string }) => p.interval)).toEqual(['day', 'day']);

    const other = await ctx.createOrganization('Analytics other');
    expect((await api(ctx, other.key)('GET', `/api/v1/campaigns/${campaign.id}/analytics`)).statusCode).toBe(404);

    const series = await call('GET', `/api/v1/analytics/timeseries?metric=opens&interval=day&from=${new Date(Date.now() - 7 * 86_400_000).toISOString()}`);
    expect(series.statusCode, series.body).toBe(200);
    const points = series.json().points as { value: number; machine: number }[];
    expect(points.length).toBeGreaterThanOrEqual(7);
    expect(points.reduce((sum, p) => sum + p.value, 0)).toBe(6);
    const sends = (await call('GET', '/api/v1/analytics/timeseries?metric=sends&interval=hour&from=' + new Date(Date.now() - 3600_000).toISOString())).json();
    expect(sends.points.reduce((sum: number, p: { value: number }) => sum + p.value, 0)).toBe(3);
    const growth = (await call('GET', '/api/v1/analytics/timeseries?metric=net_subscribers')).json();
    expect(growth.points.reduce((sum: number, p: { value: number }) => sum + p.value, 0)).toBe(3);
    // The overview's delivery chart: of the three sent in this hour, all delivered, one bounced, one complained.
    const rate = async (metric: string) =>
      (
        (await call('GET', `/api/v1/analytics/timeseries?metric=${metric}&interval=hour&from=${new Date(Date.now() - 3600_000).toISOString()}`)).json()
          .points as { value: number }[]
      ).reduce((max, p) => Math.max(max, p.value), 0);
    expect(await rate('delivery_rate')).toBe(1);
    expect(await rate('bounce_rate')).toBeCloseTo(1 / 3);
    expect(await rate('complaint_rate')).toBeCloseTo(1 / 3);
    const tooLong = await call('GET', '/api/v1/analytics/timeseries?metric=opens&interval=hour&from=2020-01-01T00:00:00Z');
    expect(tooLong.statusCode).toBe(422);
    expect(tooLong.json().error.code).toBe('range_too_long');
  });

  it('segments on engagement count human opens and clicks only: opened / not opened a campaign, clicked in the last N days, received', async () => {
    const { org, call, campaign } = await setup('Segments');
    const messages = await render(org.id, campaign);
    await ctx.container.db.updateTable('email_messages').set({ sent_at: new Date() }).where('campaign_id', '=', campaign.id).execute();
    const [a, b] = messages.map((m) => minuteOld(org.id, campaign.id, m.id));
    await ctx.app.inject({ method: 'GET', url: a!.pixel, headers: HUMAN }); // a person
    await ctx.app.inject({ method: 'GET', url: a!.link, headers: HUMAN });
    await ctx.app.inject({ method: 'GET', url: b!.pixel, headers: { 'user-agent': 'Mozilla/5.0 (via ggpht.com GoogleImageProxy)' } }); // a proxy
    await flush();
    const count = async (conditions: unknown[]) => {
      const res = await call('POST', '/api/v1/segments/preview-count', { filter: { match: 'all', conditions } });
      expect(res.statusCode, res.body).toBe(200);
      return res.json().count as number;
    };
    expect(await count([{ field: 'opened', op: 'in', value: [campaign.id] }])).toBe(1);
    expect(
      await count([
        { field: 'received', op: 'in', value: [campaign.id] },
        { field: 'opened', op: 'not_in', value: [campaign.id] },
      ]),
    ).toBe(2);
    expect(await count([{ field: 'clicked', op: 'within_days', value: 7 }])).toBe(1);
    expect(await count([{ field: 'received', op: 'exists' }])).toBe(3);
    const other = await setup('Segments other');
    // Another organization's campaign id matches nobody here.
    expect(
      await api(ctx, other.org.key)('POST', '/api/v1/segments/preview-count', {
        filter: { match: 'all', conditions: [{ field: 'opened', op: 'in', value: [campaign.id] }] },
      }).then((r) => r.json().count),
    ).toBe(0);
    const bad = await call('POST', '/api/v1/segments/preview-count', {
      filter: { match: 'all', conditions: [{ field: 'opened', op: 'in', value: ['not-a-campaign'] }] },
    });
    expect(bad.statusCode).toBe(422);

    // "Resend to non-openers": one action, a draft campaign for exactly the two who did not open.
    expect((await call('POST', `/api/v1/campaigns/${campaign.id}/resend`, { to: 'non_openers' })).statusCode).toBe(409);
    await ctx.container.db.updateTable('campaigns').set({ status: 'sent' }).where('id', '=', campaign.id).execute();
    const resent = await call('POST', `/api/v1/campaigns/${campaign.id}/resend`, { to: 'non_openers' });
    expect(resent.statusCode, resent.body).toBe(201);
    expect(resent.json()).toMatchObject({ status: 'draft', tag_filter: null, name: 'Sale (did not open)' });
    expect((await call('GET', `/api/v1/campaigns/${resent.json().id}/recipient-count`)).json()).toMatchObject({ count: 2 });
    const nonClickers = (await call('POST', `/api/v1/campaigns/${campaign.id}/resend`, { to: 'non_clickers' })).json();
    expect((await call('GET', `/api/v1/campaigns/${nonClickers.id}/recipient-count`)).json()).toMatchObject({ count: 2 });
    expect((await api(ctx, other.org.key)('POST', `/api/v1/campaigns/${campaign.id}/resend`, { to: 'non_openers' })).statusCode).toBe(404);
  });
});
