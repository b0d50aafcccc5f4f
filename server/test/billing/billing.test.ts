import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestContext, sessionApi, type TestContext } from '../support/context.ts';
import { startFakeStripe, type FakeStripe } from '../support/fake-stripe.ts';
import { createFakeResend } from '../support/fake-resend.ts';
import { startWorker, waitFor } from '../email/helpers.ts';

const STRIPE_KEY = 'sk_test_billing0123456789';
const WEBHOOK_SECRET = 'whsec_billingtestsecret0123456789';
const PLANS = JSON.stringify({ starter: { stripe_price_id: 'price_starter' }, professional: { stripe_price_id: 'price_pro' } });

let stripe: FakeStripe;
let ctx: TestContext;
let worker: Awaited<ReturnType<typeof startWorker>>;
let fakeResend: ReturnType<typeof createFakeResend>;

beforeAll(async () => {
  stripe = await startFakeStripe({ apiKey: STRIPE_KEY, webhookSecret: WEBHOOK_SECRET });
  fakeResend = createFakeResend();
  await fakeResend.start();
  ctx = await createTestContext({
    STRIPE_SECRET_KEY: STRIPE_KEY,
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    STRIPE_API_URL: stripe.url,
    BILLING_PLANS: PLANS,
    BILLING_GRACE_DAYS: '7',
    RESEND_API_KEY: 're_test_key',
    RESEND_BASE_URL: fakeResend.url,
    WEBHOOKS_ALLOW_PRIVATE_HOSTS: '127.0.0.1',
    RATE_LIMIT_API_KEY_PER_MINUTE: '100000',
  });
  worker = await startWorker(ctx, { queues: ['sync'] });
});
afterAll(async () => {
  await worker?.close();
  await ctx?.close();
  await stripe?.close();
  await fakeResend?.close();
});

/** An organization with an owner session and a full-scope API key. */
async function organization(name?: string) {
  const org = await ctx.createOrganization(name);
  const owner = await ctx.createSession(org.id, 'owner');
  return { ...org, owner: sessionApi(ctx, owner), ownerEmail: owner.email, call: api(ctx, org.key) };
}

const post = (event: { payload: string; signature: string }) =>
  ctx.app.inject({
    method: 'POST',
    url: '/hooks/stripe',
    payload: event.payload,
    headers: { 'content-type': 'application/json', 'stripe-signature': event.signature },
  });

const orgRow = (id: string) =>
  ctx.container.db
    .selectFrom('organizations')
    .select(['plan', 'subscription_status', 'stripe_customer_id', 'stripe_subscription_id', 'current_period_end', 'past_due_since'])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();

/** Delivers an event and waits until the worker has applied it. */
async function deliver(event: { id: string; payload: string; signature: string }) {
  const response = await post(event);
  expect(response.statusCode, response.body).toBe(200);
  if (response.json().result === 'queued') {
    await waitFor(
      async () => (await ctx.container.db.selectFrom('stripe_events').select('applied_at').where('id', '=', event.id).executeTakeFirst())?.applied_at,
    );
  }
  return response.json().result as string;
}

/** Checks out `plan` and completes it at the fake Stripe with a subscription in `status`. */
async function subscribe(org: Awaited<ReturnType<typeof organization>>, plan: 'starter' | 'professional', status: 'active' | 'past_due' = 'active') {
  const checkout = await org.owner('POST', '/api/v1/billing/checkout', { plan });
  expect(checkout.statusCode, checkout.body).toBe(200);
  const customer = (await orgRow(org.id)).stripe_customer_id!;
  const subscription = stripe.setSubscription({ customer, status, price: plan === 'starter' ? 'price_starter' : 'price_pro' });
  await deliver(
    stripe.event('checkout.session.completed', {
      id: 'cs_test_x',
      object: 'checkout.session',
      client_reference_id: org.id,
      customer,
      subscription: subscription.id,
      mode: 'subscription',
    }),
  );
  return { customer, subscription };
}

