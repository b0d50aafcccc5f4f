import { Resend } from 'resend';
import { MAX_BATCH_SIZE, ProviderError, type EmailProvider, type OutgoingEmail } from './provider.ts';

/** What every Resend SDK call resolves to: the SDK never throws on an API error. */
interface ResendResponse<T> {
  data: T | null;
  error: { name: string; message: string; statusCode: number | null } | null;
  headers: Record<string, string> | null;
}

// The SDK sets no timeout of its own; a hung request would hold a job (and its rate-limit slot) forever.
const REQUEST_TIMEOUT_MS = 30_000;
export const requestSignal = (): AbortSignal => AbortSignal.timeout(REQUEST_TIMEOUT_MS);

const QUOTA_ERRORS = new Set(['daily_quota_exceeded', 'monthly_quota_exceeded']);
// Retrying these can succeed: the first request with the same idempotency key is still running.
const TRANSIENT_ERRORS = new Set(['concurrent_idempotent_requests', 'internal_server_error', 'application_error']);

/** Seconds from `retry-after`, else `ratelimit-reset`, else one second. */
function retryAfterMs(headers: Record<string, string> | null): number {
  for (const name of ['retry-after', 'ratelimit-reset']) {
    const seconds = Number(headers?.[name]);
    if (Number.isFinite(seconds) && seconds >= 0) return Math.max(Math.ceil(seconds * 1000), 100);
  }
  return 1000;
}

/** Turns a Resend error response into the worker's terms. */
export function toProviderError(response: ResendResponse<unknown>): ProviderError {
  const error = response.error!;
  const status = error.statusCode;
  if (QUOTA_ERRORS.has(error.name)) return new ProviderError('quota_exceeded', error.name, error.message);
  if (status === 429 || error.name === 'rate_limit_exceeded') {
    return new ProviderError('rate_limited', error.name, error.message, { retryAfterMs: retryAfterMs(response.headers) });
  }
  if (status === null || status >= 500 || TRANSIENT_ERRORS.has(error.name)) return new ProviderError('unavailable', error.name, error.message);
  return new ProviderError('rejected', error.name, error.message);
}

function unwrap<T>(response: ResendResponse<T>): T {
  if (response.error || response.data === null)
    throw toProviderError(response.error ? response : { ...response, error: { name: 'application_error', message: 'empty response', statusCode: null } });
  return response.data;
}

const toPayload = (email: OutgoingEmail) => ({
  from: email.from,
  to: email.to,
  subject: email.subject,
  html: email.html,
  text: email.text,
  ...(email.headers ? { headers: email.headers } : {}),
  ...(email.tags ? { tags: email.tags } : {}),
});

/** A Resend client for one API key; the email adapter and the sending-domain adapter share it. */
export function createResendClient(options: { apiKey: string; baseUrl: string }): Resend {
  return new Resend(options.apiKey, { baseUrl: options.baseUrl.replace(/\/+$/, '') });
}

export function createResendProvider(client: Resend): EmailProvider {
  return {
    name: 'resend',
    async send(email) {
      const response = await client.emails.send(toPayload(email), {
        signal: requestSignal(),
        ...(email.idempotencyKey ? { idempotencyKey: email.idempotencyKey } : {}),
      });
      return { providerMessageId: unwrap(response as ResendResponse<{ id: string }>).id };
    },
    async sendBatch(emails, options = {}) {
      if (emails.length === 0) return [];
      if (emails.length > MAX_BATCH_SIZE) throw new RangeError(`a batch holds at most ${MAX_BATCH_SIZE} emails`);
      // Strict validation: one invalid email fails the whole batch, so the batch's idempotency key
      // always stands for the same set of sent emails.
      const response = await client.batch.send(emails.map(toPayload), {
        batchValidation: 'strict',
        signal: requestSignal(),
        ...(options.idempotencyKey ? { idempotencyKey: options.idempotencyKey } : {}),
      });
      const data = unwrap(response as ResendResponse<{ data: { id: string }[] }>).data;
      return data.map((item) => ({ providerMessageId: item.id }));
    },
  };
}

export { unwrap as unwrapResend };
export type { ResendResponse };
