import type { Redis } from 'ioredis';
import { AppError } from './errors.ts';
import { sha256Hex } from './crypto.ts';

/**
 * Fixed-window counters in Redis for limits beyond the general per-IP request limit: sign-in attempts
 * per address and per IP, emails that public forms may trigger per address. Keys hash their subject,
 * so addresses never sit in Redis.
 */
export function createThrottle(redis: Redis, prefix: string) {
  return {
    /** Counts one attempt; throws 429 rate_limited with Retry-After once `limit` is exceeded in the window. */
    async hit(bucket: string, subject: string, limit: number, windowSeconds: number, what = 'attempts'): Promise<void> {
      const key = `${prefix}:throttle:${bucket}:${sha256Hex(subject.toLowerCase())}`;
      const result = await redis.multi().incr(key).expire(key, windowSeconds, 'NX').ttl(key).exec();
      const count = Number(result?.[0]?.[1] ?? 0);
      if (count <= limit) return;
      const retryAfter = Math.max(1, Number(result?.[2]?.[1] ?? windowSeconds));
      throw new AppError(429, 'rate_limited', `Too many ${what}; retry in ${retryAfter} seconds`, { headers: { 'retry-after': String(retryAfter) } });
    },
  };
}

export type Throttle = ReturnType<typeof createThrottle>;
