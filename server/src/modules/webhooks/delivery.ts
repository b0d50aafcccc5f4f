import type { KeyObject } from 'node:crypto';
import type { JobHandler } from '../../jobs/context.ts';
import type { JobProducer } from '../../jobs/producer.ts';
import type { JobRequest } from '../../jobs/registry.ts';
import type { Logger } from '../../logger.ts';
import type { EventConsumer } from '../events/index.ts';
import type { EndpointGate } from './endpoint-gate.ts';
import type { Sender } from './sender.ts';
import { legacySignatureHeader, signatureHeader, signingKey, type SecretBox } from './signing.ts';
import type { AttemptOutcome, ClaimedBatchDelivery, ClaimedDelivery, SendingEndpoint, WebhookRepository } from './webhooks.repository.ts';

/** Parses WEBHOOKS_RETRY_DELAYS_SECONDS into milliseconds. */
export const parseRetryDelays = (value: string): number[] => value.split(',').map((s) => Math.round(Number(s) * 1000));

/** The delay before retry `n` (1-based), with up to 20% jitter so retries of many deliveries spread out. */
export function retryDelayMs(delays: readonly number[], failedAttempt: number, random = Math.random): number | null {
  const base = delays[failedAttempt - 1];
  return base === undefined ? null : Math.round(base * (1 + random() * 0.2));
}

/** The job of a delivery's next attempt. */
export const deliverJob = (delivery: { id: string; endpoint_id: string; attempts: number }, delayMs?: number): JobRequest => ({
  name: 'webhook.deliver',
  payload: { delivery_id: delivery.id, endpoint_id: delivery.endpoint_id, attempt: delivery.attempts + 1 },
  ...(delayMs ? { delayMs } : {}),
});

/** The body a receiver gets: the envelope of the reference system, `{ id, type, created_at, data }`. */
export function envelope(delivery: Pick<ClaimedDelivery, 'event_id' | 'event_type' | 'event_created_at' | 'payload'>): string {
  return JSON.stringify({
    id: delivery.event_id,
    type: delivery.event_type,
    created_at: new Date(delivery.event_created_at).toISOString(),
    data: delivery.payload,
  });
}

/** New deliveries to one endpoint handed to one job; one request each, within the endpoint's cap. */
export const BATCH_DELIVERIES = 100;
// A batch job goes on with its endpoint's further new deliveries this long, then leaves them to others.
const DRAIN_MS = 10_000;

/**
 * The outbox consumer: one delivery row per (event, subscribed endpoint) in the relay's transaction,
 * and one `webhook.deliver-batch` job per endpoint and up to BATCH_DELIVERIES of its new deliveries.
 */
export function createDeliveryConsumer(repository: WebhookRepository): EventConsumer {
  return {
    name: 'webhooks',
    async handle(trx, events) {
      const created = await repository.createDeliveriesForEvents(trx, events);
      const byEndpoint = new Map<string, string[]>();
      for (const row of created) {
        const ids = byEndpoint.get(row.endpoint_id) ?? [];
        ids.push(row.id);
        byEndpoint.set(row.endpoint_id, ids);
      }
      const jobs: JobRequest[] = [];
      for (const [endpointId, ids] of byEndpoint) {
        for (let i = 0; i < ids.length; i += BATCH_DELIVERIES) {
          jobs.push({ name: 'webhook.deliver-batch', payload: { endpoint_id: endpointId, delivery_ids: ids.slice(i, i + BATCH_DELIVERIES) } });
        }
      }
      return jobs;
    },
  };
}

interface DeliveryDeps {
  repository: WebhookRepository;
  sender: Sender;
  gate: EndpointGate;
  secrets: SecretBox;
  producer: JobProducer;
  logger: Logger;
  retryDelaysMs: readonly number[];
  disableAfterHours: number;
  /** Tells the organization's admins that an endpoint was disabled; failures are logged, not retried. */
  notifyDisabled: (organizationId: string, endpoint: { id: string; url: string }, reason: string) => Promise<void>;
  userAgent: string;
  /** Longer than an attempt can take (the timeout), so the sweep never starts a second one beside it. */
  leaseSeconds: number;
  /** WEBHOOKS_CONCURRENCY_PER_ENDPOINT: the most parallel requests one batch makes. */
  cap: number;
}

