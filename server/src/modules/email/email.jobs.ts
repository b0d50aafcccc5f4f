import type { JobHandler } from '../../jobs/context.ts';
import { sha256Hex } from '../../lib/crypto.ts';
import type { JobProducer } from '../../jobs/producer.ts';
import type { BatchMessage, EmailRepository } from './email.repository.ts';
import { createBatcher } from './batcher.ts';
import { messageRef, REF_HEADER } from './message-ref.ts';
import { ProviderError, type EmailProvider, type OutgoingEmail, type SendResult } from './providers/provider.ts';

// A message still unsent this long after its last change has probably lost its job.
const SWEEP_AFTER_SECONDS = 120;
const SWEEP_BATCH = 1000;

/** Campaign emails wait behind transactional ones (no priority) in the one email queue and rate gate. */
export const CAMPAIGN_EMAIL_PRIORITY = 10;

/**
 * The provider idempotency key of a batch of campaign emails, from what names it: the campaign, the round
 * and the messages in it. A retried or re-found batch has the same key; no two batches share one.
 */
export function batchKeyFor(campaignId: string, round: number, messageIds: readonly string[]): string {
  return `campaign-batch/${campaignId}/${round}/${sha256Hex([...messageIds].sort().join(',')).slice(0, 32)}`;
}

/**
 * The provider idempotency key of a batch of automation emails: the content they are rendered from (one
 * per automation version and send step) and the messages in it. Stored on each message when the runner
 * inserts them, so every attempt and the sweep use the same key.
 */
export function automationBatchKeyFor(contentId: string, messageIds: readonly string[]): string {
  return `automation-batch/${contentId}/${sha256Hex([...messageIds].sort().join(',')).slice(0, 32)}`;
}

/** The batch job's name for a batch key (job ids stay short and free of separators). */
export const batchJobKey = (batchKey: string): string => sha256Hex(batchKey).slice(0, 32);

/** The provider's idempotency key of a message: the same for every attempt, never reused. */
export const idempotencyKeyFor = (messageId: string): string => `email-message/${messageId}`;

export interface SendMetrics {
  sent(provider: string): void;
  failed(provider: string, reason: string): void;
  rateLimited(provider: string): void;
}

/**
 * Sends one stored message. The database says whether it still needs sending (a repeated job finds it
 * sent and stops); the provider's idempotency key, derived from the message id, makes a retry after a
 * crash between the provider's acceptance and our update return the first result instead of sending
 * again. Rate limits put the job back without using an attempt; quota and rejections fail it for good.
 */
export function createSendEmailHandler(deps: { emailRepository: EmailRepository; provider: EmailProvider; metrics: SendMetrics }): JobHandler<'email.send'> {
  const { emailRepository: repo, provider, metrics } = deps;
  // The jobs running at the same moment read their messages and record their results together.
  const load = createBatcher(async (ids: string[]) => {
    const found = new Map((await repo.loadForSend(ids)).map((m) => [m.id, m]));
    return ids.map((id) => found.get(id));
  });
  const recordSent = createBatcher(async (sent: { id: string; providerMessageId: string; attempt: number }[]) => {
    await repo.markSent(provider.name, sent);
    return sent.map(() => undefined);
  });
  return async ({ message_id: id }, context) => {
    const message = await load(id);
    if (!message) return 'already_done';
    if (message.blocked) {
      await repo.markSuppressed(id);
      return 'suppressed';
    }
    if (message.stale && context.attempt > 1) {
      await repo.markFailed(id, 'delivery_unknown', 'An earlier attempt may have been accepted too long ago to retry safely', context.attempt);
      return 'stale';
    }
    let providerMessageId: string;
    try {
      ({ providerMessageId } = await provider.send({
        from: message.from_address,
        to: message.to_address,
        subject: message.subject,
        html: message.html,
        text: message.text,
        headers: { ...message.headers, [REF_HEADER]: messageRef(id) },
        organizationId: message.organization_id,
        idempotencyKey: idempotencyKeyFor(id),
        tags: [
          { name: 'organization_id', value: message.organization_id },
          { name: 'message_id', value: id },
        ],
      }));
    } catch (error) {
      if (!(error instanceof ProviderError)) throw error;
      if (error.kind === 'rate_limited') {
        metrics.rateLimited(provider.name);
        return context.rateLimited(error.retryAfterMs ?? 1000);
      }
      if (error.kind === 'unavailable' && !context.lastAttempt) {
        await repo.recordAttemptError(id, `provider_${error.code}`, error.message, context.attempt);
        throw error;
      }
      await repo.markFailed(id, error.kind === 'quota_exceeded' ? 'provider_quota_exceeded' : `provider_${error.code}`, error.message, context.attempt);
      metrics.failed(provider.name, error.kind);
      throw context.unrecoverable(`${error.kind}: ${error.message}`);
    }
    await recordSent({ id, providerMessageId, attempt: context.attempt });
    metrics.sent(provider.name);
    return 'sent';
  };
}

