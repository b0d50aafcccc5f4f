import type { JobHandler } from '../../jobs/context.ts';
import type { JobProducer } from '../../jobs/producer.ts';
import type { JobRequest } from '../../jobs/registry.ts';
import type { Logger } from '../../logger.ts';
import type { EventConsumer } from '../events/index.ts';
import type { EndpointGate } from './endpoint-gate.ts';
import type { Sender } from './sender.ts';
import { legacySignatureHeader, signatureHeader, type SecretBox } from './signing.ts';
import type { ClaimedDelivery, WebhookRepository } from './webhooks.repository.ts';

/** Parses WEBHOOKS_RETRY_DELAYS_SECONDS into milliseconds. */
export const parseRetryDelays = (value: string): number[] => value.split(',').map((s) => Math.round(Number(s) * 1000));

/** The delay before retry `n` (1-based), with up to 20% jitter so retries of many deliveries spread out. */
export function retryDelayMs(delays: readonly number[], failedAttempt: number, random = Math.random): number | null {
  const base = delays[failedAttempt - 1];
  return base === undefined ? null : Math.round(base * (1 + random() * 0.2));
}

/** The job of a delivery's next attempt. */
export const deliverJob = (delivery: { id: string; endpoint_id: string; attempts: number }, delayMs?: number): JobRequest =>
  ({ name: 'webhook.deliver', payload: { delivery_id: delivery.id, endpoint_id: delivery.endpoint_id, attempt: delivery.attempts + 1 }, ...(delayMs ? { delayMs } : {}) });

/** The body a receiver gets: the envelope of the reference system, `{ id, type, created_at, data }`. */
export function envelope(delivery: Pick<ClaimedDelivery, 'event_id' | 'event_type' | 'event_created_at' | 'payload'>): string {
  return JSON.stringify({ id: delivery.event_id, type: delivery.event_type, created_at: new Date(delivery.event_created_at).toISOString(), data: delivery.payload });
}

/** The outbox consumer: one delivery row per (event, subscribed endpoint) in the relay's transaction. */
export function createDeliveryConsumer(repository: WebhookRepository): EventConsumer {
  return {
    name: 'webhooks',
    async handle(trx, events) {
      const created = await repository.createDeliveriesForEvents(trx, events);
      return created.map((row) => deliverJob({ ...row, attempts: 0 }));
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
}

/**
 * One attempt of one delivery. The attempt is claimed in the database first (so a job run twice sends
 * once), the request is made with no transaction open, and the outcome is recorded with the endpoint's
 * failure state; a retry is enqueued after that commit with the next delay, and the sweep re-enqueues
 * any retry whose job was lost. 2xx succeeds, 410 disables the endpoint, anything else is retried until
 * the schedule runs out (dead). At most WEBHOOKS_CONCURRENCY_PER_ENDPOINT attempts per endpoint run at
 * once; a job that finds its endpoint's share full is postponed briefly.
 */
export function createDeliveryHandler(deps: DeliveryDeps): JobHandler<'webhook.deliver'> {
  const { repository, gate } = deps;
  return async ({ delivery_id: deliveryId, endpoint_id: endpointId, attempt }, context) => {
    // The endpoint's share is full: try again shortly, without spending an attempt.
    if (!(await gate.acquire(endpointId, context.jobId))) return context.postpone(200 + Math.floor(Math.random() * 300));
    try {
      return await attemptDelivery(deliveryId, attempt);
    } finally {
      await gate.release(endpointId, context.jobId);
    }
  };

  async function attemptDelivery(deliveryId: string, attempt: number) {
    const delivery = await repository.claimAttempt(deliveryId, attempt, deps.leaseSeconds);
    if (!delivery) return { skipped: true };
    if (!delivery.enabled) {
      await repository.markUndeliverable(delivery.id, 'The endpoint is disabled');
      return { skipped: true };
    }
    const body = envelope(delivery);
    const timestamp = Math.floor(Date.now() / 1000);
    const current = deps.secrets.open(delivery.secret_encrypted);
    const signing = [current];
    if (delivery.previous_secret_encrypted && delivery.previous_secret_expires_at && delivery.previous_secret_expires_at > new Date()) {
      signing.push(deps.secrets.open(delivery.previous_secret_encrypted));
    }
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': deps.userAgent,
      'webhook-id': delivery.event_id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signatureHeader(signing, delivery.event_id, timestamp, body),
    };
    if (delivery.legacy_signature) headers['x-subscribeflow-signature'] = legacySignatureHeader(current, body);

    const result = await deps.sender.send(delivery.url, headers, body);
    const ok = result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;
    const gone = result.statusCode === 410;
    const delayMs = ok || gone ? null : retryDelayMs(deps.retryDelaysMs, attempt);
    const status = ok ? 'succeeded' : delayMs === null ? 'dead' : 'failed';
    const { disabledReason } = await repository.recordAttempt(delivery, {
      status, nextAttemptAt: delayMs === null ? null : new Date(Date.now() + delayMs), gone,
      requestHeaders: headers, statusCode: result.statusCode, responseSnippet: result.responseSnippet, durationMs: result.durationMs,
      error: result.error ?? (ok ? null : `HTTP ${result.statusCode}`),
    }, deps.disableAfterHours);
    if (delayMs !== null) await deps.producer.enqueueMany([deliverJob(delivery, delayMs)]);
    if (disabledReason) {
      deps.logger.warn({ endpoint_id: delivery.endpoint_id, organization_id: delivery.organization_id }, 'webhook endpoint disabled');
      await deps.notifyDisabled(delivery.organization_id, { id: delivery.endpoint_id, url: delivery.url }, disabledReason)
        .catch((error: unknown) => deps.logger.error({ err: error, endpoint_id: delivery.endpoint_id }, 'could not send the endpoint-disabled notice'));
    }
    return { status, status_code: result.statusCode, duration_ms: result.durationMs };
  }
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
