import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { requireSession } from '../auth/index.ts';
import { authErrors, ErrorResponse } from '../common.schemas.ts';
import { BillingOverview, BillingStatus, CheckoutBody, RedirectUrl } from './billing.schemas.ts';
import type { BillingService } from './billing.service.ts';

const BODY_LIMIT = 256 * 1024;
const ONLY_WITH_BILLING = 'Exists only when the installation has billing on (Stripe keys configured); otherwise 404.';

/** Billing for the organization's owners (registered only when billing is on). */
export const billingRoutes: FastifyPluginAsyncTypebox<{ billing: BillingService }> = async (app, { billing }) => {
  app.get(
    '/billing',
    {
      schema: {
        tags: ['billing'],
        operationId: 'getBilling',
        summary: 'Plan, subscription status, period end and usage against each limit (owners)',
        description: ONLY_WITH_BILLING,
        response: { 200: BillingOverview, 404: ErrorResponse, ...authErrors },
      },
      config: { access: { role: 'owner' } },
    },
    async (request) => billing.overview(requireSession(request).organizationId),
  );

  app.get(
    '/billing/status',
    {
      schema: {
        tags: ['billing'],
        operationId: 'getBillingStatus',
        summary: "Whether the organization's subscription is past due, for the dashboard's banner (owners and admins)",
        description: ONLY_WITH_BILLING,
        response: { 200: BillingStatus, 404: ErrorResponse, ...authErrors },
      },
      config: { access: { role: 'admin' } },
    },
    async (request) => billing.status(requireSession(request).organizationId),
  );

  app.post(
    '/billing/checkout',
    {
      schema: {
        tags: ['billing'],
        operationId: 'createBillingCheckout',
        summary: 'A Stripe Checkout page to subscribe to a plan (owners)',
        description: ONLY_WITH_BILLING,
        body: CheckoutBody,
        response: { 200: RedirectUrl, 400: ErrorResponse, 409: ErrorResponse, 502: ErrorResponse, ...authErrors },
      },
      config: { access: { role: 'owner' }, audit: { action: 'billing.checkout', targetType: 'organization' } },
    },
    async (request) => {
      const session = requireSession(request);
      return billing.checkout(session.organizationId, request.body.plan, session.principal.email);
    },
  );

  app.post(
    '/billing/portal',
    {
      schema: {
        tags: ['billing'],
        operationId: 'createBillingPortal',
        summary: 'A Stripe Customer Portal page: invoices, payment method, plan changes (owners)',
        description: ONLY_WITH_BILLING,
        response: { 200: RedirectUrl, 409: ErrorResponse, 502: ErrorResponse, ...authErrors },
      },
      config: { access: { role: 'owner' }, audit: { action: 'billing.portal', targetType: 'organization' } },
    },
    async (request) => billing.portal(requireSession(request).organizationId),
  );
};

/**
 * Stripe's webhook. The signature covers the exact bytes sent, so JSON stays raw text in this plugin's
 * own scope and is parsed only after the check.
 */
export const stripeHookRoutes: FastifyPluginAsyncTypebox<{ billing: BillingService }> = async (app, { billing }) => {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_request, body, done) => done(null, body));

  app.post(
    '/hooks/stripe',
    {
      schema: {
        tags: ['hooks'],
        operationId: 'receiveStripeEvent',
        summary: 'Subscription events from Stripe, signed with the stripe-signature header',
        description: ONLY_WITH_BILLING,
        headers: Type.Object({ 'stripe-signature': Type.Optional(Type.String({ maxLength: 4096 })) }),
        response: { 200: Type.Object({ received: Type.Boolean(), result: Type.String() }), 401: ErrorResponse, 503: ErrorResponse },
      },
      bodyLimit: BODY_LIMIT,
      config: { access: { public: true }, rateLimit: false },
    },
    async (request) => {
      const raw = typeof request.body === 'string' ? request.body : '';
      return { received: true, result: await billing.receive(raw, request.headers['stripe-signature']) };
    },
  );
};
