/** One item of an error's `details`: usually the field at fault and why, sometimes extra facts (a limit, a plan). */
export interface ErrorDetail {
  field?: string;
  message: string;
  [key: string]: unknown;
}

interface ErrorInit {
  status: number;
  code: string;
  message: string;
  requestId?: string | null;
  details?: ErrorDetail[];
  headers?: Headers;
  cause?: unknown;
}

/**
 * Every failure the client reports. Branch on `code` (stable, machine-readable; the API's error code, or
 * `connection_error` / `timeout` when no answer came), never on `message`. Quote `requestId` when asking
 * for help: the server logs it with the request.
 */
export class SubscribeFlowError extends Error {
  readonly status: number;
  readonly code: string;
  readonly requestId: string | null;
  readonly details: ErrorDetail[];
  /** The response headers (empty when no response came). */
  readonly headers: Headers;

  constructor(init: ErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = new.target.name;
    this.status = init.status;
    this.code = init.code;
    this.requestId = init.requestId ?? null;
    this.details = init.details ?? [];
    this.headers = init.headers ?? new Headers();
  }
}

/** 400 and 422: the request is malformed or a field is not valid (`details` names each field). */
export class ValidationError extends SubscribeFlowError {}
/** 401: the API key is missing, invalid or revoked. */
export class AuthenticationError extends SubscribeFlowError {}
/** 403: the key lacks the scope (a read-only key calling a write), or the organization is suspended. */
export class PermissionDeniedError extends SubscribeFlowError {}
/** 404: not found (another organization's resources are not found either). */
export class NotFoundError extends SubscribeFlowError {}
/** 409: conflicts with the current state (already exists, or the same Idempotency-Key is still running). */
export class ConflictError extends SubscribeFlowError {}
/** 429: too many requests; `retryAfter` is the server's advice in seconds. */
export class RateLimitError extends SubscribeFlowError {
  get retryAfter(): number | null {
    const seconds = retryAfterMs(this.headers);
    return seconds === null ? null : seconds / 1000;
  }
}
/** 5xx: the server or one of its dependencies failed; safe to retry idempotent requests later. */
export class ServerError extends SubscribeFlowError {}
/** No answer: the network failed (DNS, refused, reset). `status` is 0. */
export class ConnectionError extends SubscribeFlowError {}
/** No answer within the client's `timeout`. `status` is 0. */
export class TimeoutError extends ConnectionError {}

interface ErrorBody {
  error?: { code?: unknown; message?: unknown; details?: unknown; request_id?: unknown };
}

/** The typed error for a failed response (`body` is the parsed JSON, if any). */
export function errorFromResponse(status: number, headers: Headers, body: unknown): SubscribeFlowError {
  const error = (body as ErrorBody | null)?.error;
  const init: ErrorInit = {
    status,
    headers,
    code: typeof error?.code === 'string' ? error.code : `http_${status}`,
    message: typeof error?.message === 'string' ? error.message : `The API answered ${status}`,
    requestId: typeof error?.request_id === 'string' ? error.request_id : headers.get('x-request-id'),
    details: Array.isArray(error?.details) ? (error.details as ErrorDetail[]) : [],
  };
  if (status === 400 || status === 422) return new ValidationError(init);
  if (status === 401) return new AuthenticationError(init);
  if (status === 403) return new PermissionDeniedError(init);
  if (status === 404) return new NotFoundError(init);
  if (status === 409) return new ConflictError(init);
  if (status === 429) return new RateLimitError(init);
  if (status >= 500) return new ServerError(init);
  return new SubscribeFlowError(init);
}

/** Milliseconds to wait from `Retry-After` (seconds or an HTTP date), or null when absent or unreadable. */
export function retryAfterMs(headers: Headers): number | null {
  const value = headers.get('retry-after');
  if (value === null || value.trim() === '') return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
}