/**
 * Re-enqueues messages still unsent long after their last change: their job was lost (Redis down at
 * commit) or failed for good without recording why (the database was down). Jobs still waiting or
 * running keep their deterministic id, so they are left alone.
 */
export function createEmailSweepHandler(deps: { emailRepository: EmailRepository; producer: JobProducer }): JobHandler<'email.sweep'> {
  return async () => {
    const ids = await deps.emailRepository.unsentIds(SWEEP_AFTER_SECONDS, SWEEP_BATCH);
    const { retried } = await deps.producer.requeue(ids.map((id) => ({ name: 'email.send' as const, payload: { message_id: id } })));
    // A batch is found as a whole and sent again as the same batch (same job id, same provider key).
    const batches = await deps.emailRepository.unsentBatches(SWEEP_AFTER_SECONDS, SWEEP_BATCH / 10);
    const batchesRequeued = await deps.producer.requeue(
      batches.map((b) => ({
        name: 'email.send-batch' as const,
        payload: { batch: batchJobKey(b.batch_key), message_ids: b.ids },
        priority: CAMPAIGN_EMAIL_PRIORITY,
      })),
    );
    return { enqueued: ids.length, retried: retried + batchesRequeued.retried, batches: batches.length };
  };
}

/**
 * Sends one batch of campaign emails (≤ 100, claimed together by the campaign). The messages are taken
 * for the attempt in one transaction (recipients blocked since the claim are skipped then; the rest are
 * marked `sending` and stay in the batch for every later attempt), their bodies rendered now, and:
 * - with Resend, all go in ONE batch request under the batch's idempotency key (stored on each message
 *   when it was claimed), so a retried batch repeats the same request and the provider answers it with
 *   the first result instead of sending again; the per-message provider ids of the answer are recorded;
 * - with SMTP and the dev mailbox, one request per message under the message's own key.
 * A batch is one request for the rate gate; 429 puts the job back for Retry-After without an attempt.
 */
