/**
 * The port every email leaves through. Adapters: the dev mailbox (default), Resend and SMTP. Only the
 * email module imports a provider SDK; everything else depends on this interface.
 */
export interface OutgoingEmail {
  from: string;
  to: string;
  subject: string;
  html: string;
  text: string;
  headers?: Record<string, string>;
  /** Provider tags, e.g. organization and message ids, echoed back in delivery events. */
  tags?: { name: string; value: string }[];
  /** The organization the email is sent for; null for system mail such as login links. */
  organizationId: string | null;
  /** Sent to the provider so a retried request never produces a second email. */
  idempotencyKey?: string;
}

export interface SendResult {
  providerMessageId: string;
}

export type ProviderName = 'dev' | 'resend' | 'smtp';

/** Most emails one batch call may carry (Resend's limit, kept for every adapter). */
export const MAX_BATCH_SIZE = 100;

export interface EmailProvider {
  readonly name: ProviderName;
  /** Sends one email. Throws ProviderError when the provider refuses or cannot be reached. */
  send(email: OutgoingEmail): Promise<SendResult>;
  /**
   * Sends up to MAX_BATCH_SIZE emails in one provider request (one request against the rate limit).
   * Results are in input order. The batch succeeds or fails as a whole; `idempotencyKey` covers it.
   */
  sendBatch(emails: OutgoingEmail[], options?: { idempotencyKey?: string }): Promise<SendResult[]>;
  /** Releases pooled connections. */
  close?(): Promise<void>;
}

/**
 * Why a provider call failed, in the terms the worker acts on:
 * - rate_limited: wait `retryAfterMs` and try again, without counting an attempt;
 * - quota_exceeded: the account's daily or monthly quota is used up; retrying soon cannot help;
 * - rejected: the provider refused this email (bad address, unverified sender…); never retry;
 * - unavailable: network error, timeout or 5xx; retry with backoff.
 */
export type ProviderErrorKind = 'rate_limited' | 'quota_exceeded' | 'rejected' | 'unavailable';

export class ProviderError extends Error {
  readonly kind: ProviderErrorKind;
  /** The provider's own error name, e.g. "validation_error", or an SMTP response code. */
  readonly code: string;
  readonly retryAfterMs: number | undefined;

  constructor(kind: ProviderErrorKind, code: string, message: string, options: { retryAfterMs?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'ProviderError';
    this.kind = kind;
    this.code = code;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * Sends a batch one email at a time, for adapters whose provider has no batch call. Each email without
 * its own idempotency key gets one derived from the batch's, so a retried batch repeats nothing.
 */
export async function sendEachInTurn(provider: Pick<EmailProvider, 'send'>, emails: OutgoingEmail[], batchKey?: string): Promise<SendResult[]> {
  if (emails.length > MAX_BATCH_SIZE) throw new RangeError(`a batch holds at most ${MAX_BATCH_SIZE} emails`);
  const results: SendResult[] = [];
  for (const [index, email] of emails.entries()) {
    const idempotencyKey = email.idempotencyKey ?? (batchKey ? `${batchKey}/${index}` : undefined);
    results.push(await provider.send({ ...email, ...(idempotencyKey ? { idempotencyKey } : {}) }));
  }
  return results;
}
