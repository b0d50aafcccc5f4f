import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/index.ts';
import { createContainer } from '../../src/container.ts';
import { createMetrics } from '../../src/metrics/registry.ts';
import { newId } from '../../src/lib/ids.ts';
import { api, createTestContext, sessionApi, TEST_TOKEN_SECRET, type TestContext } from '../support/context.ts';
import { startFakeStripe, type FakeStripe } from '../support/fake-stripe.ts';
import { resendConfig, startWorker, waitFor } from '../email/helpers.ts';
import { createFakeResend } from '../support/fake-resend.ts';
import { campaignOrganization } from '../campaigns/support.ts';

const STRIPE_KEY = 'sk_test_periods0123456789';
const WEBHOOK_SECRET = 'whsec_periodstestsecret0123456789';
const PLANS = JSON.stringify({ starter: { stripe_price_id: 'price_starter' }, professional: { stripe_price_id: 'price_pro' } });
const BILLING = { STRIPE_SECRET_KEY: STRIPE_KEY, STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, BILLING_PLANS: PLANS, BILLING_GRACE_DAYS: '7' };
const serverDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DAY = 86_400;

let stripe: FakeStripe;
let ctx: TestContext;
let worker: Awaited<ReturnType<typeof startWorker>>;

beforeAll(async () => {
  stripe = await startFakeStripe({ apiKey: STRIPE_KEY, webhookSecret: WEBHOOK_SECRET });
  ctx = await createTestContext({ ...BILLING, STRIPE_API_URL: stripe.url, RATE_LIMIT_API_KEY_PER_MINUTE: '100000', WEBHOOKS_ALLOW_PRIVATE_HOSTS: '127.0.0.1' });
  worker = await startWorker(ctx, { queues: ['sync'] });
});
afterAll(async () => {
  await worker?.close();
  await ctx?.close();
  await stripe?.close();
});

async function organization(name?: string) {
  const org = await ctx.createOrganization(name);
  const owner = await ctx.createSession(org.id, 'owner');
  return { ...org, owner: sessionApi(ctx, owner), ownerEmail: owner.email, call: api(ctx, org.key) };
}

/** Delivers a signed event and waits until the worker applied it. */
async function deliver(event: { id: string; payload: string; signature: string }) {
  const response = await ctx.app.inject({
    method: 'POST',
    url: '/hooks/stripe',
    payload: event.payload,
    headers: { 'content-type': 'application/json', 'stripe-signature': event.signature },
  });
  expect(response.statusCode, response.body).toBe(200);
  await waitFor(
    async () => (await ctx.container.db.selectFrom('stripe_events').select('applied_at').where('id', '=', event.id).executeTakeFirst())?.applied_at,
  );
}

/** Subscribes to Starter with the billing period Stripe reports ending at `periodEnd` (30 days long). */
async function subscribe(org: Awaited<ReturnType<typeof organization>>, periodEnd: number, status: 'active' | 'canceled' = 'active') {
  const checkout = await org.owner('POST', '/api/v1/billing/checkout', { plan: 'starter' });
  expect(checkout.statusCode, checkout.body).toBe(200);
  const { stripe_customer_id: customer } = await ctx.container.db
    .selectFrom('organizations')
    .select('stripe_customer_id')
    .where('id', '=', org.id)
    .executeTakeFirstOrThrow();
  const subscription = stripe.setSubscription({ customer: customer!, status, price: 'price_starter', current_period_end: periodEnd });
  await deliver(stripe.event('customer.subscription.updated', { ...stripe.subscriptionObject(subscription) }));
  return subscription;
}

const setUsage = (organizationId: string, used: number, periodStart: Date | ReturnType<typeof sql>) =>
  ctx.container.db
    .updateTable('organizations')
    .set({ emails_sent_this_month: used, usage_period_start: periodStart as Date })
    .where('id', '=', organizationId)
    .execute();

const now = () => Math.floor(Date.now() / 1000);
const monthStart = () => {
  const d = new Date();
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
};

