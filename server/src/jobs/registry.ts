import type { JobsOptions } from 'bullmq';
import { Type, type Static, type TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { REQUEST_ID } from '../lib/log-context.ts';

/**
 * The one registry of background jobs: each job's queue, payload schema, default options and
 * deterministic job id. Payloads carry ids and period names only, never secrets or message bodies (Redis
 * stores them in clear text). A job id derived from the payload makes enqueueing idempotent: adding a job
 * whose id exists (waiting, active, or kept after completion) is a no-op, so two cron processes or a
 * retried API request cannot double the work. Handlers are idempotent anyway.
 */
export const QUEUE_NAMES = ['email', 'webhook', 'sync', 'maintenance'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

const Id = Type.String({ format: 'uuid', pattern: '^[0-9a-f-]{36}$' });
// A cron tick, period or day; no ':' because BullMQ job ids cannot contain one.
const Tick = Type.String({ pattern: '^[0-9TZ-]{7,20}$' });

interface JobDefinition<S extends TSchema> {
  queue: QueueName;
  payload: S;
  jobId: (payload: Static<S>) => string;
  options: JobsOptions;
}

const define = <S extends TSchema>(definition: JobDefinition<S>) => definition;

// Completed jobs are kept an hour so a duplicate enqueue within that time is recognized by id.
const KEEP = { removeOnComplete: { age: 3600, count: 10_000 }, removeOnFail: { age: 7 * 86_400, count: 10_000 } } as const;

export const JOBS = {
  /** Sends one email_messages row through the provider (email queue: the provider's rate limit applies). */
  'email.send': define({
    queue: 'email',
    payload: Type.Object({ message_id: Id }),
    jobId: (p) => `email-send-${p.message_id}`,
    options: { ...KEEP, attempts: 8, backoff: { type: 'exponential', delay: 5000, jitter: 0.2 } },
  }),
  /**
   * Sends one batch of up to 100 campaign emails (email queue: the provider's rate limit applies; one
   * provider request with Resend). `batch` names the batch (from its idempotency key), so the sweep that
   * finds a lost batch again enqueues the same job.
   */
  'email.send-batch': define({
    queue: 'email',
    payload: Type.Object({ batch: Type.String({ pattern: '^[0-9a-f]{32}$' }), message_ids: Type.Array(Id, { minItems: 1, maxItems: 100 }) }),
    jobId: (p) => `email-batch-${p.batch}`,
    options: { ...KEEP, attempts: 8, backoff: { type: 'exponential', delay: 5000, jitter: 0.2 } },
  }),
  /** Asks the provider for a sending domain's verification state (one provider request: email queue). */
  'domain.check': define({
    queue: 'email',
    payload: Type.Object({ domain_id: Id, tick: Tick }),
    jobId: (p) => `domain-check-${p.domain_id}-${p.tick}`,
    options: { ...KEEP, attempts: 3, backoff: { type: 'exponential', delay: 30_000 } },
  }),
  /** Freezes a due campaign's audience into its ledger (one insert-select) and starts its pump. */
  'campaign.start': define({
    queue: 'sync',
    payload: Type.Object({ campaign_id: Id, tick: Tick }),
    jobId: (p) => `campaign-start-${p.campaign_id}-${p.tick}`,
    options: { ...KEEP, attempts: 5, backoff: { type: 'exponential', delay: 5000 } },
  }),
  /**
   * Turns a sending campaign's queued recipients into email.send jobs, batch by batch, for a while, then
   * hands over to its next step. `round` changes on resume and retry, which stops older pumps.
   */
  'campaign.pump': define({
    queue: 'sync',
    payload: Type.Object({ campaign_id: Id, round: Type.Integer({ minimum: 0, maximum: 1_000_000 }), step: Type.String({ pattern: '^[0-9A-Za-z_-]{1,40}$' }) }),
    jobId: (p) => `campaign-pump-${p.campaign_id}-${p.round}-${p.step}`,
    options: { ...KEEP, attempts: 10, backoff: { type: 'exponential', delay: 2000 } },
  }),
  /** Chooses an A/B test's winner by its metric once the test's wait is over, and sends it to the rest. */
  'campaign.ab-decide': define({
    queue: 'sync',
    payload: Type.Object({ campaign_id: Id, tick: Tick }),
    jobId: (p) => `campaign-ab-decide-${p.campaign_id}-${p.tick}`,
    options: { ...KEEP, attempts: 5, backoff: { type: 'exponential', delay: 5000 } },
  }),
  /** Starts due scheduled campaigns and restarts the pump of a sending campaign that stopped beating. */
  'campaigns.tick': define({
    queue: 'maintenance',
    payload: Type.Object({ tick: Tick }),
    jobId: (p) => `campaigns-tick-${p.tick}`,
    options: { ...KEEP, attempts: 3, backoff: { type: 'exponential', delay: 5000 } },
  }),
  /** Hands outbox events not yet relayed to their consumers and marks them relayed. */
  'events.relay': define({
    queue: 'webhook',
    payload: Type.Object({ tick: Tick }),
    jobId: (p) => `events-relay-${p.tick}`,
    options: { ...KEEP, attempts: 3, backoff: { type: 'exponential', delay: 5000 } },
  }),
  /** One attempt of one webhook delivery; the id names the attempt, so retries are jobs of their own. */
  'webhook.deliver': define({
    queue: 'webhook',
    payload: Type.Object({ delivery_id: Id, endpoint_id: Id, attempt: Type.Integer({ minimum: 1, maximum: 1000 }) }),
    jobId: (p) => `webhook-deliver-${p.delivery_id}-${p.attempt}`,
    // Retries with their schedule are the handler's own (each a new job); these cover a crash or the database.
    options: { ...KEEP, attempts: 3, backoff: { type: 'exponential', delay: 5000 } },
  }),
  /**
   * The first attempt of up to 100 new deliveries to one endpoint, as the relay made them: claimed in one
   * statement, sent over the endpoint's kept-alive connections within its concurrency cap, recorded in
   * one transaction. Retries are `webhook.deliver` jobs of their own. The id is the batch's first delivery.
   */
  'webhook.deliver-batch': define({
    queue: 'webhook',
    payload: Type.Object({ endpoint_id: Id, delivery_ids: Type.Array(Id, { minItems: 1, maxItems: 100 }) }),
    jobId: (p) => `webhook-batch-${p.delivery_ids[0]}`,
    options: { ...KEEP, attempts: 3, backoff: { type: 'exponential', delay: 5000 } },
  }),
  /**
   * Runs the automation steps that are due, in batches (FOR UPDATE SKIP LOCKED), until none is left.
   * Enqueued by cron every minute (the sweep: due steps are found in PostgreSQL whatever Redis lost) and
   * by the outbox relay when subscribers entered an automation.
   */
  'automations.run': define({
    queue: 'sync',
    payload: Type.Object({ tick: Type.String({ pattern: '^[0-9A-Za-z_-]{1,60}$' }) }),
    jobId: (p) => `automations-run-${p.tick}`,
    options: { ...KEEP, attempts: 5, backoff: { type: 'exponential', delay: 5000 } },
  }),
  /** Re-enqueues webhook deliveries that are due but whose job was lost. */
  'webhooks.sweep': define({
    queue: 'webhook',
    payload: Type.Object({ tick: Tick }),
    jobId: (p) => `webhooks-sweep-${p.tick}`,
    options: { ...KEEP, attempts: 3, backoff: { type: 'exponential', delay: 10_000 } },
  }),
  /**
   * One round of the optional Resend contact sync: missing topics, then up to 50 waiting subscriber
   * changes from the contact outbox (provider requests: email queue, through the rate gate). Enqueued by
   * the event relay when changes arrive, by itself while some remain, and by cron as a sweep.
   */
  'resend.sync': define({
    queue: 'email',
    payload: Type.Object({ tick: Type.String({ pattern: '^[0-9A-Za-z_-]{1,60}$' }) }),
    jobId: (p) => `resend-sync-${p.tick}`,
    options: { ...KEEP, attempts: 8, backoff: { type: 'exponential', delay: 10_000, jitter: 0.2 } },
  }),
  /** Finds sending domains awaiting verification and enqueues a check for each. */
  'domains.poll': define({
    queue: 'sync',
    payload: Type.Object({ tick: Tick }),
    jobId: (p) => `domains-poll-${p.tick}`,
    options: { ...KEEP, attempts: 3, backoff: { type: 'exponential', delay: 30_000 } },
  }),
  /**
   * Runs one CSV import (or its dry run) from the stored file. The run is applied in one transaction,
   * so a retry after a killed worker starts again from the file and cannot apply anything twice.
   */
  /**
   * Applies one received Stripe event: re-reads the subscription from Stripe and writes its current state,
   * so events delivered twice or out of order end in the same place.
   */
  'billing.sync': define({
    queue: 'sync',
    payload: Type.Object({ event_id: Type.String({ pattern: '^evt_[A-Za-z0-9_]{1,200}$' }) }),
    jobId: (p) => `billing-sync-${p.event_id}`,
    options: { ...KEEP, attempts: 8, backoff: { type: 'exponential', delay: 5000, jitter: 0.2 } },
  }),
  'import.process': define({
    queue: 'sync',
    payload: Type.Object({ import_id: Id, dry_run: Type.Boolean() }),
    jobId: (p) => `import-${p.import_id}-${p.dry_run ? 'dry' : 'run'}`,
    options: { ...KEEP, attempts: 3, backoff: { type: 'exponential', delay: 5000 } },
  }),
  /**
   * Applies one "all N matching" bulk action to the subscribers matching its stored filter, chunk by
   * chunk; each chunk commits with its progress, so a retry continues after the last finished chunk.
   */
  'subscribers.bulk-action': define({
    queue: 'sync',
    payload: Type.Object({ bulk_action_id: Id }),
    jobId: (p) => `subscribers-bulk-action-${p.bulk_action_id}`,
    options: { ...KEEP, attempts: 5, backoff: { type: 'exponential', delay: 5000 } },
  }),
  /** Re-enqueues messages that stayed queued because their job was lost (Redis down at commit). */
  'email.sweep': define({
    queue: 'maintenance',
    payload: Type.Object({ tick: Tick }),
    jobId: (p) => `email-sweep-${p.tick}`,
    options: { ...KEEP, attempts: 3, backoff: { type: 'exponential', delay: 10_000 } },
  }),
  /** Sets stored usage back to 0 for every organization still counting an earlier usage period (run monthly). */
  'usage.reset': define({
    queue: 'maintenance',
    payload: Type.Object({ period: Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-01$' }) }),
    jobId: (p) => `usage-reset-${p.period}`,
    options: { removeOnComplete: { age: 40 * 86_400 }, removeOnFail: { age: 40 * 86_400 }, attempts: 10, backoff: { type: 'exponential', delay: 10_000 } },
  }),
  /** Emails owners at 80 % and 100 % of the email quota or subscriber limit, once per usage period, limit and threshold. */
  'usage.notices': define({
    queue: 'maintenance',
    payload: Type.Object({ tick: Tick }),
    jobId: (p) => `usage-notices-${p.tick}`,
    options: { ...KEEP, attempts: 3, backoff: { type: 'exponential', delay: 10_000 } },
  }),
  /** Purges an organization its owner deleted: big tables in batches, then the row with its cascade. */
  'organization.purge': define({
    queue: 'maintenance',
    payload: Type.Object({ organization_id: Id }),
    jobId: (p) => `organization-purge-${p.organization_id}`,
    options: { ...KEEP, attempts: 10, backoff: { type: 'exponential', delay: 30_000 } },
  }),
  /** Finds organizations whose deletion was never finished and enqueues (or retries) their purge. */
  'organizations.purge-sweep': define({
    queue: 'maintenance',
    payload: Type.Object({ tick: Tick }),
    jobId: (p) => `organizations-purge-sweep-${p.tick}`,
    options: { ...KEEP, attempts: 3, backoff: { type: 'exponential', delay: 60_000 } },
  }),
  /** Folds the audience counters' difference rows into one row per key (segments/README.md, "Counters"). */
  'audience-counts.compact': define({
    queue: 'maintenance',
    payload: Type.Object({ tick: Tick }),
    jobId: (p) => `audience-counts-compact-${p.tick}`,
    options: { ...KEEP, attempts: 3, backoff: { type: 'exponential', delay: 10_000 } },
  }),
  /** Recounts the audience counters from the tables in one snapshot and repairs any key that is off. */
  'audience-counts.verify': define({
    queue: 'maintenance',
    payload: Type.Object({ tick: Tick }),
    jobId: (p) => `audience-counts-verify-${p.tick}`,
    options: { ...KEEP, attempts: 3, backoff: { type: 'exponential', delay: 60_000 } },
  }),
  /** Deletes expired tokens, old dev-mailbox messages, relayed events and other data past retention. */
  'retention.cleanup': define({
    queue: 'maintenance',
    payload: Type.Object({ day: Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' }) }),
    jobId: (p) => `retention-${p.day}`,
    options: { removeOnComplete: { age: 2 * 86_400 }, removeOnFail: { age: 7 * 86_400 }, attempts: 5, backoff: { type: 'exponential', delay: 60_000 } },
  }),
} as const;

export type JobName = keyof typeof JOBS;
export type JobPayload<N extends JobName> = Static<(typeof JOBS)[N]['payload']>;
/** One job to enqueue: its name and payload, checked against each other at compile time. */
/** `priority` (1 = highest after jobs without one): bulk work such as campaign emails yields to the rest. */
export type JobRequest = { [N in JobName]: { name: N; payload: JobPayload<N>; delayMs?: number; priority?: number } }[JobName];

const checkers = Object.fromEntries(Object.entries(JOBS).map(([name, job]) => [name, Compile(job.payload)])) as Record<JobName, ReturnType<typeof Compile>>;

export const isJobName = (name: string): name is JobName => Object.hasOwn(JOBS, name);

/** Whether `payload` matches the job's schema; the producer and the worker both check. */
export function isValidPayload(name: JobName, payload: unknown): boolean {
  return checkers[name].Check(payload);
}

/**
 * What a job stores in Redis: its payload plus, beside it, the id of the request that caused it, so the
 * worker's log lines for the job can be matched with the request's. The id is not part of any payload
 * schema: handlers never see it, and it plays no part in the job id (an identical job from another
 * request is still the same job).
 */
export function toJobData(payload: object, requestId: string | undefined): object {
  return requestId !== undefined && REQUEST_ID.test(requestId) ? { ...payload, request_id: requestId } : payload;
}

/** The reverse of toJobData: the payload to check and hand to the handler, and the request id if any. */
export function fromJobData(data: unknown): { payload: unknown; requestId: string | undefined } {
  if (typeof data !== 'object' || data === null || !('request_id' in data)) return { payload: data, requestId: undefined };
  const { request_id: requestId, ...payload } = data as Record<string, unknown>;
  return { payload, requestId: typeof requestId === 'string' && REQUEST_ID.test(requestId) ? requestId : undefined };
}
