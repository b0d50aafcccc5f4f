import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestContext } from '../../server/test/support/context.ts';
import { startWorker, waitFor } from '../../server/test/email/helpers.ts';
import { startReceiver, type Received, type Receiver } from '../../server/test/webhooks/receiver.ts';
import { SubscribeFlowClient, verifyWebhook, WebhookVerificationError } from '../src/index.ts';
import { startApi } from './support.ts';

let ctx: TestContext;
let sf: SubscribeFlowClient;
let receiver: Receiver;
let worker: Awaited<ReturnType<typeof startWorker>>;
let hookSecret: string;

beforeAll(async () => {
  receiver = await startReceiver();
  // The receiver listens on loopback, which only an explicit allow-list entry opens; retries are quick.
  const started = await startApi({ WEBHOOKS_ALLOW_PRIVATE_HOSTS: '127.0.0.1', WEBHOOKS_RETRY_DELAYS_SECONDS: '0.2', WEBHOOKS_TIMEOUT_MS: '1000' });
  ctx = started.ctx;
  sf = new SubscribeFlowClient({ apiKey: started.organization.key, baseUrl: started.baseUrl });
  worker = await startWorker(ctx, { queues: ['webhook'] });
});
afterAll(async () => {
  await worker?.close();
  await ctx?.close();
  await receiver?.close();
});

const arrived = (path: string, count = 1) => waitFor(() => (receiver.at(path).length >= count ? receiver.at(path) : null));
const headersOf = (request: Received) => request.headers as Record<string, string>;

describe('webhooks through the SDK', () => {
  it('creates an endpoint, sends a test event and verifies the delivery with verifyWebhook', async () => {
    const endpoint = await sf.webhooks.create({ url: receiver.url('/hook'), events: ['*'], description: 'CRM sync' });
    expect(endpoint.secret).toMatch(/^whsec_/);
    receiver.expect('/hook', endpoint.secret);
    hookSecret = endpoint.secret;
    expect((await sf.webhooks.get(endpoint.id)).description).toBe('CRM sync');
    expect((await sf.webhooks.eventTypes()).items.length).toBeGreaterThan(0);

    await sf.webhooks.test(endpoint.id);
    const [request] = await arrived('/hook');
    // The independent standardwebhooks library and the SDK agree on the signature.
    expect(request!.verifyError).toBeNull();
    const event = await verifyWebhook(request!.body, headersOf(request!), endpoint.secret);
    expect(event.type).toBe(request!.event!.type);
    expect(event.id).toBe(request!.headers['webhook-id']);
    // A Headers object and bytes work as well as Node's header object and a string.
    const bytes = new TextEncoder().encode(request!.body);
    await expect(verifyWebhook(bytes, new Headers(headersOf(request!)), endpoint.secret)).resolves.toMatchObject({ id: event.id });
  });

  it('refuses a changed body, a wrong secret, an old delivery and missing headers', async () => {
    const [request] = receiver.at('/hook');
    const headers = headersOf(request!);
    await expect(verifyWebhook(request!.body, headers, hookSecret)).resolves.toBeTruthy();
    await expect(verifyWebhook(request!.body.replace('"', '"x'), headers, hookSecret)).rejects.toBeInstanceOf(WebhookVerificationError);
    await expect(verifyWebhook(request!.body, headers, 'whsec_' + btoa('another secret, not this one'))).rejects.toThrow(/No signature matches/);
    const later = new Date(Number(headers['webhook-timestamp']) * 1000 + 10 * 60_000);
    await expect(verifyWebhook(request!.body, headers, hookSecret, { now: later })).rejects.toThrow(/too old/);
    await expect(verifyWebhook(request!.body, { 'webhook-id': headers['webhook-id'] }, hookSecret)).rejects.toThrow(/missing/);
  });

  it('iterates deliveries, retries a dead one, rotates the secret and replays a window', async () => {
    const before = new Date(Date.now() - 1000);
    await sf.subscribers.create({ email: 'replayed@example.com' });
    const endpoint = await sf.webhooks.create({ url: receiver.url('/down'), events: ['*'] });
    receiver.expect('/down', endpoint.secret);
    receiver.script('/down', [{ status: 503 }]);
    await sf.webhooks.test(endpoint.id);
    const dead = await waitFor(async () => {
      const page = await sf.webhooks.deliveries(endpoint.id, { status: 'dead' });
      return page.items[0] ?? null;
    });
    expect(dead).toMatchObject({ status: 'dead', last_status_code: 503 });
    expect((await sf.webhooks.getDelivery(dead.id)).attempt_log.length).toBe(2);

    receiver.script('/down', [{ status: 200 }]);
    await sf.webhooks.retryDelivery(dead.id);
    await waitFor(async () => (await sf.webhooks.getDelivery(dead.id)).status === 'succeeded');

    const rotated = await sf.webhooks.rotateSecret(endpoint.id);
    expect(rotated.secret).not.toBe(endpoint.secret);
    receiver.expect('/down', rotated.secret);
    // The subscriber was created before the endpoint: only a replay of the window delivers it.
    const replay = await sf.webhooks.replay(endpoint.id, { from: before.toISOString(), to: new Date(Date.now() + 1000).toISOString() });
    expect(replay.deliveries).toBeGreaterThanOrEqual(1);
    const created = await waitFor(() => receiver.at('/down').find((r) => r.event?.type === 'subscriber.created') ?? null);
    const event = await verifyWebhook<{ subscriber: { email: string } }>(created.body, headersOf(created), rotated.secret);
    expect(event.data.subscriber.email).toBe('replayed@example.com');

    const all: string[] = [];
    for await (const delivery of sf.webhooks.deliveriesAll(endpoint.id, { limit: 1 })) all.push(delivery.id);
    expect(all).toContain(dead.id);
    expect(all.length).toBeGreaterThanOrEqual(2);

    expect((await sf.webhooks.update(endpoint.id, { enabled: false })).enabled).toBe(false);
    await sf.webhooks.delete(endpoint.id);
    await expect(sf.webhooks.get(endpoint.id)).rejects.toMatchObject({ status: 404 });
  });
});