describe('usage per billing period', () => {
  it('counts the email quota over the Stripe billing period, shown with its start and end on GET /billing', async () => {
    const org = await organization();
    const end = now() + 10 * DAY;
    await subscribe(org, end);
    const body = (await org.owner('GET', '/api/v1/billing')).json();
    expect(body.usage_period).toEqual({
      start: new Date((end - 30 * DAY) * 1000).toISOString(),
      end: new Date(end * 1000).toISOString(),
      basis: 'subscription',
    });
    const row = await ctx.container.db.selectFrom('organizations').select(['current_period_start']).where('id', '=', org.id).executeTakeFirstOrThrow();
    expect(row.current_period_start?.toISOString()).toBe(new Date((end - 30 * DAY) * 1000).toISOString());

    // Sent inside the billing period but before this calendar month... counted: the period is what counts.
    await setUsage(org.id, 50_000, new Date((end - 25 * DAY) * 1000));
    const full = (await org.owner('GET', '/api/v1/billing')).json();
    expect(full.usage.find((u: { limit: string }) => u.limit === 'emails_per_month')).toEqual({ limit: 'emails_per_month', used: 50_000, max: 50_000 });
    const { entitlements } = ctx.container.services;
    await expect(entitlements.reserveEmails(ctx.container.db, org.id, 1)).rejects.toMatchObject({ status: 402, code: 'plan_limit_exceeded' });

    // Counted before the period started: a new period, nothing used.
    await setUsage(org.id, 50_000, new Date((end - 31 * DAY) * 1000));
    await entitlements.reserveEmails(ctx.container.db, org.id, 50_000);
    await expect(entitlements.reserveEmails(ctx.container.db, org.id, 1)).rejects.toMatchObject({ status: 402 });
  });

  it('starts a new period on time when the renewal is not reported yet, and refuses a campaign-sized reservation at the same boundary', async () => {
    const org = await organization();
    const end = now() - 3600;
    await subscribe(org, end);
    const body = (await org.owner('GET', '/api/v1/billing')).json();
    expect(body.usage_period.start).toBe(new Date(end * 1000).toISOString());
    expect(body.usage_period.basis).toBe('subscription');
    // Used in the period that ended: counts as zero now.
    await setUsage(org.id, 50_000, new Date((end - 10 * DAY) * 1000));
    const { entitlements } = ctx.container.services;
    await expect(entitlements.reserveEmails(ctx.container.db, org.id, 50_001)).rejects.toMatchObject({ status: 402 });
    await entitlements.reserveEmails(ctx.container.db, org.id, 50_000);
    expect((await entitlements.limits(org.id))?.emails_sent_this_month).toBe(50_000);
  });

  it("checks a campaign's whole audience against the billing period's quota, not the calendar month's", async () => {
    const base = await campaignOrganization(ctx, 'Period Campaign Org', 3);
    const org = { ...base, owner: sessionApi(ctx, await ctx.createSession(base.id, 'owner')) };
    const end = now() + 10 * DAY;
    await subscribe(org as never, end);
    const campaign = (
      await org.call('POST', '/api/v1/campaigns', { name: 'Period', template_id: org.templateId, tag_filter: { include_tags: [org.tagId] } })
    ).json() as { id: string };
    // 49,998 sent this billing period (19 days ago: early in a month, before the calendar month began): 3 more exceed it.
    await setUsage(org.id, 49_998, new Date((end - 29 * DAY) * 1000));
    const refused = await org.call('POST', `/api/v1/campaigns/${campaign.id}/send`, {});
    expect(refused.statusCode, refused.body).toBe(402);
    expect(refused.json().error.message).toMatch(/sent 49,998 of the 50,000 emails .* 3 more/);
    // The same count from before the billing period began is over: the campaign is accepted.
    await setUsage(org.id, 49_998, new Date((end - 31 * DAY) * 1000));
    const accepted = await org.call('POST', `/api/v1/campaigns/${campaign.id}/send`, {});
    expect(accepted.statusCode, accepted.body).toBe(200);
  });

  it('uses the calendar month (UTC) for an organization without a running subscription', async () => {
    const org = await organization();
    const body = (await org.owner('GET', '/api/v1/billing')).json();
    const start = monthStart();
    const next = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
    expect(body.usage_period).toEqual({ start: start.toISOString(), end: next.toISOString(), basis: 'calendar_month' });

    const cancelled = await organization();
    await subscribe(cancelled, now() + 10 * DAY, 'canceled');
    expect((await cancelled.owner('GET', '/api/v1/billing')).json().usage_period.basis).toBe('calendar_month');
    // Counted last month: zero now.
    await setUsage(org.id, 4000, new Date(start.getTime() - DAY * 1000));
    expect((await ctx.container.services.entitlements.limits(org.id))?.emails_sent_this_month).toBe(0);
  });
});