describe('billing with Stripe', () => {
  it('tells the dashboard that billing exists', async () => {
    const org = await organization();
    const me = await org.owner('GET', '/api/v1/auth/me');
    expect(me.json().features).toEqual({ billing: true });
  });

  it('gives a new organization the free plan and shows usage against each limit', async () => {
    const org = await organization();
    const response = await org.owner('GET', '/api/v1/billing');
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json();
    expect(body.plan).toEqual({ id: 'free', name: 'Free' });
    expect(body.status).toBeNull();
    expect(body.usage).toEqual([
      { limit: 'subscribers', used: 0, max: 1000 },
      { limit: 'emails_per_month', used: 0, max: 4000 },
      { limit: 'webhook_endpoints', used: 0, max: 0 },
      { limit: 'custom_domains', used: 0, max: 0 },
    ]);
    expect(body.plans.map((p: { id: string; purchasable: boolean }) => [p.id, p.purchasable])).toEqual([
      ['free', false],
      ['starter', true],
      ['professional', true],
    ]);
    expect(body.plans.find((p: { id: string }) => p.id === 'professional').limits).toEqual({
      subscribers: 50_000,
      emails_per_month: 500_000,
      webhook_endpoints: null,
      custom_domains: null,
    });
  });

  it('lets only owners see and change billing; API keys and admins are refused', async () => {
    const org = await organization();
    const admin = sessionApi(ctx, await ctx.createSession(org.id, 'admin'));
    expect((await admin('GET', '/api/v1/billing')).statusCode).toBe(403);
    expect((await admin('POST', '/api/v1/billing/checkout', { plan: 'starter' })).statusCode).toBe(403);
    expect((await admin('POST', '/api/v1/billing/portal')).statusCode).toBe(403);
    const byKey = await org.call('GET', '/api/v1/billing');
    expect(byKey.statusCode).toBe(403);
    expect(byKey.json().error.code).toBe('session_required');
  });

  it('opens Checkout for a plan with one Stripe customer per organization and the organization as client_reference_id', async () => {
    const org = await organization('Checkout Org');
    const first = await org.owner('POST', '/api/v1/billing/checkout', { plan: 'starter' });
    const second = await org.owner('POST', '/api/v1/billing/checkout', { plan: 'professional' });
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json().url).toMatch(/^https:\/\/checkout\.stripe\.test\/c\/pay\/cs_test_/);
    expect(second.statusCode).toBe(200);
    const row = await orgRow(org.id);
    const created = [...stripe.customers.values()].filter((c) => c.metadata.organization_id === org.id);
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({ id: row.stripe_customer_id, name: 'Checkout Org', email: org.ownerEmail });
    const sessions = stripe.requests.filter((r) => r.path === '/v1/checkout/sessions' && r.body.client_reference_id === org.id);
    expect(sessions).toHaveLength(2);
    expect(sessions[0]!.body).toMatchObject({
      mode: 'subscription',
      customer: row.stripe_customer_id,
      'line_items[0][price]': 'price_starter',
      'line_items[0][quantity]': '1',
    });
    expect(sessions[1]!.body['line_items[0][price]']).toBe('price_pro');
  });

  it('refuses an unknown plan and the free plan by name', async () => {
    const org = await organization();
    const unknown = await org.owner('POST', '/api/v1/billing/checkout', { plan: 'enterprise' });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error).toMatchObject({ code: 'unknown_plan' });
    const free = await org.owner('POST', '/api/v1/billing/checkout', { plan: 'free' });
    expect(free.statusCode).toBe(400);
    expect(free.json().error.code).toBe('plan_not_purchasable');
  });

  it('opens the customer portal once the organization has a Stripe customer', async () => {
    const org = await organization();
    const before = await org.owner('POST', '/api/v1/billing/portal');
    expect(before.statusCode).toBe(409);
    expect(before.json().error.code).toBe('no_billing_account');
    await org.owner('POST', '/api/v1/billing/checkout', { plan: 'starter' });
    const after = await org.owner('POST', '/api/v1/billing/portal');
    expect(after.statusCode, after.body).toBe(200);
    expect(after.json().url).toMatch(/^https:\/\/billing\.stripe\.test\/p\/session\//);
    const request = stripe.requests.filter((r) => r.path === '/v1/billing_portal/sessions').at(-1)!;
    expect(request.body.customer).toBe((await orgRow(org.id)).stripe_customer_id);
  });

  it('answers 502 in words when Stripe fails', async () => {
    const org = await organization();
    stripe.failNextRequest(400);
    const response = await org.owner('POST', '/api/v1/billing/checkout', { plan: 'starter' });
    expect(response.statusCode).toBe(502);
    expect(response.json().error).toMatchObject({ code: 'stripe_unavailable' });
  });

  it('applies a completed checkout: the plan, status and period end come from the subscription Stripe holds', async () => {
    const org = await organization();
    const { subscription } = await subscribe(org, 'starter');
    const row = await orgRow(org.id);
    expect(row).toMatchObject({ plan: 'starter', subscription_status: 'active', stripe_subscription_id: subscription.id, past_due_since: null });
    expect(row.current_period_end?.getTime()).toBe(subscription.current_period_end * 1000);
    const billing = (await org.owner('GET', '/api/v1/billing')).json();
    expect(billing.plan).toEqual({ id: 'starter', name: 'Starter' });
    expect(billing.usage[0]).toEqual({ limit: 'subscribers', used: 0, max: 5000 });
    expect(billing.has_billing_account).toBe(true);
    const conflict = await org.owner('POST', '/api/v1/billing/checkout', { plan: 'professional' });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json().error.code).toBe('subscription_exists');
  });

  it('forgets received event ids after the retention period', async () => {
    const db = ctx.container.db;
    await db
      .insertInto('stripe_events')
      .values([
        { id: 'evt_old_retention', type: 'invoice.paid', received_at: new Date(Date.now() - 40 * 86_400_000) },
        { id: 'evt_new_retention', type: 'invoice.paid' },
      ])
      .execute();
    const task = ctx.container.modules.find((m) => m.name === 'billing')!.retention![0]!;
    expect(task.days).toBe(ctx.config.RETENTION_PROVIDER_EVENTS_DAYS);
    await task.run(new Date(Date.now() - task.days * 86_400_000), new AbortController().signal);
    const left = await db.selectFrom('stripe_events').select('id').where('id', 'in', ['evt_old_retention', 'evt_new_retention']).execute();
    expect(left).toEqual([{ id: 'evt_new_retention' }]);
  });

  it('refuses events with a wrong, missing or too old signature', async () => {
    const org = await organization();
    const object = { id: 'sub_x', object: 'subscription', customer: 'cus_x' };
    const wrong = stripe.event('customer.subscription.updated', object, { secret: 'whsec_someoneelsessecret0123' });
    expect((await post(wrong)).statusCode).toBe(401);
    const missing = await ctx.app.inject({ method: 'POST', url: '/hooks/stripe', payload: wrong.payload, headers: { 'content-type': 'application/json' } });
    expect(missing.statusCode).toBe(401);
    const old = stripe.event('customer.subscription.updated', object, { timestamp: Math.floor(Date.now() / 1000) - 301 });
    expect((await post(old)).statusCode).toBe(401);
    const tampered = stripe.event('customer.subscription.updated', object);
    expect((await post({ ...tampered, payload: tampered.payload.replace('cus_x', 'cus_y') })).statusCode).toBe(401);
    expect(await ctx.container.db.selectFrom('stripe_events').select('id').where('id', 'in', [wrong.id, old.id, tampered.id]).execute()).toEqual([]);
    expect((await orgRow(org.id)).plan).toBe('free');
  });

  it('records an event once: a redelivery is acknowledged and not applied again', async () => {
    const org = await organization();
    const { customer, subscription } = await subscribe(org, 'starter');
    const event = stripe.event('invoice.paid', {
      id: 'in_1',
      object: 'invoice',
      customer,
      parent: { subscription_details: { subscription: subscription.id } },
    });
    expect(await deliver(event)).toBe('queued');
    const retrievals = stripe.requests.filter((r) => r.path === `/v1/subscriptions/${subscription.id}`).length;
    expect(await deliver(event)).toBe('duplicate');
    expect(await deliver(event)).toBe('duplicate');
    expect(stripe.requests.filter((r) => r.path === `/v1/subscriptions/${subscription.id}`)).toHaveLength(retrievals);
  });

  it("ends in Stripe's current state whatever order the events arrive in", async () => {
    const org = await organization();
    const { customer, subscription } = await subscribe(org, 'starter');
    // Stripe now says: upgraded to Professional and active. The events arrive newest first, then an old
    // "past due" one: each job re-reads the subscription, so the old event cannot roll the state back.
    stripe.setSubscription({ ...subscription, price: 'price_pro', status: 'active' });
    const object = { id: subscription.id, object: 'subscription', customer, status: 'past_due' };
    await deliver(stripe.event('customer.subscription.updated', { ...object, status: 'active' }));
    await deliver(
      stripe.event('invoice.payment_failed', { id: 'in_2', object: 'invoice', customer, parent: { subscription_details: { subscription: subscription.id } } }),
    );
    await deliver(stripe.event('customer.subscription.updated', object));
    expect(await orgRow(org.id)).toMatchObject({ plan: 'professional', subscription_status: 'active', past_due_since: null });
  });

  it('does not let an ended older subscription overwrite the running one', async () => {
    const org = await organization();
    const { customer, subscription: old } = await subscribe(org, 'starter');
    stripe.setSubscription({ ...old, status: 'canceled' });
    await deliver(stripe.event('customer.subscription.deleted', { id: old.id, object: 'subscription', customer }));
    expect((await orgRow(org.id)).plan).toBe('free');
    const running = stripe.setSubscription({ customer, status: 'active', price: 'price_pro' });
    await deliver(stripe.event('customer.subscription.created', { id: running.id, object: 'subscription', customer }));
    // The old subscription's deletion is delivered again late (a new event id, as Stripe's retries of other endpoints do).
    await deliver(stripe.event('customer.subscription.deleted', { id: old.id, object: 'subscription', customer }));
    expect(await orgRow(org.id)).toMatchObject({ plan: 'professional', stripe_subscription_id: running.id, subscription_status: 'active' });
  });

  it("ignores an event for a customer that is not ours and one for another organization's subscription", async () => {
    const org = await organization();
    const other = await organization();
    const { subscription } = await subscribe(other, 'professional');
    await org.owner('POST', '/api/v1/billing/checkout', { plan: 'starter' });
    const mine = (await orgRow(org.id)).stripe_customer_id!;
    // An event naming our customer but another organization's subscription changes nothing.
    await deliver(stripe.event('customer.subscription.updated', { id: subscription.id, object: 'subscription', customer: mine }));
    await deliver(stripe.event('customer.subscription.updated', { id: 'sub_nobody', object: 'subscription', customer: 'cus_nobody' }));
    expect(await orgRow(org.id)).toMatchObject({ plan: 'free', stripe_subscription_id: null });
  });

  it("keeps the plan while past due for the grace period, then applies the free plan's limits", async () => {
    const org = await organization();
    const { customer, subscription } = await subscribe(org, 'starter');
    stripe.setSubscription({ ...subscription, status: 'past_due' });
    await deliver(
      stripe.event('invoice.payment_failed', { id: 'in_3', object: 'invoice', customer, parent: { subscription_details: { subscription: subscription.id } } }),
    );
    const pastDue = await orgRow(org.id);
    expect(pastDue).toMatchObject({ plan: 'starter', subscription_status: 'past_due' });
    expect(pastDue.past_due_since).not.toBeNull();
    // A second failure does not restart the grace period.
    await deliver(
      stripe.event('invoice.payment_failed', { id: 'in_4', object: 'invoice', customer, parent: { subscription_details: { subscription: subscription.id } } }),
    );
    expect((await orgRow(org.id)).past_due_since).toEqual(pastDue.past_due_since);
    let billing = (await org.owner('GET', '/api/v1/billing')).json();
    expect(billing).toMatchObject({ plan: { id: 'starter' }, past_due: true, subscribed_plan: null });
    expect(new Date(billing.grace_ends_at).getTime()).toBe(pastDue.past_due_since!.getTime() + 7 * 86_400_000);

    await ctx.container.db
      .updateTable('organizations')
      .set({ past_due_since: sql`now() - interval '7 days 1 minute'` })
      .where('id', '=', org.id)
      .execute();
    billing = (await org.owner('GET', '/api/v1/billing')).json();
    expect(billing).toMatchObject({ plan: { id: 'free' }, subscribed_plan: { id: 'starter', name: 'Starter' }, past_due: true });
    expect(billing.usage[1]).toEqual({ limit: 'emails_per_month', used: 0, max: 4000 });

    // Paid again: the plan is back and the past-due mark is gone.
    stripe.setSubscription({ ...subscription, status: 'active' });
    await deliver(
      stripe.event('invoice.paid', { id: 'in_5', object: 'invoice', customer, parent: { subscription_details: { subscription: subscription.id } } }),
    );
    expect(await orgRow(org.id)).toMatchObject({ plan: 'starter', subscription_status: 'active', past_due_since: null });
  });

  it("limits subscribers exactly at the plan's boundary with 402 naming the limit, usage and plan; nothing is deleted when a plan shrinks", async () => {
    const org = await organization();
    await ctx.container.services.entitlements.setOverrides(org.id, { subscribers: 3 });
    for (const n of [1, 2, 3]) expect((await org.call('POST', '/api/v1/subscribers', { email: `s${n}@example.com` })).statusCode).toBe(201);
    const over = await org.call('POST', '/api/v1/subscribers', { email: 's4@example.com' });
    expect(over.statusCode).toBe(402);
    expect(over.json().error).toMatchObject({ code: 'plan_limit_exceeded', details: [{ limit: 'subscribers', max: 3, used: 3, requested: 1, plan: 'free' }] });
    await ctx.container.services.entitlements.setOverrides(org.id, { subscribers: 2 });
    expect((await org.call('GET', '/api/v1/subscribers')).json().items).toHaveLength(3);
    expect((await org.call('POST', '/api/v1/subscribers', { email: 's5@example.com' })).statusCode).toBe(402);
    await ctx.container.services.entitlements.setOverrides(org.id, { subscribers: 'plan' });
    expect((await org.call('POST', '/api/v1/subscribers', { email: 's6@example.com' })).statusCode).toBe(201);
  });

  it("holds the free plan's limits exactly: 1,000 subscribers and 4,000 emails a month", async () => {
    const org = await organization();
    const batch = Array.from({ length: 1000 }, (_, n) => ({ email: `b${n}@example.com` }));
    const full = await org.call('POST', '/api/v1/subscribers/batch', { subscribers: batch });
    expect(full.statusCode, full.body).toBe(200);
    // The same addresses again add nobody, so they pass at the limit; one new address does not.
    expect((await org.call('POST', '/api/v1/subscribers/batch', { subscribers: batch.slice(0, 10) })).statusCode).toBe(200);
    const over = await org.call('POST', '/api/v1/subscribers', { email: 'one-more@example.com' });
    expect(over.statusCode).toBe(402);
    expect(over.json().error.details[0]).toMatchObject({ limit: 'subscribers', max: 1000, used: 1000, plan: 'free' });

    const { entitlements } = ctx.container.services;
    await ctx.container.db
      .updateTable('organizations')
      .set({ emails_sent_this_month: 3999, usage_period_start: sql`date_trunc('month', now() at time zone 'UTC')::date` })
      .where('id', '=', org.id)
      .execute();
    await entitlements.reserveEmails(ctx.container.db, org.id, 1);
    const refused = await entitlements.reserveEmails(ctx.container.db, org.id, 1).catch((error: unknown) => error);
    expect(refused).toMatchObject({ status: 402, code: 'plan_limit_exceeded' });
    expect((await org.owner('GET', '/api/v1/billing')).json().usage[1]).toEqual({ limit: 'emails_per_month', used: 4000, max: 4000 });
  });

  it('creates one Stripe customer when two checkouts start at once', async () => {
    const org = await organization();
    const [a, b] = await Promise.all([
      org.owner('POST', '/api/v1/billing/checkout', { plan: 'starter' }),
      org.owner('POST', '/api/v1/billing/checkout', { plan: 'starter' }),
    ]);
    expect([a.statusCode, b.statusCode]).toEqual([200, 200]);
    expect([...stripe.customers.values()].filter((c) => c.metadata.organization_id === org.id)).toHaveLength(1);
    const linked = (await orgRow(org.id)).stripe_customer_id;
    const sessions = stripe.requests.filter((r) => r.path === '/v1/checkout/sessions' && r.body.client_reference_id === org.id);
    expect(sessions.map((r) => r.body.customer)).toEqual([linked, linked]);
  });

  it('limits webhook endpoints by plan with 403 limit_exceeded: none on Free, exactly three on Starter', async () => {
    const org = await organization();
    const endpoint = (n: number) => org.call('POST', '/api/v1/webhooks', { url: `http://127.0.0.1:9/hook-${n}`, events: ['*'] });
    const free = await endpoint(0);
    expect(free.statusCode).toBe(403);
    expect(free.json().error).toMatchObject({ code: 'limit_exceeded', details: [{ limit: 'webhook_endpoints', max: 0, used: 0, plan: 'free' }] });
    expect(free.json().error.message).toMatch(/free plan does not include webhook endpoints/);
    await subscribe(org, 'starter');
    for (const n of [1, 2, 3]) expect((await endpoint(n)).statusCode).toBe(201);
    const fourth = await endpoint(4);
    expect(fourth.statusCode).toBe(403);
    expect(fourth.json().error).toMatchObject({ code: 'limit_exceeded', details: [{ limit: 'webhook_endpoints', max: 3, used: 3, plan: 'starter' }] });
  });

  it('limits custom sending domains by plan with 403 limit_exceeded', async () => {
    const org = await organization();
    const free = await org.owner('POST', '/api/v1/settings/domains', { name: 'mail.free-org.example.org' });
    expect(free.statusCode).toBe(403);
    expect(free.json().error).toMatchObject({ code: 'limit_exceeded', details: [{ limit: 'custom_domains', max: 0, plan: 'free' }] });
    await subscribe(org, 'professional');
    const pro = await org.owner('POST', '/api/v1/settings/domains', { name: 'mail.pro-org.example.org' });
    expect(pro.statusCode, pro.body).toBe(201);
  });

  it("lets an operator override one organization's limits over its plan", async () => {
    const org = await organization();
    await ctx.container.services.entitlements.setOverrides(org.id, { webhook_endpoints: 1, emails_per_month: 10 });
    const usage = await ctx.container.services.entitlements.usage(org.id);
    expect(usage?.limits).toEqual({ subscribers: 1000, emails_per_month: 10, webhook_endpoints: 1, custom_domains: 0 });
    expect((await org.call('POST', '/api/v1/webhooks', { url: 'http://127.0.0.1:9/one', events: ['*'] })).statusCode).toBe(201);
    expect((await org.call('POST', '/api/v1/webhooks', { url: 'http://127.0.0.1:9/two', events: ['*'] })).statusCode).toBe(403);
  });
});

