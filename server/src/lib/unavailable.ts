/**
 * Recognizing "a dependency is down" among errors, so the error handler answers 503 with Retry-After
 * (a state the caller can wait out) instead of 500 (a fault of ours). The drivers do not share an error
 * class: PostgreSQL errors carry a SQLSTATE or a socket error code, ioredis rejects with plain errors
 * whose message is its only mark, so both are recognized here in one place.
 */

/** What a fail-fast wait (an enqueue, a connection that never became ready) rejects with. */
export class DependencyUnavailableError extends Error {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = 'DependencyUnavailableError';
  }
}

// Socket errors of any client: the server refused, vanished or cannot be resolved right now.
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED']);

// SQLSTATEs of a server that is restarting, shutting down or out of connections (classes 08 and 57P, 53300).
const POSTGRES_CODES = new Set(['08000', '08001', '08003', '08004', '08006', '57P01', '57P02', '57P03', '53300']);

// node-postgres (pool and client) and ioredis report a lost or missing connection only in the message.
const MESSAGES = [
  /^Connection terminated/, // pg: the server closed the socket (restart) or the connect timed out
  /^timeout exceeded when trying to connect$/, // pg-pool: no connection within connectionTimeoutMillis
  /is not queryable$/, // pg: a client whose connection already failed
  /^Stream isn't writeable and enableOfflineQueue options is false$/, // ioredis: disconnected, fail fast
  /^Command timed out$/, // ioredis: commandTimeout
  /^Connection is closed\.$/, // ioredis and BullMQ: the connection dropped under the command
  /^Reached the max retries per request limit/, // ioredis: maxRetriesPerRequest
];

function matches(error: Error & { code?: unknown }): boolean {
  if (error instanceof DependencyUnavailableError || error.name === 'MaxRetriesPerRequestError') return true;
  if (typeof error.code === 'string' && (SOCKET_CODES.has(error.code) || POSTGRES_CODES.has(error.code))) return true;
  return MESSAGES.some((pattern) => pattern.test(error.message));
}

/** True when `error` (or what it wraps: a cause, an AggregateError's errors) says PostgreSQL or Redis is unreachable. */
export function isDependencyUnavailable(error: unknown, depth = 0): boolean {
  if (!(error instanceof Error) || depth > 4) return false;
  if (matches(error)) return true;
  if (error instanceof AggregateError && error.errors.some((inner) => isDependencyUnavailable(inner, depth + 1))) return true;
  return isDependencyUnavailable(error.cause, depth + 1);
}

/** Rejects with DependencyUnavailableError when `promise` has not settled within `ms`; the work itself may still finish later. */
export function failAfter<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DependencyUnavailableError(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