describe('past-due status for the dashboard banner', () => {
  it('tells owners and admins (not viewers or API keys) whether the subscription is past due and until when', async () => {
    const org = await organization();
    const admin = sessionApi(ctx, await ctx.createSession(org.id, 'admin'));
    const viewer = sessionApi(ctx, await ctx.createSession(org.id, 'viewer'));
    expect((await admin('GET', '/api/v1/billing/status')).json()).toEqual({ past_due: false, grace_ends_at: null, grace_over: false });
    await ctx.container.db
      .updateTable('organizations')
      .set({ past_due_since: sql`now() - interval '8 days'` })
      .where('id', '=', org.id)
      .execute();
    const owner = (await org.owner('GET', '/api/v1/billing/status')).json();
    expect(owner).toMatchObject({ past_due: true, grace_over: true });
    expect(Date.parse(owner.grace_ends_at)).toBeLessThan(Date.now());
    expect((await viewer('GET', '/api/v1/billing/status')).statusCode).toBe(403);
    expect((await org.call('GET', '/api/v1/billing/status')).statusCode).toBe(403);
  });
});

describe('quota notices', () => {
  const handlers = () => ctx.container.jobHandlers(createMetrics('quota-test'));
  const run = (tick = '2026-12-07T1200') => handlers()['usage.notices']({ tick }, {} as never);
  const notices = (organizationId: string, like: string) =>
    ctx.container.db
      .selectFrom('dev_mailbox')
      .select(['subject', 'to_address', 'text'])
      .where('organization_id', '=', organizationId)
      .where('subject', 'like', like)
      .orderBy('created_at')
      .execute();

  it('emails every owner once at 80 % and once at 100 % of the email quota in a period, however many workers run at once', async () => {
    const org = await organization('Quota Org');
    await setUsage(org.id, 3199, monthStart());
    await run();
    expect(await notices(org.id, 'Quota Org has%')).toEqual([]);
    await setUsage(org.id, 3200, monthStart());
    await Promise.all([run(), run(), run(), run()]);
    await run();
    const at80 = await notices(org.id, 'Quota Org has%');
    // Both owners (the organization's creator and the signed-in one) are told, once each.
    expect(at80.map((n) => n.subject)).toEqual([
      'Quota Org has used 80 % of its emails for this billing period',
      'Quota Org has used 80 % of its emails for this billing period',
    ]);
    expect(new Set(at80.map((n) => n.to_address)).size).toBe(2);
    expect(at80.map((n) => n.to_address)).toContain(org.ownerEmail);
    expect(at80[0]!.text).toContain('3,200 of the 4,000 emails its free plan allows in the billing period from');
    await setUsage(org.id, 4000, monthStart());
    await Promise.all([run(), run(), run()]);
    const at100 = (await notices(org.id, 'Quota Org has%')).slice(2);
    expect(at100.map((n) => n.subject)).toEqual([
      'Quota Org has reached its email limit for this billing period',
      'Quota Org has reached its email limit for this billing period',
    ]);
    expect(at100[0]!.text).toContain('/billing');
    const rows = await ctx.container.db
      .selectFrom('quota_notices')
      .select(['limit_kind', 'threshold', 'sent_at'])
      .where('organization_id', '=', org.id)
      .orderBy('threshold')
      .execute();
    expect(rows.map((r) => [r.limit_kind, r.threshold, r.sent_at !== null])).toEqual([
      ['emails_per_month', 80, true],
      ['emails_per_month', 100, true],
    ]);
  });

  it('tells owners again in the next billing period, and only at 100 % when a period jumps past 80 % at once', async () => {
    const org = await organization('Renewing Org');
    const end = now() + 5 * DAY;
    await subscribe(org, end);
    await setUsage(org.id, 50_000, new Date((end - 20 * DAY) * 1000));
    await run();
    expect((await notices(org.id, 'Renewing Org has%')).map((n) => n.subject)).toEqual([
      'Renewing Org has reached its email limit for this billing period',
      'Renewing Org has reached its email limit for this billing period',
    ]);
    // The renewal as the sync job writes it: the next period started an hour ago; its usage is told about again.
    await ctx.container.db
      .updateTable('organizations')
      .set({ current_period_start: new Date((now() - 3600) * 1000), current_period_end: new Date((now() + 30 * DAY - 3600) * 1000) })
      .where('id', '=', org.id)
      .execute();
    await setUsage(org.id, 40_000, new Date((now() - 1800) * 1000));
    await run();
    const all = (await notices(org.id, 'Renewing Org has%')).map((n) => n.subject);
    expect(all.slice(2)).toEqual([
      'Renewing Org has used 80 % of its emails for this billing period',
      'Renewing Org has used 80 % of its emails for this billing period',
    ]);
  });

  it('emails owners at 80 % and 100 % of the subscriber limit, once', async () => {
    const org = await organization('Crowded Org');
    await ctx.container.services.entitlements.setOverrides(org.id, { subscribers: 5 });
    for (const n of [1, 2, 3]) expect((await org.call('POST', '/api/v1/subscribers', { email: `c${n}@example.com` })).statusCode).toBe(201);
    await run();
    expect(await notices(org.id, 'Crowded Org has%')).toEqual([]);
    expect((await org.call('POST', '/api/v1/subscribers', { email: 'c4@example.com' })).statusCode).toBe(201);
    await run();
    await run();
    expect((await notices(org.id, 'Crowded Org has%')).map((n) => n.subject)).toEqual([
      'Crowded Org has used 80 % of its subscriber limit',
      'Crowded Org has used 80 % of its subscriber limit',
    ]);
    expect((await org.call('POST', '/api/v1/subscribers', { email: 'c5@example.com' })).statusCode).toBe(201);
    await run();
    await run();
    const all = await notices(org.id, 'Crowded Org has%');
    expect(all.slice(2).map((n) => n.subject)).toEqual(['Crowded Org has reached its subscriber limit', 'Crowded Org has reached its subscriber limit']);
    expect(all[2]!.text).toContain('5 of the 5 subscribers its free plan allows');
  });

  it('sends nothing to an owner whose address is suppressed in the organization (the system-mail path)', async () => {
    const org = await organization('Suppressed Org');
    await ctx.container.db
      .insertInto('suppressions')
      .values({ id: newId(), organization_id: org.id, email: org.ownerEmail.toUpperCase(), reason: 'complaint' })
      .execute();
    await setUsage(org.id, 3500, monthStart());
    await run();
    const sent = await notices(org.id, 'Suppressed Org has%');
    expect(sent).toHaveLength(1);
    expect(sent[0]!.to_address).not.toBe(org.ownerEmail);
  });
});

