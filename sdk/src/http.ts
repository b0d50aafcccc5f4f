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
  /** JSON, or an upload already encoded (see `multipart`). */
  body?: unknown;
}

/** A request body the transport sends as it is, with its own content type (a file upload). */
export interface EncodedBody {
  readonly encoded: BodyInit;
  /** Set for a body built here; omitted for FormData, whose boundary fetch chooses. */
  readonly contentType?: string;
  /** A stream can be read once: such a request is never retried. */
  readonly once: boolean;
}

function isEncoded(body: unknown): body is EncodedBody {
  return typeof body === 'object' && body !== null && 'encoded' in body && 'once' in body;
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

  /** Sends the operation and answers its parsed JSON body (undefined for 204). */
  async call<O extends OperationId>(operationId: O, input: CallInput = {}, options: RequestOptions = {}): Promise<ResponseBody<O>> {
    return this.send(operationId, input, options, 'application/json', false) as Promise<ResponseBody<O>>;
  }

  /**
   * Sends the operation and answers the body as a stream of bytes (a download: CSV, NDJSON), read as it
   * arrives. The timeout covers the wait for the response's headers, not the reading of the body.
   */
  async stream(operationId: OperationId, input: CallInput = {}, options: RequestOptions = {}, accept = '*/*'): Promise<ReadableStream<Uint8Array>> {
    return this.send(operationId, input, options, accept, true) as Promise<ReadableStream<Uint8Array>>;
  }

  private async send(operationId: OperationId, input: CallInput, options: RequestOptions, accept: string, streamed: boolean): Promise<unknown> {
    const operation: { method: string; path: string; idempotent?: true } = OPERATIONS[operationId];
    const url = this.url(operation.path, input);
    const headers = new Headers(this.options.headers);
    headers.set('accept', accept);
    if (this.options.apiKey) headers.set('authorization', `Bearer ${this.options.apiKey}`);
    const encoded = isEncoded(input.body) ? input.body : undefined;
    if (encoded?.contentType) headers.set('content-type', encoded.contentType);
    else if (input.body !== undefined && !encoded) headers.set('content-type', 'application/json');
    const idempotencyKey = options.idempotencyKey ?? (operation.idempotent ? crypto.randomUUID() : undefined);
    if (idempotencyKey !== undefined) headers.set('idempotency-key', idempotencyKey);
    const retryable = (IDEMPOTENT_METHODS.has(operation.method) || idempotencyKey !== undefined) && !encoded?.once;
    const maxRetries = retryable ? (options.maxRetries ?? this.options.maxRetries) : 0;
    const body = encoded ? encoded.encoded : input.body === undefined ? undefined : JSON.stringify(input.body);
    // A stream as a request body is sent as it is read (Node's fetch requires saying so).
    const init: RequestInit & { duplex?: 'half' } = { method: operation.method, headers, body };
    if (body instanceof ReadableStream) init.duplex = 'half';

    for (let attempt = 0; ; attempt += 1) {
      let error: SubscribeFlowError;
      try {
        // An upload takes as long as the file takes to send: only a timeout given for the call applies.
        const timeout = encoded && options.timeout === undefined ? null : (options.timeout ?? this.options.timeout);
        const response = await this.attempt(url, init, options, timeout, streamed);
        if (response.ok && streamed) return response.body ?? new ReadableStream({ start: (c) => c.close() });
        const payload = await readBody(response);
        if (response.ok) return payload;
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

  /**
   * One request with the timeout; a network failure or timeout becomes a ConnectionError / TimeoutError.
   * With `headersOnly`, the timeout stops once the response starts, so a long download is not cut off.
   */
  private async attempt(url: URL, init: RequestInit, options: RequestOptions, timeout: number | null, headersOnly: boolean): Promise<Response> {
    // AbortSignal.timeout keeps no process alive; a download's own timer is cleared once the answer starts.
    const download = headersOnly && timeout !== null ? new AbortController() : null;
    const handle = download ? setTimeout(() => download.abort(new DOMException(`No answer within ${timeout} ms`, 'TimeoutError')), timeout!) : undefined;
    const timer = download ? download.signal : timeout === null ? null : AbortSignal.timeout(timeout);
    const signals = [options.signal, timer].filter((s): s is AbortSignal => s !== null && s !== undefined);
    const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
    try {
      return await this.options.fetch(url, signal ? { ...init, signal } : init);
    } catch (error) {
      // The caller's own abort is theirs to handle: rethrow it as fetch gave it.
      if (options.signal?.aborted) throw error;
      if (timer?.aborted) {
        throw new TimeoutError({ status: 0, code: 'timeout', message: `No answer within ${timeout} ms`, cause: error });
      }
      throw new ConnectionError({ status: 0, code: 'connection_error', message: `Could not reach the API: ${(error as Error).message}`, cause: error });
    } finally {
      clearTimeout(handle);
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
export async function* paginate<T>(
  fetchPage: (cursor: string | undefined) => Promise<{ items: T[]; next_cursor: string | null }>,
): AsyncGenerator<T, void, undefined> {
  let cursor: string | undefined;
  do {
    const page = await fetchPage(cursor);
    yield* page.items;
    cursor = page.next_cursor ?? undefined;
  } while (cursor !== undefined);
}

/** What an upload accepts: a Blob or File (in Node, `await fs.openAsBlob(path)`), a web stream, or a Node stream. */
export type UploadSource = Blob | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array | string>;

/**
 * A multipart/form-data body of text fields followed by one file. A Blob goes as FormData (repeatable);
 * a stream is framed here and sent as it is read, so a large file is never held in memory.
 */
export function multipart(fields: Record<string, string>, file: { field: string; name: string; type: string; source: UploadSource }): EncodedBody {
  if (file.source instanceof Blob) {
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) form.append(name, value);
    form.append(file.field, file.source, file.name);
    return { encoded: form, once: false };
  }
  const boundary = `----subscribe-flow-${crypto.randomUUID()}`;
  const quoted = (value: string) => value.replace(/[\r\n"]/g, (c) => encodeURIComponent(c));
  let head = '';
  for (const [name, value] of Object.entries(fields)) {
    head += `--${boundary}\r\nContent-Disposition: form-data; name="${quoted(name)}"\r\n\r\n${value}\r\n`;
  }
  head += `--${boundary}\r\nContent-Disposition: form-data; name="${quoted(file.field)}"; filename="${quoted(file.name)}"\r\nContent-Type: ${file.type}\r\n\r\n`;
  const encoder = new TextEncoder();
  const source = file.source;
  async function* parts(): AsyncGenerator<Uint8Array> {
    yield encoder.encode(head);
    if (source instanceof ReadableStream) {
      const reader = source.getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          yield value;
        }
      } finally {
        reader.releaseLock();
      }
    } else {
      for await (const chunk of source) yield typeof chunk === 'string' ? encoder.encode(chunk) : chunk;
    }
    yield encoder.encode(`\r\n--${boundary}--\r\n`);
  }
  const iterator = parts();
  const encoded = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await iterator.next();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    async cancel() {
      await iterator.return(undefined);
    },
  });
  return { encoded, contentType: `multipart/form-data; boundary=${boundary}`, once: true };
}
