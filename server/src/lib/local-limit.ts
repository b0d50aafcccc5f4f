import { AppError } from './errors.ts';

export interface LocalLimitOptions {
  /** Requests allowed per key and window. */
  max: number;
  windowMs: number;
  /** Keys kept at most; the oldest window is forgotten first. */
  maxKeys: number;
  now?: () => number;
}

/**
 * Fixed-window counters held in this process, for a hot read where a Redis round trip per request would
 * cost more than the work it guards (see the preference page's read). Each API process counts on its
 * own, so N processes allow up to N times the limit; limits that must hold across processes, and every
 * write, use the Redis-backed limits instead. Answers with the same `ratelimit-*` headers and 429 body as
 * those.
 */
export function createLocalLimiter(options: LocalLimitOptions) {
  const { max, windowMs, maxKeys } = options;
  const now = options.now ?? Date.now;
  const windows = new Map<string, { count: number; resetAt: number }>();

  return {
    /** Counts one request for `key`; returns the headers to send, or throws 429 rate_limited. */
    hit(key: string): Record<string, string> {
      const at = now();
      let window = windows.get(key);
      if (!window || window.resetAt <= at) {
        if (window) windows.delete(key);
        else if (windows.size >= maxKeys) windows.delete(windows.keys().next().value!);
        window = { count: 0, resetAt: at + windowMs };
        windows.set(key, window);
      }
      window.count += 1;
      const reset = String(Math.max(1, Math.ceil((window.resetAt - at) / 1000)));
      const headers = { 'ratelimit-limit': String(max), 'ratelimit-remaining': String(Math.max(0, max - window.count)), 'ratelimit-reset': reset };
      if (window.count <= max) return headers;
      throw new AppError(429, 'rate_limited', `Rate limit exceeded; retry in ${reset} seconds`, { headers: { ...headers, 'retry-after': reset } });
    },
  };
}

export type LocalLimiter = ReturnType<typeof createLocalLimiter>;
