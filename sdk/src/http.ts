import { ConnectionError, errorFromResponse, retryAfterMs, type SubscribeFlowError, TimeoutError } from './errors.ts';
import { OPERATIONS } from './generated/operations.ts';
import type { OperationId, RequestOptions, ResponseBody } from './types.ts';

export interface TransportOptions {
  baseUrl: string;
  /** Sent as `Authorization: Bearer …`; omitted for the preference center (its token is the credential). */
  apiKey?: string;
  timeout: number;
  maxRetries: number;
  fetch: typeof fetch;
  headers: Record<string, string>;
}

export interface CallInput {
  params?: Record<string, string>;
  query?: object;
  body?: unknown;
}

// Methods that do the same thing however often they are sent; a POST is retried only with an Idempotency-Key.
const IDEMPOTENT_METHODS = new Set(['GET', 'PUT', 'DELETE']);
const RETRY_STATUSES = new Set([429, 500, 502, 503, 504]);
const MAX_BACKOFF_MS = 8_000;
// A Retry-After longer than this is the server saying "not soon": give the error to the caller instead.
const MAX_RETRY_AFTER_MS = 60_000;

/** Sends operations by their id: builds the URL, authenticates, retries what is safe to retry, maps errors. */
export class Transport {
  private readonly options: TransportOptions;
  constructor(options: TransportOptions) {
    this.options = options;
  }

  async call<O extends OperationId>(operationId: O, input: CallInput = {}, options: RequestOptions = {}): Promise<ResponseBody<O>> {
    const operation: { method: string; path: string; idempotent?: true } = OPERATIONS[operationId];
    const url = this.url(operation.path, input);
    const headers = new Headers(this.options.headers);
    headers.set('accept', 'application/json');
    if (this.options.apiKey) headers.set('authorization', `Bearer ${this.options.apiKey}`);
    if (input.body !== undefined) headers.set('content-type', 'application/json');
    const idempotencyKey = options.idempotencyKey ?? (operation.idempotent ? crypto.randomUUID() : undefined);
    if (idempotencyKey !== undefined) headers.set('idempotency-key', idempotencyKey);
    const retryable = IDEMPOTENT_METHODS.has(operation.method) || idempotencyKey !== undefined;
    const maxRetries = retryable ? (options.maxRetries ?? this.options.maxRetries) : 0;
    const body = input.body === undefined ? undefined : JSON.stringify(input.body);

    for (let attempt = 0; ; attempt += 1) {
      let error: SubscribeFlowError;
      try {
        const response = await this.attempt(url, { method: operation.method, headers, body }, options);
        const payload = await readBody(response);
        if (response.ok) return payload as ResponseBody<O>;
        error = errorFromResponse(response.status, response.headers, payload);
        // The same key is still being processed by an earlier attempt: its answer will be there shortly.
        const inFlight = response.status === 409 && error.code === 'idempotency_key_in_use';
        if (!RETRY_STATUSES.has(response.status) && !inFlight) throw error;
      } catch (caught) {
        if (!(caught instanceof ConnectionError)) throw caught;
        error = caught;
      }
      if (attempt >= maxRetries) throw error;
      const advised = retryAfterMs(error.headers);
      if (advised !== null && advised > MAX_RETRY_AFTER_MS) throw error;
      await sleep(advised ?? backoff(attempt), options.signal);
    }
  }

  private url(template: string, input: CallInput): URL {
    const path = template.replace(/\{(\w+)\}/g, (_, name: string) => {
      const value = input.params?.[name];
      if (value === undefined) throw new TypeError(`Missing path parameter ${name}`);
      return encodeURIComponent(value);
    });
    const url = new URL(path.replace(/^\//, ''), this.options.baseUrl.replace(/\/?$/, '/'));
    for (const [name, value] of Object.entries(input.query ?? {})) {
      if (value === undefined || value === null) continue;
      for (const item of Array.isArray(value) ? value : [value]) url.searchParams.append(name, String(item));
    }
    return url;
  }

  /** One request with the timeout; a network failure or timeout becomes a ConnectionError / TimeoutError. */
  private async attempt(url: URL, init: RequestInit, options: RequestOptions): Promise<Response> {
    const timeout = options.timeout ?? this.options.timeout;
    const timer = AbortSignal.timeout(timeout);
    const signal = options.signal ? AbortSignal.any([options.signal, timer]) : timer;
    try {
      return await this.options.fetch(url, { ...init, signal });
    } catch (error) {
      // The caller's own abort is theirs to handle: rethrow it as fetch gave it.
      if (options.signal?.aborted) throw error;
      if (timer.aborted) {
        throw new TimeoutError({ status: 0, code: 'timeout', message: `No answer within ${timeout} ms`, cause: error });
      }
      throw new ConnectionError({ status: 0, code: 'connection_error', message: `Could not reach the API: ${(error as Error).message}`, cause: error });
    }
  }
}

async function readBody(response: Response): Promise<unknown> {
  if (response.status === 204) return undefined;
  const text = await response.text();
  if (text === '') return undefined;
  if (!(response.headers.get('content-type') ?? '').includes('json')) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Exponential backoff with jitter: about 0.5 s, 1 s, 2 s, … up to 8 s. */
function backoff(attempt: number): number {
  return Math.min(MAX_BACKOFF_MS, 500 * 2 ** attempt) * (0.75 + Math.random() * 0.25);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Every item of a cursor-paginated list, fetching pages as the loop asks for them. */
export async function* paginate<T>(fetchPage: (cursor: string | undefined) => Promise<{ items: T[]; next_cursor: string | null }>): AsyncGenerator<T, void, undefined> {
  let cursor: string | undefined;
  do {
    const page = await fetchPage(cursor);
    yield* page.items;
    cursor = page.next_cursor ?? undefined;
  } while (cursor !== undefined);
}