export function createSendBatchHandler(deps: {
  emailRepository: EmailRepository;
  provider: EmailProvider;
  metrics: SendMetrics;
  bodyOf: (message: BatchMessage) => Promise<{ html: string; text: string }>;
  /** Batches one process takes, renders and sends at once (CAMPAIGN_BATCH_CONCURRENCY); the others wait. */
  concurrency?: number;
}): JobHandler<'email.send-batch'> {
  const { emailRepository: repo, provider, metrics } = deps;
  const permits = createPermits(deps.concurrency ?? Number.POSITIVE_INFINITY);

  const outgoing = async (message: BatchMessage): Promise<OutgoingEmail> => {
    const body = await deps.bodyOf(message);
    return {
      from: message.from_address,
      to: message.to_address,
      subject: message.subject,
      html: body.html,
      text: body.text,
      headers: { ...message.headers, [REF_HEADER]: messageRef(message.id) },
      organizationId: message.organization_id,
      tags: [
        { name: 'organization_id', value: message.organization_id },
        { name: 'message_id', value: message.id },
      ],
    };
  };

  /** What a provider error means for the messages it covered; returns the job's outcome or throws. */
  async function failure(error: unknown, ids: string[], context: Parameters<JobHandler<'email.send-batch'>>[1]): Promise<never> {
    if (!(error instanceof ProviderError)) throw error;
    if (error.kind === 'rate_limited') {
      metrics.rateLimited(provider.name);
      // Our own gate had no slot in time, or the provider answered this batch 429: the batch comes back
      // after Retry-After (no attempt used, same key). The queue stays open, so transactional mail and the
      // other batches keep the gate's pace; the refused request kept its slot in the gate, so the count of
      // requests per second stays exact.
      return context.postpone(error.retryAfterMs ?? 1000);
    }
    if (error.kind === 'unavailable' && !context.lastAttempt) {
      await repo.recordAttemptErrorMany(ids, `provider_${error.code}`, error.message, context.attempt);
      throw error;
    }
    // The key was used for a request whose content differed (a recipient's data changed between attempts):
    // an earlier attempt was accepted, so the emails may have gone out. Never risk a second copy.
    const code =
      error.code === 'invalid_idempotent_request' ? 'delivery_unknown' : error.kind === 'quota_exceeded' ? 'provider_quota_exceeded' : `provider_${error.code}`;
    await repo.markFailedMany(ids, code, error.message, context.attempt);
    for (const _ of ids) metrics.failed(provider.name, error.kind);
    throw context.unrecoverable(`${error.kind}: ${error.message}`);
  }

  return async (payload, context) => {
    // Each batch holds its rendered emails (and the request built from them) until the provider answers:
    // a few at a time keep the process's memory, and the garbage collector's work, bounded.
    if (!(await permits.acquire(context.signal))) return context.giveBack();
    try {
      return await sendBatch(payload, context);
    } finally {
      permits.release();
    }
  };

  async function sendBatch({ message_ids: ids }: { message_ids: string[] }, context: Parameters<JobHandler<'email.send-batch'>>[1]) {
    const { messages } = await repo.takeBatch(ids, context.attempt);
    if (messages.length === 0) return 'already_done';
    const stale = messages.filter((m) => m.stale).map((m) => m.id);
    if (stale.length > 0) {
      await repo.markFailedMany(stale, 'delivery_unknown', 'An earlier attempt may have been accepted too long ago to retry safely', context.attempt);
      if (stale.length === messages.length) return 'stale';
    }
    const batch = messages.filter((m) => !m.stale);
    const emails = await Promise.all(batch.map(outgoing));

    if (provider.name === 'resend') {
      const key = batch[0]!.batch_key;
      let results: SendResult[];
      try {
        results = await provider.sendBatch(emails, key ? { idempotencyKey: key } : {});
      } catch (error) {
        return failure(
          error,
          batch.map((m) => m.id),
          context,
        );
      }
      await repo.markSent(
        provider.name,
        batch.map((m, index) => ({ id: m.id, providerMessageId: results[index]!.providerMessageId, attempt: context.attempt })),
      );
      for (const _ of batch) metrics.sent(provider.name);
      return { sent: batch.length };
    }

    // One request per message, each under its own key; what went out is recorded even when a later one fails.
    const sent: { id: string; providerMessageId: string; attempt: number }[] = [];
    try {
      for (const [index, message] of batch.entries()) {
        try {
          const { providerMessageId } = await provider.send({ ...emails[index]!, idempotencyKey: idempotencyKeyFor(message.id) });
          sent.push({ id: message.id, providerMessageId, attempt: context.attempt });
          metrics.sent(provider.name);
        } catch (error) {
          // A refusal of one address fails that email only.
          if (!(error instanceof ProviderError) || error.kind !== 'rejected') throw error;
          await repo.markFailed(message.id, `provider_${error.code}`, error.message, context.attempt);
          metrics.failed(provider.name, error.kind);
        }
      }
    } catch (error) {
      if (sent.length > 0) await repo.markSent(provider.name, sent);
      const done = new Set(sent.map((s) => s.id));
      return failure(
        error,
        batch.filter((m) => !done.has(m.id)).map((m) => m.id),
        context,
      );
    }
    if (sent.length > 0) await repo.markSent(provider.name, sent);
    return { sent: sent.length };
  }
}

/**
 * At most `max` holders at once; the others wait in order. `acquire` answers false when the signal is
 * aborted while waiting (the job goes back to the queue untouched).
 */
export function createPermits(max: number) {
  let held = 0;
  const waiting: (() => void)[] = [];
  return {
    async acquire(signal: AbortSignal): Promise<boolean> {
      if (signal.aborted) return false;
      if (held < max) {
        held += 1;
        return true;
      }
      return new Promise<boolean>((resolve) => {
        const grant = () => {
          signal.removeEventListener('abort', abort);
          held += 1;
          resolve(true);
        };
        const abort = () => {
          waiting.splice(waiting.indexOf(grant), 1);
          resolve(false);
        };
        waiting.push(grant);
        signal.addEventListener('abort', abort, { once: true });
      });
    },
    release(): void {
      held -= 1;
      waiting.shift()?.();
    },
    /** Holders and waiters now (for tests and metrics). */
    state: () => ({ held, waiting: waiting.length }),
  };
}
