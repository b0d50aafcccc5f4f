import type { JobHandler } from '../../jobs/context.ts';
import type { JobProducer } from '../../jobs/producer.ts';
import type { EmailRepository } from './email.repository.ts';
import { createBatcher } from './batcher.ts';
import { messageRef, REF_HEADER } from './message-ref.ts';
import { ProviderError, type EmailProvider } from './providers/provider.ts';

// A message still unsent this long after its last change has probably lost its job.
const SWEEP_AFTER_SECONDS = 120;
const SWEEP_BATCH = 1000;

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
    return { enqueued: ids.length, retried };
  };
}