describe('quota notices through Resend', () => {
  const fake = createFakeResend();
  let sending: TestContext;
  beforeAll(async () => {
    await fake.start();
    sending = await createTestContext({ ...BILLING, STRIPE_API_URL: stripe.url, ...resendConfig(fake) });
  });
  afterAll(async () => {
    await sending?.close();
    await fake.close();
  });

  it('tries a notice again on the next run when the provider failed, then sends it once with an idempotency key per owner', async () => {
    const org = await sending.createOrganization('Retry Org');
    await sending.container.db
      .updateTable('organizations')
      .set({ emails_sent_this_month: 3300, usage_period_start: monthStart() })
      .where('id', '=', org.id)
      .execute();
    const run = () => sending.container.jobHandlers(createMetrics('quota-retry'))['usage.notices']({ tick: '2026-12-07T1210' }, {} as never);
    fake.failNext({ status: 500, name: 'internal_server_error', path: /^\/emails/ }, 20);
    await expect(run()).rejects.toThrow();
    const claimed = await sending.container.db.selectFrom('quota_notices').select(['sent_at']).where('organization_id', '=', org.id).execute();
    expect(claimed).toEqual([{ sent_at: null }]);
    fake.reset();
    await run();
    await run();
    const mails = fake.emails.filter((e) => e.subject.startsWith('Retry Org has used 82 %'));
    expect(mails).toHaveLength(1);
    expect(mails[0]!.idempotencyKey).toMatch(new RegExp(`^quota-${org.id}-emails_per_month-80-\\d+-`));
    expect(mails[0]!.headers['Auto-Submitted']).toBe('auto-generated');
    expect(mails[0]!.tags).toContainEqual({ name: 'kind', value: 'quota_notice' });
  });
});

