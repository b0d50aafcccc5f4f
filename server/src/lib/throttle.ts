import type { Redis } from 'ioredis';
import { AppError } from '../../lib/errors.ts';
import { sha256Hex } from '../../lib/crypto.ts';

/**
 * Fixed-window counters in Redis for the sign-in routes, which need limits per email address and per
 * IP beyond the general per-IP request limit. Keys hash their subject, so addresses never sit in Redis.
 */
export function createThrottle(redis: Redis, prefix: string) {
  return {
    /** Counts one attempt; throws 429 rate_limited with Retry-After once `limit` is exceeded in the window. */
    async hit(bucket: string, subject: string, limit: number, windowSeconds: number): Promise<void> {
      const key = `${prefix}:throttle:${bucket}:${sha256Hex(subject.toLowerCase())}`;
      const result = await redis.multi().incr(key).expire(key, windowSeconds, 'NX').ttl(key).exec();
      const count = Number(result?.[0]?.[1] ?? 0);
      if (count <= limit) return;
      const retryAfter = Math.max(1, Number(result?.[2]?.[1] ?? windowSeconds));
      throw new AppError(429, 'rate_limited', `Too many attempts; retry in ${retryAfter} seconds`, { headers: { 'retry-after': String(retryAfter) } });
    },
  };
}

export type Throttle = ReturnType<typeof createThrottle>;