/**
 * Attempts of deliveries. The attempt is claimed in the database first (so a job run twice sends once),
 * the request is made with no transaction open, and the outcome is recorded with the endpoint's failure
 * state; a retry is enqueued after that commit with the next delay, and the sweep re-enqueues any retry
 * whose job was lost. 2xx succeeds, 410 disables the endpoint, anything else is retried until the
 * schedule runs out (dead). At most WEBHOOKS_CONCURRENCY_PER_ENDPOINT attempts per endpoint run at once,
 * across workers; a job that finds its endpoint's share full is postponed briefly.
 *
 * `webhook.deliver` is one attempt of one delivery (retries, tests, replays, the sweep);
 * `webhook.deliver-batch` is the first attempt of up to 100 new deliveries to one endpoint: one claim,
 * the requests in parallel within the slots it got, one transaction recording them all.
 */
export function createDeliveryHandlers(deps: DeliveryDeps): {
  'webhook.deliver': JobHandler<'webhook.deliver'>;
  'webhook.deliver-batch': JobHandler<'webhook.deliver-batch'>;
} {
  const { repository, gate } = deps;

  const single: JobHandler<'webhook.deliver'> = async ({ delivery_id: deliveryId, endpoint_id: endpointId, attempt }, context) => {
    // The endpoint's share is full: try again shortly, without spending an attempt.
    if (!(await gate.acquire(endpointId, context.jobId))) return context.postpone(200 + Math.floor(Math.random() * 300));
    try {
      const delivery = await repository.claimAttempt(deliveryId, attempt, deps.leaseSeconds);
      if (!delivery) return { skipped: true };
      if (!delivery.enabled) {
        await repository.markUndeliverable(delivery.id, 'The endpoint is disabled');
        return { skipped: true };
      }
      const endpoint = { ...delivery, id: delivery.endpoint_id };
      const results = await sendMany(endpoint, [delivery], 1);
      await record(endpoint, results);
      const [result] = results;
      return { status: result!.outcome.status, status_code: result!.outcome.statusCode, duration_ms: result!.outcome.durationMs };
    } finally {
      await gate.release(endpointId, context.jobId);
    }
  };

  const batch: JobHandler<'webhook.deliver-batch'> = async ({ endpoint_id: endpointId, delivery_ids: deliveryIds }, context) => {
    // Taken meanwhile by the job that drains the endpoint: nothing left to do.
    if (!(await repository.anyUnclaimed(deliveryIds))) return { sent: 0 };
    const taken = await gate.acquireMany(endpointId, context.jobId, Math.min(deliveryIds.length, deps.cap));
    // Another job holds the endpoint's share and drains its new deliveries, most likely these too; look
    // again in a while (many jobs retrying at once would only keep the worker busy).
    if (taken === 0) return context.postpone(1000 + Math.floor(Math.random() * 1000));
    const deadline = Date.now() + DRAIN_MS;
    let sent = 0;
    let recording: Promise<{ disabled: boolean }> | null = null;
    try {
      let [claimed, endpoint] = await Promise.all([
        repository.claimFirstAttempts(endpointId, deliveryIds, deps.leaseSeconds),
        repository.endpointForSending(endpointId),
      ]);
      while (claimed.length > 0 && endpoint) {
        if (!endpoint.enabled) {
          await repository.markUndeliverable(
            claimed.map((d) => d.id),
            'The endpoint is disabled',
          );
          break;
        }
        // Drain: while this batch goes out, the endpoint's next new deliveries (other jobs' batches still
        // waiting for a slot) are claimed and the endpoint read again; the previous batch is recorded
        // meanwhile. Those other jobs then find nothing left to claim.
        const ahead =
          Date.now() < deadline && !context.signal.aborted
            ? Promise.all([repository.claimNextFirstAttempts(endpointId, BATCH_DELIVERIES, deps.leaseSeconds), repository.endpointForSending(endpointId)])
            : null;
        ahead?.catch(() => undefined);
        const results = await sendMany(endpoint, claimed, taken);
        sent += results.length;
        const disabled = recording ? (await recording).disabled : false;
        recording = record(endpoint, results);
        recording.catch(() => undefined);
        const [next, nextEndpoint] = ahead ? await ahead : [[], endpoint];
        if (disabled || context.signal.aborted) {
          // Claimed ahead but not sent: back to waiting, for the next job or the sweep.
          await repository.unclaimFirstAttempts(next.map((d) => d.id));
          break;
        }
        claimed = next;
        endpoint = nextEndpoint;
      }
      if (recording) await recording;
      return { sent };
    } finally {
      await gate.releaseMany(endpointId, context.jobId, taken);
    }
  };

  /** Sends claimed deliveries of one endpoint, `lanes` at a time. */
  async function sendMany(endpoint: SendingEndpoint, deliveries: readonly ClaimedBatchDelivery[], lanes: number) {
    const secrets = [deps.secrets.open(endpoint.secret_encrypted)];
    if (endpoint.previous_secret_encrypted && endpoint.previous_secret_expires_at && endpoint.previous_secret_expires_at > new Date()) {
      secrets.push(deps.secrets.open(endpoint.previous_secret_encrypted));
    }
    const keys = secrets.map(signingKey);
    const results: { delivery: ClaimedBatchDelivery; outcome: AttemptOutcome }[] = [];
    let next = 0;
    async function lane(): Promise<void> {
      while (next < deliveries.length) {
        const delivery = deliveries[next]!;
        next += 1;
        results.push({ delivery, outcome: await attempt(endpoint, secrets, keys, delivery) });
      }
    }
    await Promise.all(Array.from({ length: Math.max(1, Math.min(lanes, deliveries.length)) }, lane));
    return results;
  }

  /** Records the outcomes at once, enqueues the retries, and tells the admins when the endpoint got disabled. */
  async function record(endpoint: SendingEndpoint, results: readonly { delivery: ClaimedBatchDelivery; outcome: AttemptOutcome }[]) {
    const { disabledReason } = await repository.recordAttempts(endpoint.id, results, deps.disableAfterHours);
    const retries = results
      .filter((r) => r.outcome.nextAttemptAt !== null)
      .map((r) => deliverJob(r.delivery, Math.max(0, r.outcome.nextAttemptAt!.getTime() - Date.now())));
    if (retries.length > 0) await deps.producer.enqueueMany(retries);
    if (disabledReason) {
      deps.logger.warn({ endpoint_id: endpoint.id, organization_id: endpoint.organization_id }, 'webhook endpoint disabled');
      await deps
        .notifyDisabled(endpoint.organization_id, { id: endpoint.id, url: endpoint.url }, disabledReason)
        .catch((error: unknown) => deps.logger.error({ err: error, endpoint_id: endpoint.id }, 'could not send the endpoint-disabled notice'));
    }
    return { disabled: disabledReason !== null };
  }

  /** One signed request and what it means for the delivery (the attempt number is already claimed). */
  async function attempt(
    endpoint: SendingEndpoint,
    secrets: readonly string[],
    keys: readonly KeyObject[],
    delivery: ClaimedBatchDelivery,
  ): Promise<AttemptOutcome> {
    const body = envelope(delivery);
    const timestamp = Math.floor(Date.now() / 1000);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': deps.userAgent,
      'webhook-id': delivery.event_id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signatureHeader(keys, delivery.event_id, timestamp, body),
    };
    if (endpoint.legacy_signature) headers['x-subscribeflow-signature'] = legacySignatureHeader(secrets[0]!, body);
    const result = await deps.sender.send(endpoint.url, headers, body);
    const ok = result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;
    const gone = result.statusCode === 410;
    const delayMs = ok || gone ? null : retryDelayMs(deps.retryDelaysMs, delivery.attempts);
    return {
      status: ok ? 'succeeded' : delayMs === null ? 'dead' : 'failed',
      nextAttemptAt: delayMs === null ? null : new Date(Date.now() + delayMs),
      gone,
      requestHeaders: headers,
      statusCode: result.statusCode,
      responseSnippet: result.responseSnippet,
      durationMs: result.durationMs,
      error: result.error ?? (ok ? null : `HTTP ${result.statusCode}`),
    };
  }

  return { 'webhook.deliver': single, 'webhook.deliver-batch': batch };
}

const SWEEP_BATCH = 1000;

/**
 * Finds deliveries due for an attempt and enqueues their next attempt. The job id is the delivery and
 * attempt, so a job still waiting makes this a no-op; it matters only when a job was lost (Redis down
 * when the relay or a failed attempt enqueued it).
 */
export function createSweepHandler(deps: { repository: WebhookRepository; producer: JobProducer }): JobHandler<'webhooks.sweep'> {
  return async () => {
    const due = await deps.repository.dueDeliveries(SWEEP_BATCH);
    if (due.length > 0) await deps.producer.requeue(due.map((row) => deliverJob(row)));
    return { due: due.length };
  };
}
