import { createHmac } from 'node:crypto';
import { sql } from 'kysely';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestContext, type TestContext } from '../support/context.ts';
import { startWorker, waitFor } from '../email/helpers.ts';
import { startReceiver, type Receiver } from './receiver.ts';
import type { JobContext } from '../../src/jobs/context.ts';
import { createMetrics } from '../../src/metrics/registry.ts';
import { newId } from '../../src/lib/ids.ts';

let ctx: TestContext;
let receiver: Receiver;
let worker: Awaited<ReturnType<typeof startWorker>>;
let call: ReturnType<typeof api>;
let organizationId: string;
let ticks = 0;

// Retries a fifth of a second apart and a short timeout, so the schedule runs out within the test.
const RETRY_DELAYS = [0.2, 0.2, 0.2];

beforeAll(async () => {
  receiver = await startReceiver();
  // The receiver listens on loopback, which only an explicit allow-list entry opens.
  ctx = await createTestContext({
    WEBHOOKS_ALLOW_PRIVATE_HOSTS: '127.0.0.1',
    WEBHOOKS_RETRY_DELAYS_SECONDS: RETRY_DELAYS.join(','),
    WEBHOOKS_TIMEOUT_MS: '400',
    WEBHOOKS_CONCURRENCY_PER_ENDPOINT: '2',
    RATE_LIMIT_API_KEY_PER_MINUTE: '100000',
  });
  const org = await ctx.createOrganization('Hooks A');
  organizationId = org.id;
  call = api(ctx, org.key);
  worker = await startWorker(ctx, { queues: ['webhook'] });
});
afterAll(async () => {
  await worker?.close();
  await ctx?.close();
  await receiver?.close();
});

/** Runs the outbox relay now (cron does every minute). */
async function relay(): Promise<void> {
  ticks += 1;
  await ctx.container.jobs.enqueue('events.relay', { tick: `T${Date.now()}${ticks}`.slice(0, 20) });
}

async function createEndpoint(path: string, body: Record<string, unknown> = {}, caller = call) {
  const res = await caller('POST', '/api/v1/webhooks', { url: receiver.url(path), events: ['*'], ...body });
  expect(res.statusCode, res.body).toBe(201);
  const endpoint = res.json();
  receiver.expect(path, endpoint.secret);
  return endpoint as { id: string; secret: string; signing_secret: string; events: string[] };
}

const deliveries = async (endpointId: string, query = '') =>
  (await call('GET', `/api/v1/webhooks/${endpointId}/deliveries${query}`)).json().items as {
    id: string;
    status: string;
    attempts: number;
    last_status_code: number | null;
    last_error: string | null;
    event_type: string;
    event_id: string;
  }[];

async function settled(endpointId: string, count = 1) {
  return waitFor(async () => {
    const items = await deliveries(endpointId);
    return items.length >= count && items.every((d) => d.status === 'succeeded' || d.status === 'dead') ? items : null;
  });
}

describe('endpoints', () => {
  it('shows the signing secret on create only, as secret and signing_secret', async () => {
    const endpoint = await createEndpoint('/secret-once', { events: ['subscriber.created', 'tag.subscribed'], description: 'CRM' });
    expect(endpoint.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(endpoint.signing_secret).toBe(endpoint.secret);
    const fetched = await call('GET', `/api/v1/webhooks/${endpoint.id}`);
    expect(fetched.json()).toMatchObject({ id: endpoint.id, events: ['subscriber.created', 'tag.subscribed'], description: 'CRM', enabled: true });
    expect(fetched.body).not.toContain(endpoint.secret.slice(6, 30));
    expect((await call('GET', '/api/v1/webhooks')).body).not.toContain('whsec_');
    // Stored encrypted: the database never holds the secret itself.
    const row = await ctx.container.db.selectFrom('webhook_endpoints').select('secret_encrypted').where('id', '=', endpoint.id).executeTakeFirstOrThrow();
    expect(row.secret_encrypted).not.toContain(endpoint.secret.slice(6, 30));
  });

  it("lists the event catalogue with each type's JSON Schema", async () => {
    const { items } = (await call('GET', '/api/v1/webhooks/event-types')).json();
    const created = items.find((i: { type: string }) => i.type === 'subscriber.created');
    expect(created.payload).toMatchObject({ type: 'object', properties: { subscriber: { type: 'object' } } });
    expect(items.map((i: { type: string }) => i.type)).toContain('webhook.test');
  });

  it('refuses unknown event types and accepts changes to url, events and description', async () => {
    const bad = await call('POST', '/api/v1/webhooks', { url: receiver.url('/x'), events: ['subscriber.exploded'] });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().error.code).toBe('unknown_event_type');
    const endpoint = await createEndpoint('/patch-me');
    const patched = await call('PATCH', `/api/v1/webhooks/${endpoint.id}`, {
      events: ['email.bounced'],
      description: 'bounces',
      url: receiver.url('/patched'),
    });
    expect(patched.json()).toMatchObject({ events: ['email.bounced'], description: 'bounces', url: receiver.url('/patched') });
    expect((await call('DELETE', `/api/v1/webhooks/${endpoint.id}`)).statusCode).toBe(204);
    expect((await call('GET', `/api/v1/webhooks/${endpoint.id}`)).statusCode).toBe(404);
  });
});

