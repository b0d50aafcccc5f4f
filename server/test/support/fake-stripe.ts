import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';

/**
 * A stand-in for the parts of Stripe's HTTP API billing uses, so tests run the real `stripe` SDK (pointed
 * here with STRIPE_API_URL) without an account or network: customers (with idempotency keys), Checkout
 * sessions, Customer Portal sessions and subscription retrieval. Subscriptions are set by the test as
 * "what Stripe knows now"; events are built and signed with the SDK's own test-header helper.
 */

export interface FakeSubscription {
  id: string;
  customer: string;
  status: Stripe.Subscription.Status;
  price: string;
  current_period_end: number;
}

export interface FakeStripeRequest {
  method: string;
  path: string;
  body: Record<string, string>;
  idempotencyKey: string | null;
}

const id = (prefix: string) => `${prefix}_${randomBytes(10).toString('hex')}`;

export async function startFakeStripe(options: { apiKey: string; webhookSecret: string }) {
  const customers = new Map<string, { id: string; name: string; email: string; metadata: Record<string, string> }>();
  const byIdempotencyKey = new Map<string, unknown>();
  const subscriptions = new Map<string, FakeSubscription>();
  const requests: FakeStripeRequest[] = [];
  let failNext: number | null = null;

  const send = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json', 'request-id': id('req') });
    res.end(JSON.stringify(body));
  };
  const error = (res: http.ServerResponse, status: number, message: string, code?: string) =>
    send(res, status, {
      error: { type: status === 401 ? 'invalid_request_error' : status >= 500 ? 'api_error' : 'invalid_request_error', message, ...(code ? { code } : {}) },
    });

  const subscriptionObject = (s: FakeSubscription) => ({
    id: s.id,
    object: 'subscription',
    customer: s.customer,
    status: s.status,
    created: 1_700_000_000,
    livemode: false,
    metadata: {},
    items: {
      object: 'list',
      has_more: false,
      url: `/v1/subscription_items?subscription=${s.id}`,
      data: [
        {
          id: `si_${s.id.slice(4)}`,
          object: 'subscription_item',
          current_period_end: s.current_period_end,
          current_period_start: s.current_period_end - 30 * 86_400,
          price: { id: s.price, object: 'price' },
          quantity: 1,
        },
      ],
    },
  });

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const body = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
      const idempotencyKey = typeof req.headers['idempotency-key'] === 'string' ? req.headers['idempotency-key'] : null;
      requests.push({ method: req.method ?? '', path: url.pathname, body, idempotencyKey });
      if (req.headers.authorization !== `Bearer ${options.apiKey}`) return error(res, 401, 'Invalid API Key provided');
      if (failNext !== null) {
        const status = failNext;
        failNext = null;
        return error(res, status, 'An error occurred with our connection to Stripe.');
      }
      const remember = (value: unknown) => {
        // A retried create with the same Idempotency-Key gets the first answer, as Stripe does.
        if (idempotencyKey && req.method === 'POST') byIdempotencyKey.set(`${url.pathname} ${idempotencyKey}`, value);
        return send(res, 200, value);
      };
      const earlier = idempotencyKey && req.method === 'POST' ? byIdempotencyKey.get(`${url.pathname} ${idempotencyKey}`) : undefined;
      if (earlier) return send(res, 200, earlier);

      if (req.method === 'POST' && url.pathname === '/v1/customers') {
        const metadata: Record<string, string> = {};
        for (const [k, v] of Object.entries(body)) if (k.startsWith('metadata[')) metadata[k.slice(9, -1)] = v;
        const customer = { id: id('cus'), name: body.name ?? '', email: body.email ?? '', metadata };
        customers.set(customer.id, customer);
        return remember({ ...customer, object: 'customer' });
      }
      if (req.method === 'POST' && url.pathname === '/v1/checkout/sessions') {
        if (!body.customer || !customers.has(body.customer)) return error(res, 400, `No such customer: '${body.customer}'`, 'resource_missing');
        if (!body['line_items[0][price]']) return error(res, 400, 'Missing required param: line_items[0][price].');
        const session = id('cs_test');
        return remember({
          id: session,
          object: 'checkout.session',
          mode: body.mode,
          customer: body.customer,
          client_reference_id: body.client_reference_id ?? null,
          url: `https://checkout.stripe.test/c/pay/${session}`,
          success_url: body.success_url,
          cancel_url: body.cancel_url,
          subscription: null,
          status: 'open',
        });
      }
      if (req.method === 'POST' && url.pathname === '/v1/billing_portal/sessions') {
        if (!body.customer || !customers.has(body.customer)) return error(res, 400, `No such customer: '${body.customer}'`, 'resource_missing');
        const session = id('bps');
        return remember({
          id: session,
          object: 'billing_portal.session',
          customer: body.customer,
          return_url: body.return_url,
          url: `https://billing.stripe.test/p/session/${session}`,
        });
      }
      const match = /^\/v1\/subscriptions\/([A-Za-z0-9_]+)$/.exec(url.pathname);
      if (req.method === 'GET' && match) {
        const subscription = subscriptions.get(match[1]!);
        if (!subscription) return error(res, 404, `No such subscription: '${match[1]}'`, 'resource_missing');
        return send(res, 200, subscriptionObject(subscription));
      }
      return error(res, 404, `Unrecognized request URL (${req.method}: ${url.pathname}).`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const sdk = new Stripe(options.apiKey);
  const { webhookSecret } = options;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    customers,
    /** Sets what Stripe knows about a subscription now (what the sync job will read). */
    setSubscription(subscription: Omit<FakeSubscription, 'id' | 'current_period_end'> & { id?: string; current_period_end?: number }): FakeSubscription {
      const stored = {
        id: subscription.id ?? id('sub'),
        current_period_end: subscription.current_period_end ?? Math.floor(Date.now() / 1000) + 30 * 86_400,
        ...subscription,
      } as FakeSubscription;
      subscriptions.set(stored.id, stored);
      return stored;
    },
    /** The next request answers with this status (e.g. 500), once. */
    failNextRequest(status: number) {
      failNext = status;
    },
    /** A webhook event as Stripe sends it: the raw body and its stripe-signature header. */
    event(type: string, object: Record<string, unknown>, options: { id?: string; timestamp?: number; secret?: string } = {}) {
      const eventId = options.id ?? id('evt');
      const payload = JSON.stringify({
        id: eventId,
        object: 'event',
        api_version: '2026-10-28.endive',
        created: Math.floor(Date.now() / 1000),
        livemode: false,
        type,
        data: { object },
      });
      const signature = sdk.webhooks.generateTestHeaderString({
        payload,
        secret: options.secret ?? webhookSecret,
        ...(options.timestamp ? { timestamp: options.timestamp } : {}),
      });
      return { id: eventId, payload, signature };
    },
    webhookSecret: options.webhookSecret,
    subscriptionObject,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type FakeStripe = Awaited<ReturnType<typeof startFakeStripe>>;
