import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actsInOrganization, requiredRole, type RouteRule } from '../../src/modules/auth/index.ts';
import { api, createTestContext, sessionApi, type TestContext, type TestSession } from '../support/context.ts';
import { startFakeStripe, type FakeStripe } from '../support/fake-stripe.ts';
import type { Scope } from '../../src/modules/api-keys/scopes.ts';
import { newId } from '../../src/lib/ids.ts';

/**
 * The role and tenant-isolation matrices, derived from the app's own route table (collected by the auth
 * plugin as routes are added) and each route's declared access rule. A new route makes this file fail
 * until it has an entry in SAMPLES below, so no route ships without its access rule being exercised.
 */

/** Organization A's resources, which the sample parameters point at. */
interface Fixtures {
  organizationId: string;
  subscriberId: string;
  subscriberEmail: string;
  tagId: string;
  tagName: string;
  apiKeyId: string;
  memberId: string;
  invitationId: string;
  sessionId: string;
  templateId: string;
  emailMessageId: string;
  domainId: string;
  suppressionId: string;
  webhookId: string;
  webhookDeliveryId: string;
  importId: string;
  bulkActionId: string;
  segmentId: string;
  campaignId: string;
  abCampaignId: string;
  triggerId: string;
}

interface Sample {
  /** Path parameters, pointing at organization A's resources. */
  params?: (fx: Fixtures) => Record<string, string>;
  /** Query string without the leading "?". */
  query?: (fx: Fixtures) => string;
  /** A valid body, so that a request that passes the access checks reaches the handler. */
  body?: (fx: Fixtures) => unknown;
  /** Only for routes declared `{ public: true }`: why the route takes no credentials. */
  public?: string;
  /** Skips the cross-organization check of a route with path parameters; say why. */
  notTenantData?: string;
}

const id = (fx: Fixtures) => ({ id: fx.subscriberId });
const MJML = '<mjml><mj-body><mj-section><mj-column><mj-text>Hello</mj-text></mj-column></mj-section></mj-body></mjml>';
const PREFERENCE_TOKEN = 'signed preference-center token in ?token=';