describe('delivery', () => {
  it('delivers outbox events once per subscribed endpoint, signed so that standardwebhooks verifies them', async () => {
    const all = await createEndpoint('/all');
    const tagsOnly = await createEndpoint('/tags-only', { events: ['tag.subscribed'] });
    const created = await call('POST', '/api/v1/subscribers', { email: 'hooked@example.com', tags: ['News'] });
    expect(created.statusCode).toBe(201);
    await relay();
    await relay();
    const atAll = await waitFor(() => (receiver.at('/all').length >= 2 ? receiver.at('/all') : null));
    await settled(all.id, 2);
    await settled(tagsOnly.id, 1);
    expect(atAll.map((r) => r.verifyError)).toEqual([null, null]);
    expect(atAll.map((r) => r.event!.type).sort()).toEqual(['subscriber.created', 'tag.subscribed']);
    const event = atAll.find((r) => r.event!.type === 'subscriber.created')!.event!;
    expect(Object.keys(event).sort()).toEqual(['created_at', 'data', 'id', 'type']);
    expect(event.data).toMatchObject({ subscriber: { email: 'hooked@example.com' } });
    expect(atAll[0]!.headers['webhook-id']).toBe(atAll[0]!.event!.id);
    const atTags = receiver.at('/tags-only');
    expect(atTags.map((r) => [r.event?.type, r.verifyError])).toEqual([['tag.subscribed', null]]);
    // A relay that runs again creates nothing twice.
    await relay();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.at('/all')).toHaveLength(2);
  });

  it('delivers right after the commit, with no relay job from cron', async () => {
    const endpoint = await createEndpoint('/prompt', { events: ['subscriber.created'] });
    const started = Date.now();
    expect((await call('POST', '/api/v1/subscribers', { email: 'prompt@example.com' })).statusCode).toBe(201);
    // Cron does not run in tests: only the worker's listener (woken by the commit) can relay this event.
    const [got] = await waitFor(() => (receiver.at('/prompt').length > 0 ? receiver.at('/prompt') : null), 5000);
    expect(got!.verifyError).toBeNull();
    expect(Date.now() - started).toBeLessThan(5000);
    await settled(endpoint.id);
  });

  it('sends each delivery of a batch once, even when the batch job runs twice beside a single attempt job', async () => {
    const endpoint = await createEndpoint('/batch-twice', { events: ['subscriber.note_added'] });
    const ids = Array.from({ length: 12 }, () => newId());
    await ctx.container.db
      .insertInto('webhook_deliveries')
      .values(
        ids.map((id, i) => ({
          id,
          organization_id: organizationId,
          endpoint_id: endpoint.id,
          event_id: newId(),
          event_type: 'subscriber.note_added',
          event_created_at: new Date(),
          payload: JSON.stringify({ n: i }),
          replay: true,
          next_attempt_at: new Date(),
        })),
      )
      .execute();
    const handlers = ctx.container.jobHandlers(createMetrics('batch-test'));
    const postponed: string[] = [];
    const context = (jobId: string): JobContext => ({
      jobId,
      attemptsMade: 0,
      attempt: 1,
      lastAttempt: false,
      signal: new AbortController().signal,
      log: ctx.container.logger,
      rateLimited: async () => {
        throw new Error('rate limited');
      },
      unrecoverable: (m) => new Error(m),
      giveBack: async () => {
        throw new Error('given back');
      },
      postpone: async () => {
        postponed.push(jobId);
        throw new Error('postponed');
      },
    });
    const payload = { endpoint_id: endpoint.id, delivery_ids: ids };
    const runs = await Promise.allSettled([
      handlers['webhook.deliver-batch'](payload, context('batch-a')),
      handlers['webhook.deliver-batch'](payload, context('batch-b')),
      handlers['webhook.deliver']({ delivery_id: ids[3]!, endpoint_id: endpoint.id, attempt: 1 }, context('single')),
    ]);
    // A run that found the endpoint's two slots taken was postponed; run it again as the queue would.
    for (const jobId of postponed) await handlers['webhook.deliver-batch'](payload, context(`${jobId}-again`)).catch(() => undefined);
    expect(runs.filter((r) => r.status === 'rejected').length).toBe(postponed.length);
    await settled(endpoint.id, 12);
    const got = receiver.at('/batch-twice');
    expect(got).toHaveLength(12);
    expect(new Set(got.map((r) => r.headers['webhook-id'])).size).toBe(12);
    expect(got.filter((r) => r.verifyError !== null)).toEqual([]);
    expect(receiver.maxInFlight('/batch-twice')).toBeLessThanOrEqual(2);
    const attempts = await ctx.container.db.selectFrom('webhook_attempts').select('delivery_id').where('delivery_id', 'in', ids).execute();
    expect(attempts).toHaveLength(12);
  });

  it('sends a webhook.test event on request', async () => {
    const endpoint = await createEndpoint('/ping');
    const res = await call('POST', `/api/v1/webhooks/${endpoint.id}/test`);
    expect(res.statusCode).toBe(202);
    const [got] = await waitFor(() => (receiver.at('/ping').length > 0 ? receiver.at('/ping') : null));
    expect(got!.verifyError).toBeNull();
    expect(got!.event).toMatchObject({ type: 'webhook.test', data: { webhook_id: endpoint.id } });
  });

  it('retries after 500s and timeouts, logging every attempt, until a 2xx', async () => {
    const endpoint = await createEndpoint('/flaky');
    receiver.script('/flaky', [{ status: 500, body: 'boom' }, { status: 200, delayMs: 1500 }, { status: 204 }]);
    await call('POST', `/api/v1/webhooks/${endpoint.id}/test`);
    const [delivery] = await settled(endpoint.id);
    expect(delivery).toMatchObject({ status: 'succeeded', attempts: 3, last_status_code: 204 });
    const detail = (await call('GET', `/api/v1/webhooks/deliveries/${delivery!.id}`)).json();
    expect(detail.attempt_log.map((a: { status_code: number | null }) => a.status_code)).toEqual([500, null, 204]);
    expect(detail.attempt_log[0]).toMatchObject({ response_snippet: 'boom', error: 'HTTP 500' });
    expect(detail.attempt_log[1].error).toMatch(/timed out after 400 ms/);
    expect(detail.attempt_log[0].request_headers).toMatchObject({ 'webhook-id': delivery!.event_id, 'content-type': 'application/json' });
    // Every attempt carries the same webhook-id, so the receiver can deduplicate.
    expect(new Set(receiver.at('/flaky').map((r) => r.headers['webhook-id']))).toEqual(new Set([delivery!.event_id]));
  });

  it('spaces retries by the schedule and marks the delivery dead when it runs out; a manual retry sends it again', async () => {
    const endpoint = await createEndpoint('/down');
    receiver.script('/down', [{ status: 503 }]);
    await call('POST', `/api/v1/webhooks/${endpoint.id}/test`);
    const [dead] = await settled(endpoint.id);
    expect(dead).toMatchObject({ status: 'dead', attempts: RETRY_DELAYS.length + 1, last_status_code: 503 });
    const attempts = (await call('GET', `/api/v1/webhooks/deliveries/${dead!.id}`)).json().attempt_log as { created_at: string }[];
    const gaps = attempts.slice(1).map((a, i) => Date.parse(a.created_at) - Date.parse(attempts[i]!.created_at));
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(190);

    receiver.script('/down', [{ status: 200 }]);
    const retried = await call('POST', `/api/v1/webhooks/deliveries/${dead!.id}/retry`);
    expect(retried.statusCode).toBe(202);
    const [done] = await settled(endpoint.id).then(async () =>
      waitFor(async () => {
        const items = await deliveries(endpoint.id);
        return items[0]!.status === 'succeeded' ? items : null;
      }),
    );
    expect(done).toMatchObject({ status: 'succeeded', attempts: RETRY_DELAYS.length + 2 });
    expect(receiver.at('/down').at(-1)!.headers['webhook-id']).toBe(dead!.event_id);
  });

  it('keeps at most the configured number of attempts in flight per endpoint, and others go on meanwhile', async () => {
    const slow = await createEndpoint('/slow');
    const fast = await createEndpoint('/fast');
    receiver.script('/slow', [{ status: 200, delayMs: 300 }]);
    for (let i = 0; i < 6; i += 1) await call('POST', `/api/v1/webhooks/${slow.id}/test`);
    const started = Date.now();
    await call('POST', `/api/v1/webhooks/${fast.id}/test`);
    await settled(fast.id);
    const fastDone = Date.now() - started;
    await settled(slow.id, 6);
    expect(receiver.maxInFlight('/slow')).toBe(2);
    expect(receiver.at('/slow')).toHaveLength(6);
    // The fast receiver was not queued behind the slow one's six 300 ms answers.
    expect(fastDone).toBeLessThan(900);
  });

  it('disables the endpoint when the receiver answers 410 Gone', async () => {
    const endpoint = await createEndpoint('/gone');
    receiver.script('/gone', [{ status: 410 }]);
    await call('POST', `/api/v1/webhooks/${endpoint.id}/test`);
    const [delivery] = await settled(endpoint.id);
    expect(delivery).toMatchObject({ status: 'dead', attempts: 1, last_status_code: 410 });
    const fetched = (await call('GET', `/api/v1/webhooks/${endpoint.id}`)).json();
    expect(fetched).toMatchObject({ enabled: false, disabled_reason: 'The endpoint answered 410 Gone' });
    expect((await call('POST', `/api/v1/webhooks/${endpoint.id}/test`)).statusCode).toBe(422);
  });

  it("disables an endpoint that has failed for the configured time and emails the organization's admins", async () => {
    const endpoint = await createEndpoint('/failing-for-days');
    receiver.script('/failing-for-days', [{ status: 500 }]);
    await ctx.container.db
      .updateTable('webhook_endpoints')
      .set({ failing_since: sql<Date>`now() - interval '73 hours'` })
      .where('id', '=', endpoint.id)
      .execute();
    await call('POST', `/api/v1/webhooks/${endpoint.id}/test`);
    const fetched = await waitFor(async () => {
      const row = (await call('GET', `/api/v1/webhooks/${endpoint.id}`)).json();
      return row.enabled === false ? row : null;
    });
    expect(fetched.disabled_reason).toBe('Every delivery failed for 72 hours');
    const notice = await waitFor(() => ctx.container.devMailbox.latestTo('owner1@example.com'));
    expect(notice.subject).toContain('Webhook endpoint disabled');
    // Enabling it again clears the failure state.
    const enabled = (await call('PATCH', `/api/v1/webhooks/${endpoint.id}`, { enabled: true })).json();
    expect(enabled).toMatchObject({ enabled: true, disabled_reason: null, failing_since: null });
  });

  it('does not follow redirects and keeps only the first 2 KB of an answer', async () => {
    const endpoint = await createEndpoint('/redirect');
    receiver.script('/redirect', [
      { status: 302, headers: { location: receiver.url('/redirect-target') } },
      { status: 200, body: 'x'.repeat(1_000_000) },
    ]);
    await call('POST', `/api/v1/webhooks/${endpoint.id}/test`);
    const [delivery] = await settled(endpoint.id);
    expect(receiver.at('/redirect-target')).toHaveLength(0);
    const log = (await call('GET', `/api/v1/webhooks/deliveries/${delivery!.id}`)).json().attempt_log;
    expect(log[0].status_code).toBe(302);
    expect(log[1].status_code).toBe(200);
    expect(log[1].response_snippet).toHaveLength(2048);
  });

  it('signs with both secrets for a day after a rotation, and adds the legacy header when asked', async () => {
    const endpoint = await createEndpoint('/rotated', { legacy_signature: true });
    const rotated = (await call('POST', `/api/v1/webhooks/${endpoint.id}/rotate-secret`)).json();
    expect(rotated.secret).not.toBe(endpoint.secret);
    expect(rotated.previous_secret_active_until).toBeTruthy();
    receiver.expect('/rotated', rotated.secret);
    await call('POST', `/api/v1/webhooks/${endpoint.id}/test`);
    const [got] = await waitFor(() => (receiver.at('/rotated').length > 0 ? receiver.at('/rotated') : null));
    expect(got!.verifyError).toBeNull();
    expect(String(got!.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(() => new Webhook(endpoint.secret).verify(got!.body, got!.headers as Record<string, string>)).not.toThrow();
    expect(got!.headers['x-subscribeflow-signature']).toBe(`sha256=${createHmac('sha256', rotated.secret).update(got!.body).digest('hex')}`);
  });

  it('replays every event of a window the endpoint subscribes to', async () => {
    const start = new Date(Date.now() - 1000);
    for (const email of ['replay1@example.com', 'replay2@example.com']) await call('POST', '/api/v1/subscribers', { email });
    await relay();
    const endpoint = await createEndpoint('/replayed', { events: ['subscriber.created'] });
    const res = await call('POST', `/api/v1/webhooks/${endpoint.id}/replay`, { from: start.toISOString(), to: new Date(Date.now() + 1000).toISOString() });
    expect(res.statusCode).toBe(202);
    expect(res.json().deliveries).toBe(2);
    const got = await waitFor(() => (receiver.at('/replayed').length >= 2 ? receiver.at('/replayed') : null));
    expect(got.map((r) => (r.event!.data as { subscriber: { email: string } }).subscriber.email).sort()).toEqual([
      'replay1@example.com',
      'replay2@example.com',
    ]);
    expect((await call('POST', `/api/v1/webhooks/${endpoint.id}/replay`, { from: start.toISOString(), to: start.toISOString() })).statusCode).toBe(422);
  });

  it('filters the delivery log by status and event type', async () => {
    const endpoint = await createEndpoint('/log');
    receiver.script('/log', [{ status: 410 }]);
    await call('POST', `/api/v1/webhooks/${endpoint.id}/test`);
    await settled(endpoint.id);
    expect(await deliveries(endpoint.id, '?status=dead')).toHaveLength(1);
    expect(await deliveries(endpoint.id, '?status=succeeded')).toHaveLength(0);
    expect(await deliveries(endpoint.id, '?event_type=webhook.test')).toHaveLength(1);
    expect(await deliveries(endpoint.id, '?event_type=email.sent')).toHaveLength(0);
  });
});

describe('the SSRF guard', () => {
  it('refuses internal addresses at create, whatever the allow-list does not name', async () => {
    const urls = [
      'http://10.0.0.1/hook',
      'http://172.16.5.4/hook',
      'http://192.168.0.1/hook',
      'http://127.0.0.2/hook',
      'http://169.254.169.254/latest/meta-data/',
      'http://100.64.0.1/hook',
      'http://[::1]/hook',
      'http://[fd00:ec2::254]/hook',
      'http://[fe80::1]/hook',
      'http://0.0.0.0/hook',
    ];
    const answers = await Promise.all(urls.map(async (url) => [url, (await call('POST', '/api/v1/webhooks', { url, events: ['*'] })).json().error?.code]));
    expect(answers.filter(([, code]) => code !== 'webhook_url_blocked')).toEqual([]);
    expect((await call('POST', '/api/v1/webhooks', { url: 'gopher://127.0.0.1/', events: ['*'] })).json().error.code).toBe('invalid_webhook_url');
    const endpoint = await createEndpoint('/ok');
    expect((await call('PATCH', `/api/v1/webhooks/${endpoint.id}`, { url: 'http://10.1.1.1/' })).json().error.code).toBe('webhook_url_blocked');
  });

  it('checks again at every delivery', async () => {
    const endpoint = await createEndpoint('/moved-inside');
    // As if the address had changed since the check at create (a rebinding name does this through DNS).
    await ctx.container.db
      .updateTable('webhook_endpoints')
      .set({ url: `http://127.0.0.2:${receiver.port}/moved-inside` })
      .where('id', '=', endpoint.id)
      .execute();
    await call('POST', `/api/v1/webhooks/${endpoint.id}/test`);
    const [delivery] = await settled(endpoint.id);
    expect(delivery!.status).toBe('dead');
    expect(delivery!.last_error).toMatch(/^refused: 127\.0\.0\.2 is an internal address/);
    expect(receiver.at('/moved-inside')).toHaveLength(0);
  });
});

describe('tenants and scopes', () => {
  it('keeps endpoints, deliveries and events of one organization from another', async () => {
    const endpoint = await createEndpoint('/tenant-a');
    await call('POST', `/api/v1/webhooks/${endpoint.id}/test`);
    const [delivery] = await settled(endpoint.id);
    const other = await ctx.createOrganization('Hooks B');
    const b = api(ctx, other.key);
    const otherEndpoint = await createEndpoint('/tenant-b', {}, b);
    for (const [method, url, body] of [
      ['GET', `/api/v1/webhooks/${endpoint.id}`],
      ['PATCH', `/api/v1/webhooks/${endpoint.id}`, { description: 'x' }],
      ['DELETE', `/api/v1/webhooks/${endpoint.id}`],
      ['POST', `/api/v1/webhooks/${endpoint.id}/test`],
      ['POST', `/api/v1/webhooks/${endpoint.id}/rotate-secret`],
      ['GET', `/api/v1/webhooks/${endpoint.id}/deliveries`],
      ['GET', `/api/v1/webhooks/deliveries/${delivery!.id}`],
      ['POST', `/api/v1/webhooks/deliveries/${delivery!.id}/retry`],
      ['POST', `/api/v1/webhooks/${endpoint.id}/replay`, { from: new Date(0).toISOString(), to: new Date().toISOString() }],
    ] as const) {
      expect((await b(method, url, body)).statusCode, `${method} ${url}`).toBe(404);
    }
    expect((await b('GET', '/api/v1/webhooks')).json().items.map((e: { id: string }) => e.id)).toEqual([otherEndpoint.id]);
    // A's events never reach B's endpoint.
    await call('POST', '/api/v1/subscribers', { email: 'only-a@example.com' });
    await relay();
    await waitFor(async () => (await deliveries(endpoint.id)).length >= 2);
    expect(receiver.at('/tenant-b')).toHaveLength(0);
  });

  it('lets webhooks:read list and read but not create, change or send', async () => {
    const endpoint = await createEndpoint('/scoped');
    const reader = api(ctx, (await ctx.createKey(organizationId, ['webhooks:read'])).key);
    expect((await reader('GET', '/api/v1/webhooks')).statusCode).toBe(200);
    expect((await reader('GET', `/api/v1/webhooks/${endpoint.id}/deliveries`)).statusCode).toBe(200);
    for (const [method, url, body] of [
      ['POST', '/api/v1/webhooks', { url: receiver.url('/nope'), events: ['*'] }],
      ['PATCH', `/api/v1/webhooks/${endpoint.id}`, { description: 'x' }],
      ['POST', `/api/v1/webhooks/${endpoint.id}/test`],
      ['POST', `/api/v1/webhooks/${endpoint.id}/rotate-secret`],
      ['DELETE', `/api/v1/webhooks/${endpoint.id}`],
    ] as const) {
      const res = await reader(method, url, body);
      expect(res.json().error?.code, `${method} ${url}`).toBe('insufficient_scope');
    }
    const unrelated = api(ctx, (await ctx.createKey(organizationId, ['subscribers:write'])).key);
    expect((await unrelated('GET', '/api/v1/webhooks')).json().error.code).toBe('insufficient_scope');
  });
});