describe('operator overrides', () => {
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
        ...BILLING,
        STRIPE_API_URL: stripe.url,
      },
    });

  it('set-limits makes any limit unlimited for one organization and gives it back to the plan', async () => {
    const org = await organization();
    const other = await organization();
    const set = JSON.parse((await cli(['set-limits', '--org', org.slug, '--subscribers', 'unlimited', '--webhook-endpoints', 'unlimited'])).stdout);
    expect(set).toMatchObject({ plan: 'free', limits: { subscribers: null, emails_per_month: 4000, webhook_endpoints: null, custom_domains: 0 } });
    expect((await org.call('POST', '/api/v1/webhooks', { url: 'http://127.0.0.1:9/one', events: ['*'] })).statusCode).toBe(201);
    expect((await other.call('POST', '/api/v1/webhooks', { url: 'http://127.0.0.1:9/one', events: ['*'] })).statusCode).toBe(403);
    const billing = (await org.owner('GET', '/api/v1/billing')).json();
    expect(billing.usage.find((u: { limit: string }) => u.limit === 'subscribers').max).toBeNull();

    // A number replaces unlimited; "plan" gives the limit back to the plan.
    const numbered = JSON.parse((await cli(['set-limits', '--org', org.slug, '--subscribers', '7'])).stdout);
    expect(numbered.limits).toMatchObject({ subscribers: 7, webhook_endpoints: null });
    const back = JSON.parse((await cli(['set-limits', '--org', org.slug, '--subscribers', 'plan', '--webhook-endpoints', 'plan'])).stdout);
    expect(back.limits).toEqual({ subscribers: 1000, emails_per_month: 4000, webhook_endpoints: 0, custom_domains: 0 });
    await expect(cli(['set-limits', '--org', org.slug, '--subscribers', 'infinite'])).rejects.toThrow(
      /whole number from 0 to 2,000,000,000, "unlimited" or "plan"/,
    );
    await expect(cli(['set-limits', '--org', org.slug, '--subscribers=-1'])).rejects.toThrow(/"unlimited" or "plan"/);
  });

  it('lets unlimited and numbers be set side by side; an unlimited quota never refuses a reservation', async () => {
    const org = await organization();
    await ctx.container.services.entitlements.setOverrides(org.id, { emails_per_month: 'unlimited', custom_domains: 2 });
    expect((await ctx.container.services.entitlements.limits(org.id))?.limits).toEqual({
      subscribers: 1000,
      emails_per_month: null,
      webhook_endpoints: 0,
      custom_domains: 2,
    });
    await setUsage(org.id, 1_000_000, monthStart());
    await ctx.container.services.entitlements.reserveEmails(ctx.container.db, org.id, 10_000);
  });
});