describe('self-hosted (no Stripe keys)', () => {
  let selfHosted: TestContext;
  beforeAll(async () => {
    selfHosted = await createTestContext({ WEBHOOKS_ALLOW_PRIVATE_HOSTS: '127.0.0.1', RATE_LIMIT_API_KEY_PER_MINUTE: '100000' });
  });
  afterAll(async () => {
    await selfHosted?.close();
  });

  it('has no billing routes, no Stripe hook, no billing in the dashboard, and no plan limits', async () => {
    const org = await selfHosted.createOrganization();
    const owner = sessionApi(selfHosted, await selfHosted.createSession(org.id, 'owner'));
    expect((await owner('GET', '/api/v1/billing')).statusCode).toBe(404);
    expect((await owner('POST', '/api/v1/billing/checkout', { plan: 'starter' })).statusCode).toBe(404);
    expect((await owner('POST', '/api/v1/billing/portal')).statusCode).toBe(404);
    const hook = await selfHosted.app.inject({
      method: 'POST',
      url: '/hooks/stripe',
      payload: '{}',
      headers: { 'content-type': 'application/json', 'stripe-signature': 't=1,v1=x' },
    });
    expect(hook.statusCode).toBe(404);
    expect((await owner('GET', '/api/v1/auth/me')).json().features).toEqual({ billing: false });
    const usage = await selfHosted.container.services.entitlements.usage(org.id);
    expect(usage?.limits).toEqual({ subscribers: null, emails_per_month: null, webhook_endpoints: null, custom_domains: null });
    const openapi = (await selfHosted.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(Object.keys(openapi.paths).filter((p) => p.includes('billing') || p.includes('stripe'))).toEqual([]);
  });

  it("allows webhook endpoints beyond any plan's number, up to the system ceiling", async () => {
    const org = await selfHosted.createOrganization();
    const call = api(selfHosted, org.key);
    for (let n = 0; n < 5; n += 1) expect((await call('POST', '/api/v1/webhooks', { url: `http://127.0.0.1:9/h${n}`, events: ['*'] })).statusCode).toBe(201);
  });

  it('still enforces a limit an operator sets', async () => {
    const org = await selfHosted.createOrganization();
    await selfHosted.container.services.entitlements.setOverrides(org.id, { webhook_endpoints: 0 });
    const response = await api(selfHosted, org.key)('POST', '/api/v1/webhooks', { url: 'http://127.0.0.1:9/x', events: ['*'] });
    expect(response.statusCode).toBe(403);
    expect(response.json().error.code).toBe('limit_exceeded');
  });
});