// Keyed by "METHOD /api/v1/path" exactly as Fastify registers the route (":param" segments).
const SAMPLES: Record<string, Sample> = {
  'GET /api/v1/api-keys': {},
  'POST /api/v1/api-keys': { body: () => ({ name: 'matrix', scopes: ['tags:read'] }) },
  'DELETE /api/v1/api-keys/:id': { params: (fx) => ({ id: fx.apiKeyId }) },

  'POST /api/v1/subscribers': { body: () => ({ email: 'matrix-new@example.com' }) },
  'GET /api/v1/subscribers': {},
  'GET /api/v1/subscribers/by-email': { query: (fx) => `email=${encodeURIComponent(fx.subscriberEmail)}` },
  'POST /api/v1/subscribers/batch': { body: () => ({ subscribers: [{ email: 'matrix-batch@example.com' }] }) },
  'GET /api/v1/subscribers/:id': { params: id },
  'PATCH /api/v1/subscribers/:id': { params: id, body: () => ({ first_name: 'Matrix' }) },
  'DELETE /api/v1/subscribers/:id': { params: id },
  'POST /api/v1/subscribers/:id/tags': { params: id, body: () => ({ tags: ['matrix'] }) },
  'DELETE /api/v1/subscribers/:id/tags/:slug': { params: (fx) => ({ id: fx.subscriberId, slug: fx.tagName }) },
  'GET /api/v1/subscribers/:id/events': { params: id },
  'POST /api/v1/subscribers/:id/notes': { params: id, body: () => ({ body: 'matrix note' }) },
  'GET /api/v1/subscribers/:id/notes': { params: id },
  'GET /api/v1/subscribers/:id/emails': { params: id },
  'POST /api/v1/subscribers/:id/preference-token': { params: id, body: () => ({}) },
  'POST /api/v1/subscribers/bulk-actions': { body: () => ({ action: 'unsubscribe', reason: 'matrix', filter: { q: 'no-such-matrix-address' } }) },
  'GET /api/v1/subscribers/bulk-actions/:id': { params: (fx) => ({ id: fx.bulkActionId }) },

  'POST /api/v1/tags': { body: () => ({ name: 'matrix tag' }) },
  'GET /api/v1/suppressions': {},
  'POST /api/v1/suppressions': { body: () => ({ email: 'matrix-suppressed@example.com' }) },
  'DELETE /api/v1/suppressions/:id': { params: (fx) => ({ id: fx.suppressionId }) },

  'POST /api/v1/subscribers/imports': { body: () => ({}) },
  'GET /api/v1/subscribers/imports': {},
  'GET /api/v1/subscribers/imports/:id': { params: (fx) => ({ id: fx.importId }) },
  'GET /api/v1/subscribers/imports/:id/errors.csv': { params: (fx) => ({ id: fx.importId }) },
  'POST /api/v1/subscribers/imports/:id/start': { params: (fx) => ({ id: fx.importId }) },
  'DELETE /api/v1/subscribers/imports/:id': { params: (fx) => ({ id: fx.importId }) },
  'GET /api/v1/subscribers/export': {},
  'GET /api/v1/tags': {},
  'PUT /api/v1/tags/order': { body: (fx) => ({ tag_ids: [fx.tagId] }) },
  'GET /api/v1/tags/by-name/:name': { params: (fx) => ({ name: fx.tagName }) },
  'GET /api/v1/tags/:id': { params: (fx) => ({ id: fx.tagId }) },
  'PATCH /api/v1/tags/:id': { params: (fx) => ({ id: fx.tagId }), body: () => ({ description: 'matrix' }) },
  'DELETE /api/v1/tags/:id': { params: (fx) => ({ id: fx.tagId }) },

  'GET /api/v1/settings/preference-center': {},
  'PATCH /api/v1/settings/preference-center': { body: () => ({ accent_color: '#123456' }) },
  'POST /api/v1/settings/preference-center/preview': {},
  'GET /api/v1/preference-center': { public: PREFERENCE_TOKEN },
  'PUT /api/v1/preference-center/tags/:tag_id': { public: PREFERENCE_TOKEN },
  'POST /api/v1/preference-center/unsubscribe-all': { public: PREFERENCE_TOKEN },
  'POST /api/v1/preference-center/unsubscribe-all/undo': { public: PREFERENCE_TOKEN },
  'POST /api/v1/preference-center/resubscribe': { public: PREFERENCE_TOKEN },
  'GET /api/v1/preference-center/export': { public: PREFERENCE_TOKEN },
  'DELETE /api/v1/preference-center': { public: PREFERENCE_TOKEN },
  'POST /api/v1/preference-center/request-link': { public: 'asks for a link by email; rate-limited, same answer for every address' },
  'POST /api/v1/public/:org_slug/subscribe': { public: "subscribe form on the organization's website (double opt-in)" },
  'GET /api/v1/public/confirmation': { public: 'signed confirmation token' },
  'POST /api/v1/public/confirm': { public: 'signed confirmation token' },

  'POST /api/v1/auth/magic-link': { public: 'requests a sign-in link; same answer for every address' },
  'POST /api/v1/auth/verify': { public: 'the sign-in token is the credential (CSRF-checked)' },
  'POST /api/v1/auth/logout': {},
  'GET /api/v1/auth/me': {},
  'GET /api/v1/auth/sessions': {},
  'DELETE /api/v1/auth/sessions/:id': { params: (fx) => ({ id: fx.sessionId }) },

  'POST /api/v1/organizations': { body: () => ({ name: 'Matrix Created' }) },
  'GET /api/v1/organizations': {},
  'GET /api/v1/contact-sync': {},
  'POST /api/v1/contact-sync/full-sync': {},
  'GET /api/v1/organizations/current': {},
  'PATCH /api/v1/organizations/current': { body: () => ({ locale: 'de' }) },
  'DELETE /api/v1/organizations/current': { body: () => ({ confirm_slug: 'not-the-slug' }) },
  'POST /api/v1/organizations/:id/leave': { params: (fx) => ({ id: fx.organizationId }) },

  'GET /api/v1/members': {},
  'PATCH /api/v1/members/:id': { params: (fx) => ({ id: fx.memberId }), body: () => ({ role: 'viewer' }) },
  'DELETE /api/v1/members/:id': { params: (fx) => ({ id: fx.memberId }) },
  'GET /api/v1/invitations': {},
  'POST /api/v1/invitations': { body: () => ({ email: 'matrix-invitee@example.com', role: 'viewer' }) },
  'POST /api/v1/invitations/:id/resend': { params: (fx) => ({ id: fx.invitationId }) },
  'DELETE /api/v1/invitations/:id': { params: (fx) => ({ id: fx.invitationId }) },
  'POST /api/v1/invitations/accept': { public: 'the invitation token is the credential (CSRF-checked)' },
  'POST /api/v1/invitations/details': { public: 'the invitation token is the credential (CSRF-checked); reads only' },

  'GET /api/v1/platform/organizations': {},
  'POST /api/v1/platform/organizations/:id/suspend': { params: (fx) => ({ id: fx.organizationId }) },
  'POST /api/v1/platform/organizations/:id/unsuspend': { params: (fx) => ({ id: fx.organizationId }) },

  'POST /api/v1/templates': { body: () => ({ name: 'Matrix new', subject: 'Hi', mjml_content: MJML }) },
  'GET /api/v1/templates': {},
  'GET /api/v1/templates/:id': { params: (fx) => ({ id: fx.templateId }) },
  'PATCH /api/v1/templates/:id': { params: (fx) => ({ id: fx.templateId }), body: () => ({ subject: 'Changed' }) },
  'DELETE /api/v1/templates/:id': { params: (fx) => ({ id: fx.templateId }) },
  'POST /api/v1/templates/:id/preview': { params: (fx) => ({ id: fx.templateId }), body: () => ({}) },
  'POST /api/v1/templates/:id/test': { params: (fx) => ({ id: fx.templateId }), body: () => ({}) },
  'POST /api/v1/emails/send': { body: () => ({ template_slug: 'matrix-template', to: 'matrix@example.com' }) },
  'GET /api/v1/emails/:id': { params: (fx) => ({ id: fx.emailMessageId }) },
  'GET /api/v1/emails': {},
  'GET /api/v1/emails/:id/content': { params: (fx) => ({ id: fx.emailMessageId }) },
  'POST /api/v1/settings/domains': { body: () => ({ name: 'mail.matrix-new.example.com' }) },
  'GET /api/v1/settings/domains': {},
  'GET /api/v1/settings/domains/:id': { params: (fx) => ({ id: fx.domainId }) },
  'POST /api/v1/settings/domains/:id/verify': { params: (fx) => ({ id: fx.domainId }) },
  'DELETE /api/v1/settings/domains/:id': { params: (fx) => ({ id: fx.domainId }) },
  'GET /api/v1/settings/email': {},
  'PATCH /api/v1/settings/email': { body: () => ({ from_name: 'Matrix' }) },

  'GET /api/v1/audit-logs': {},
  'GET /api/v1/dev/mailbox': {},

  'POST /api/v1/webhooks': { body: () => ({ url: 'https://93.184.215.14/matrix', events: ['*'] }) },
  'GET /api/v1/webhooks': {},
  'GET /api/v1/webhooks/event-types': {},
  'GET /api/v1/webhooks/:id': { params: (fx) => ({ id: fx.webhookId }) },
  'PATCH /api/v1/webhooks/:id': { params: (fx) => ({ id: fx.webhookId }), body: () => ({ description: 'matrix' }) },
  'DELETE /api/v1/webhooks/:id': { params: (fx) => ({ id: fx.webhookId }) },
  'POST /api/v1/webhooks/:id/test': { params: (fx) => ({ id: fx.webhookId }) },
  'POST /api/v1/webhooks/:id/rotate-secret': { params: (fx) => ({ id: fx.webhookId }) },
  'GET /api/v1/webhooks/:id/deliveries': { params: (fx) => ({ id: fx.webhookId }) },
  'POST /api/v1/webhooks/:id/replay': { params: (fx) => ({ id: fx.webhookId }), body: () => ({ from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z' }) },
  'GET /api/v1/webhooks/deliveries/:delivery_id': { params: (fx) => ({ delivery_id: fx.webhookDeliveryId }) },
  'POST /api/v1/webhooks/deliveries/:delivery_id/retry': { params: (fx) => ({ delivery_id: fx.webhookDeliveryId }) },
  'GET /api/v1/segments': {},
  'POST /api/v1/segments': { body: () => ({ name: 'Matrix segment', filter: { match: 'all', conditions: [{ field: 'status', op: 'eq', value: 'active' }] } }) },
  'POST /api/v1/segments/preview-count': { body: () => ({ filter: { match: 'all', conditions: [] } }) },
  'GET /api/v1/segments/:id': { params: (fx) => ({ id: fx.segmentId }) },
  'PATCH /api/v1/segments/:id': { params: (fx) => ({ id: fx.segmentId }), body: () => ({ name: 'Renamed' }) },
  'DELETE /api/v1/segments/:id': { params: (fx) => ({ id: fx.segmentId }) },
  'GET /api/v1/segments/:id/count': { params: (fx) => ({ id: fx.segmentId }) },
  'GET /api/v1/segments/:id/members': { params: (fx) => ({ id: fx.segmentId }) },

  'GET /api/v1/triggers': {},
  'POST /api/v1/triggers': { body: (fx) => ({ name: 'Matrix automation', event: 'subscriber.created', steps: [{ type: 'add_tag', tag_id: fx.tagId }] }) },
  'GET /api/v1/triggers/:id': { params: (fx) => ({ id: fx.triggerId }) },
  'PATCH /api/v1/triggers/:id': { params: (fx) => ({ id: fx.triggerId }), body: () => ({ name: 'Renamed' }) },
  'DELETE /api/v1/triggers/:id': { params: (fx) => ({ id: fx.triggerId }) },
  'POST /api/v1/triggers/:id/activate': { params: (fx) => ({ id: fx.triggerId }) },
  'POST /api/v1/triggers/:id/pause': { params: (fx) => ({ id: fx.triggerId }) },
  'GET /api/v1/triggers/:id/steps': { params: (fx) => ({ id: fx.triggerId }) },
  'GET /api/v1/subscribers/:id/automation-runs': { params: id },
  'POST /api/v1/events': { body: (fx) => ({ subscriber_id: fx.subscriberId, name: 'matrix_event', data: { plan: 'pro' } }) },
  'GET /api/v1/campaigns': {},
  'POST /api/v1/campaigns': { body: (fx) => ({ name: 'Matrix campaign', template_id: fx.templateId, tag_filter: { include_tags: [fx.tagId] } }) },
  'GET /api/v1/campaigns/:id': { params: (fx) => ({ id: fx.campaignId }) },
  'PATCH /api/v1/campaigns/:id': { params: (fx) => ({ id: fx.campaignId }), body: () => ({ name: 'Renamed' }) },
  'DELETE /api/v1/campaigns/:id': { params: (fx) => ({ id: fx.campaignId }) },
  'GET /api/v1/campaigns/:id/analytics': { params: (fx) => ({ id: fx.campaignId }) },
  'GET /api/v1/analytics/timeseries': { query: () => 'metric=opens' },
  'POST /api/v1/campaigns/:id/resend': { params: (fx) => ({ id: fx.campaignId }), body: () => ({ to: 'non_openers' }) },
  'POST /api/v1/campaigns/:id/send': { params: (fx) => ({ id: fx.campaignId }), body: () => ({}) },
  'POST /api/v1/campaigns/:id/pause': { params: (fx) => ({ id: fx.campaignId }) },
  'POST /api/v1/campaigns/:id/resume': { params: (fx) => ({ id: fx.campaignId }) },
  'POST /api/v1/campaigns/:id/cancel': { params: (fx) => ({ id: fx.campaignId }) },
  'POST /api/v1/campaigns/:id/duplicate': { params: (fx) => ({ id: fx.campaignId }) },
  'POST /api/v1/campaigns/:id/retry': { params: (fx) => ({ id: fx.campaignId }) },
  'POST /api/v1/campaigns/:id/test': { params: (fx) => ({ id: fx.campaignId }), body: () => ({ emails: ['matrix-test@example.com'] }) },
  'GET /api/v1/campaigns/:id/recipient-count': { params: (fx) => ({ id: fx.campaignId }) },
  'GET /api/v1/campaigns/:id/progress': { params: (fx) => ({ id: fx.campaignId }) },
  'GET /api/v1/campaigns/:id/stats': { params: (fx) => ({ id: fx.campaignId }) },
  'GET /api/v1/campaigns/:id/recipients': { params: (fx) => ({ id: fx.campaignId }) },
  'GET /api/v1/campaigns/:id/ab-test': { params: (fx) => ({ id: fx.abCampaignId }) },
  'POST /api/v1/campaigns/:id/ab-test/winner': { params: (fx) => ({ id: fx.abCampaignId }), body: () => ({ variant: 0 }) },

  'GET /api/v1/billing': {},
  'GET /api/v1/billing/status': {},
  'POST /api/v1/billing/checkout': { body: () => ({ plan: 'starter' }) },
  'POST /api/v1/billing/portal': {},

  'GET /api/v1/stats/overview': {},
  'GET /api/v1/stats/growth': { query: () => 'days=30' },
};

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const keyOf = (rule: RouteRule) => `${rule.method} ${rule.url}`;

let ctx: TestContext;
let fx: Fixtures;
let rules: RouteRule[];
let keyA: string;
let revokedKeyA: string;
let ownerA: TestSession;
let viewerA: TestSession;
let platformAdmin: TestSession;
let keyB: string;
let ownerB: TestSession;
let stripe: FakeStripe;

beforeAll(async () => {
  // Hundreds of requests from one address and one key: the limits are not what this file tests.
  // Billing on (against the fake Stripe), so its owner-only routes are in the table too.
  stripe = await startFakeStripe({ apiKey: 'sk_test_matrix0123456789', webhookSecret: 'whsec_matrixsecret0123456789' });
  ctx = await createTestContext({
    RATE_LIMIT_IP_PER_MINUTE: '100000',
    RATE_LIMIT_API_KEY_PER_MINUTE: '100000',
    STRIPE_SECRET_KEY: 'sk_test_matrix0123456789',
    STRIPE_WEBHOOK_SECRET: 'whsec_matrixsecret0123456789',
    STRIPE_API_URL: stripe.url,
    BILLING_PLANS: JSON.stringify({ starter: { stripe_price_id: 'price_matrix' } }),
  });
  rules = ctx.app.routeRules.filter((r) => r.url.startsWith('/api/v1/') && r.method !== 'HEAD' && r.method !== 'OPTIONS');

  const a = await ctx.createOrganization('Matrix A');
  const b = await ctx.createOrganization('Matrix B');
  // The free plan has no webhook endpoints; the fixtures need one.
  await ctx.container.services.entitlements.setOverrides(a.id, { webhook_endpoints: 5 });
  keyA = a.key;
  keyB = b.key;
  ownerA = await ctx.createSession(a.id, 'owner');
  viewerA = await ctx.createSession(a.id, 'viewer');
  ownerB = await ctx.createSession(b.id, 'owner');
  platformAdmin = await ctx.createSession(null, undefined, { platformAdmin: true });
  const revoked = await ctx.createKey(a.id, ['subscribers:read']);
  await ctx.container.services.apiKeys.revoke(a.id, revoked.id);
  revokedKeyA = revoked.key;

  const call = api(ctx, a.key);
  const subscriber = (await call('POST', '/api/v1/subscribers', { email: 'matrix@example.com', tags: ['Matrix Tag'] })).json();
  const tag = (await call('GET', '/api/v1/tags/by-name/matrix-tag')).json();
  const extraKey = await ctx.createKey(a.id, ['tags:read']);
  const member = await ctx.createSession(a.id, 'admin');
  const members = (await sessionApi(ctx, ownerA)('GET', '/api/v1/members?limit=100')).json().items as { id: string; user: { id: string } }[];
  const invitation = (await sessionApi(ctx, ownerA)('POST', '/api/v1/invitations', { email: 'matrix-pending@example.com', role: 'viewer' })).json();
  const template = (await call('POST', '/api/v1/templates', { name: 'Matrix', slug: 'matrix-template', subject: 'Hi', mjml_content: MJML })).json();
  const email = (await call('POST', '/api/v1/emails/send', { template_slug: 'matrix-template', to: 'matrix@example.com' })).json();
  // A sending domain as the provider would have registered it (the dev provider has no domains API).
  const domain = await ctx.container.email.repositories.domains.insert(a.id, newId(), {
    id: 'provider-domain',
    name: 'mail.matrix.example.com',
    region: 'us-east-1',
    status: 'pending',
    records: [],
  });
  const suppression = (await call('POST', '/api/v1/suppressions', { email: 'matrix-bounced@example.com' })).json();
  // A public address (documentation-free, never called: no worker runs in this file).
  const webhook = (await call('POST', '/api/v1/webhooks', { url: 'https://93.184.215.14/matrix-fixture', events: ['*'] })).json();
  const webhookDelivery = (await call('POST', `/api/v1/webhooks/${webhook.id}/test`)).json();
  const upload = await ctx.container.services.imports.upload(
    a.id,
    { type: 'user', id: ownerA.userId },
    { dry_run: true },
    { name: 'matrix.csv', stream: Readable.from(['email\nmatrix-import@example.com\n']), truncated: () => false },
  );
  const segment = (
    await call('POST', '/api/v1/segments', { name: 'Matrix', filter: { match: 'all', conditions: [{ field: 'tags', op: 'any', value: [tag.id] }] } })
  ).json();
  const campaign = (await call('POST', '/api/v1/campaigns', { name: 'Matrix', template_id: template.id, tag_filter: { include_tags: [tag.id] } })).json();
  const abCampaign = (
    await call('POST', '/api/v1/campaigns', {
      name: 'Matrix A/B',
      template_id: template.id,
      tag_filter: { include_tags: [tag.id] },
      ab_test: { variants: [{ subject: 'A' }, { subject: 'B' }], test_share: 20, metric: 'human_unique_clicks', wait_hours: 4, winner: 'auto' },
    })
  ).json();
  const trigger = (
    await call('POST', '/api/v1/triggers', { name: 'Matrix', event: 'subscriber.created', steps: [{ type: 'add_tag', tag_id: tag.id }] })
  ).json();
  const bulkAction = (
    await call('POST', '/api/v1/subscribers/bulk-actions', { action: 'add_tag', tag: tag.name, filter: { q: 'no-such-matrix-address' } })
  ).json();
  fx = {
    organizationId: a.id,
    subscriberId: subscriber.id,
    subscriberEmail: 'matrix@example.com',
    tagId: tag.id,
    tagName: tag.name,
    apiKeyId: extraKey.id,
    memberId: members.find((m) => m.user.id === member.userId)!.id,
    invitationId: invitation.id,
    sessionId: ownerA.sessionId,
    templateId: template.id,
    emailMessageId: email.id,
    domainId: domain!.id,
    suppressionId: suppression.id,
    webhookId: webhook.id,
    webhookDeliveryId: webhookDelivery.id,
    importId: upload.id,
    bulkActionId: bulkAction.id,
    segmentId: segment.id,
    campaignId: campaign.id,
    abCampaignId: abCampaign.id,
    triggerId: trigger.id,
  };
});
afterAll(async () => {
  await ctx.close();
  await stripe.close();
});

function sampleOf(rule: RouteRule): Sample {
  const sample = SAMPLES[keyOf(rule)];
  if (!sample) throw new Error(`no SAMPLES entry for ${keyOf(rule)}`);
  return sample;
}

function send(rule: RouteRule, headers: Record<string, string>) {
  const sample = sampleOf(rule);
  const params = sample.params?.(fx) ?? {};
  const path = rule.url.replace(/:([A-Za-z_]+)/g, (_m, name: string) => {
    if (!(name in params)) throw new Error(`SAMPLES entry for ${keyOf(rule)} lacks the path parameter "${name}"`);
    return encodeURIComponent(params[name]!);
  });
  const query = sample.query?.(fx);
  const body = sample.body?.(fx);
  return ctx.app.inject({
    method: rule.method as 'GET',
    url: query ? `${path}?${query}` : path,
    headers,
    ...(body !== undefined ? { payload: body as object } : {}),
  });
}

const keyHeaders = (key: string) => ({ authorization: `Bearer ${key}` });
// Routes without a SAMPLES entry are reported once, by the first test, rather than failing every matrix.
const protectedRules = () => rules.filter((r) => r.access && !('public' in r.access) && SAMPLES[keyOf(r)]);

/** Runs `check` on each route and returns one line per route whose answer was not the expected one. */
async function violations(selected: RouteRule[], check: (rule: RouteRule) => Promise<string | null>): Promise<string[]> {
  const problems: string[] = [];
  for (const rule of selected) {
    const problem = await check(rule);
    if (problem) problems.push(`${keyOf(rule)}: ${problem}`);
  }
  return problems;
}

async function expectAnswer(rule: RouteRule, headers: Record<string, string>, status: number, code?: string): Promise<string | null> {
  const res = await send(rule, headers);
  const actual = res.statusCode >= 400 ? res.json().error?.code : undefined;
  if (res.statusCode === status && (code === undefined || actual === code)) return null;
  return `expected ${status}${code ? ` ${code}` : ''}, got ${res.statusCode}${actual ? ` ${actual}` : ''}`;
}

describe('the route table', () => {
  it('has an entry in SAMPLES for every /api/v1 route', () => {
    const missing = [...new Set(rules.map(keyOf))].filter((key) => !SAMPLES[key]);
    expect(
      missing,
      `Add an entry for each of these routes to SAMPLES in server/test/identity/route-matrix.test.ts: sample path parameters and a valid body, or \`public: 'why'\` for a route without credentials`,
    ).toEqual([]);
  });

  it('declares public exactly the routes SAMPLES explains as public', () => {
    const problems = rules
      .filter((r) => SAMPLES[keyOf(r)])
      .flatMap((rule) => {
        const isPublic = Boolean(rule.access && 'public' in rule.access);
        const explained = Boolean(sampleOf(rule).public);
        if (isPublic && !explained) return [`${keyOf(rule)} is public; say why in its SAMPLES entry (public: '…')`];
        if (!isPublic && explained) return [`${keyOf(rule)} is not public but its SAMPLES entry says it is`];
        return [];
      });
    expect(problems).toEqual([]);
  });

  it('never admits viewers to a mutation unless its scope is a read scope', () => {
    const problems = protectedRules()
      .filter((r) => MUTATING.has(r.method) && actsInOrganization(r.access!) && requiredRole(r.access!) === 'viewer')
      .filter((r) => r.method !== 'POST' || !('scope' in r.access!))
      .map(keyOf);
    expect(problems).toEqual([]);
  });
});

describe('the role matrix', () => {
  it('answers 401 to a request without credentials on every protected route', async () => {
    expect(await violations(protectedRules(), (rule) => expectAnswer(rule, {}, 401, 'unauthorized'))).toEqual([]);
  });

  it('answers 401 api_key_revoked to a revoked key on every protected route', async () => {
    expect(await violations(protectedRules(), (rule) => expectAnswer(rule, keyHeaders(revokedKeyA), 401, 'api_key_revoked'))).toEqual([]);
  });

  it("answers 403 insufficient_scope to a key without the route's scope, and 403 session_required on session-only routes", async () => {
    const allScopes = ctx.container.services.apiKeys.allScopes();
    const fullKey = keyA;
    const problems = await violations(protectedRules(), async (rule) => {
      const access = rule.access!;
      if (!('scope' in access)) return expectAnswer(rule, keyHeaders(fullKey), 403, 'session_required');
      const others = allScopes.filter((s): s is Scope => s !== access.scope);
      const key = await ctx.createKey(fx.organizationId, others);
      return expectAnswer(rule, keyHeaders(key.key), 403, 'insufficient_scope');
    });
    expect(problems).toEqual([]);
  });

  it('answers 403 to a viewer session on every route that needs more than viewer, and to non-operators on platform routes', async () => {
    const problems = await violations(protectedRules(), async (rule) => {
      const access = rule.access!;
      if ('platform' in access) return expectAnswer(rule, viewerA.headers, 403, 'platform_admin_required');
      if (!actsInOrganization(access) || requiredRole(access) === 'viewer') return null;
      return expectAnswer(rule, viewerA.headers, 403, 'insufficient_role');
    });
    expect(problems).toEqual([]);
  });

  it('lets a viewer session read every route that admits viewers', async () => {
    const reads = protectedRules().filter((r) => r.method === 'GET' && actsInOrganization(r.access!) && requiredRole(r.access!) === 'viewer');
    const problems = await violations(reads, async (rule) => {
      const res = await send(rule, viewerA.headers);
      return res.statusCode === 200 ? null : `expected 200, got ${res.statusCode} ${res.body.slice(0, 120)}`;
    });
    expect(problems).toEqual([]);
  });

  it("serves every GET route to the owner's session, and every scoped GET route to a full key (dual auth)", async () => {
    const gets = protectedRules().filter((r) => r.method === 'GET');
    const problems = await violations(gets, async (rule) => {
      const access = rule.access!;
      const session = 'platform' in access ? platformAdmin : ownerA;
      const bySession = await send(rule, session.headers);
      if (bySession.statusCode !== 200) return `session: expected 200, got ${bySession.statusCode} ${bySession.body.slice(0, 120)}`;
      if (!('scope' in access)) return null;
      const byKey = await send(rule, keyHeaders(keyA));
      return byKey.statusCode === 200 ? null : `API key: expected 200, got ${byKey.statusCode} ${byKey.body.slice(0, 120)}`;
    });
    expect(problems).toEqual([]);
  });
});

describe('the tenant-isolation matrix', () => {
  it("answers 404 to organization B for organization A's resources on every route with path parameters", async () => {
    const scoped = protectedRules().filter((r) => r.url.includes('/:') && !('platform' in r.access!));
    const problems = await violations(scoped, async (rule) => {
      if (sampleOf(rule).notTenantData) return null;
      const bySession = await expectAnswer(rule, ownerB.headers, 404);
      if (bySession) return `B's owner session: ${bySession}`;
      if (!('scope' in rule.access!)) return null;
      const byKey = await expectAnswer(rule, keyHeaders(keyB), 404);
      return byKey ? `B's API key: ${byKey}` : null;
    });
    expect(problems).toEqual([]);
    // And A's resources are still there.
    expect((await api(ctx, keyA)('GET', `/api/v1/subscribers/${fx.subscriberId}`)).statusCode).toBe(200);
  });
});