describe('turning billing on with organizations already there', () => {
  let selfHosted: TestContext;
  beforeAll(async () => {
    selfHosted = await createTestContext({ RATE_LIMIT_API_KEY_PER_MINUTE: '100000' });
  });
  afterAll(async () => {
    await selfHosted?.close();
  });

  /** Starts the api on the self-hosted database with billing on (as after setting the Stripe keys). */
  async function startWithBilling(extra: Record<string, string> = {}) {
    const config = loadConfig({
      DATABASE_URL: selfHosted.databaseUrl,
      DATABASE_POOL_MAX: '3',
      REDIS_URL: selfHosted.config.REDIS_URL,
      REDIS_PREFIX: selfHosted.config.REDIS_PREFIX,
      TOKEN_SECRET: TEST_TOKEN_SECRET,
      LOG_LEVEL: 'silent',
      ...BILLING,
      STRIPE_API_URL: stripe.url,
      ...extra,
    });
    const container = createContainer(config, { processName: 'test-billing-on' });
    // What the api and worker entry points do before serving.
    await container.start();
    const app = await buildApp(container);
    await app.ready();
    return {
      container,
      app,
      close: async () => {
        await app.close();
        await container.close();
      },
    };
  }

  it('keeps existing organizations unlimited on the legacy plan, once; new ones start on Free; an operator can move one', async () => {
    const before = await selfHosted.createOrganization('Early Org');
    const alsoBefore = await selfHosted.createOrganization('Early Org Two');
    const first = await startWithBilling();
    const second = await startWithBilling();
    try {
      const { entitlements } = first.container.services;
      expect(await entitlements.usage(before.id)).toMatchObject({
        plan: 'legacy',
        limits: { subscribers: null, emails_per_month: null, webhook_endpoints: null, custom_domains: null },
      });
      const activation = await first.container.db.selectFrom('billing_activation').select(['existing_plan', 'organizations']).execute();
      expect(activation).toEqual([{ existing_plan: 'legacy', organizations: 2 }]);

      // The owner's billing page names the plan and does not offer it.
      const owner = await selfHosted.createSession(before.id, 'owner');
      const page = await first.app.inject({ method: 'GET', url: '/api/v1/billing', headers: owner.headers });
      expect(page.statusCode, page.body).toBe(200);
      expect(page.json().plan).toEqual({ id: 'legacy', name: 'Legacy' });
      expect(page.json().plans.map((p: { id: string }) => p.id)).toEqual(['free', 'starter', 'professional']);

      // An operator moves one organization to Free; a later start changes nothing again.
      expect(await entitlements.setPlan(alsoBefore.id, 'free')).toBe('updated');
      expect(await entitlements.setPlan(alsoBefore.id, 'gold')).toBe('unknown_plan');
      const created = await selfHosted.createOrganization('Late Org');
      const third = await startWithBilling();
      await third.close();
      expect((await entitlements.usage(alsoBefore.id))?.plan).toBe('free');
      expect((await entitlements.usage(created.id))?.limits.subscribers).toBe(1000);
      expect((await entitlements.usage(before.id))?.plan).toBe('legacy');

      // A subscription decides the plan: the operator cannot move a subscribed organization.
      await first.container.db.updateTable('organizations').set({ subscription_status: 'active', plan: 'starter' }).where('id', '=', before.id).execute();
      expect(await entitlements.setPlan(before.id, 'free')).toBe('subscribed');
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('moves nobody when the database shows billing was in use before (an upgrade of a billing install)', async () => {
    const billed = await createTestContext({ ...BILLING, STRIPE_API_URL: stripe.url });
    try {
      const paying = await billed.createOrganization('Paying Org');
      const free = await billed.createOrganization('Free Org');
      await billed.container.db.updateTable('organizations').set({ stripe_customer_id: 'cus_earlier' }).where('id', '=', paying.id).execute();
      await billed.container.db.deleteFrom('billing_activation').execute();
      await billed.container.start();
      expect((await billed.container.services.entitlements.usage(free.id))?.plan).toBe('free');
      expect(await billed.container.db.selectFrom('billing_activation').select(['existing_plan', 'organizations']).execute()).toEqual([
        { existing_plan: 'free', organizations: 0 },
      ]);
    } finally {
      await billed.close();
    }
  });
});
