import type { Redis } from 'ioredis';
import { AppError } from '../../lib/errors.ts';
import { sha256Hex } from '../../lib/crypto.ts';

/**
 * Counts the emails that public requests trigger for one address (links, confirmations) in fixed hourly
 * windows in Redis, so no one can flood a mailbox through our forms. Counting happens whether or not the
 * address is known, so a 429 reveals nothing about it. Keys hash the address; no address sits in Redis.
 */
export function createAddressLimiter(redis: Redis, prefix: string, perHour: number) {
  return {
    async hit(bucket: string, organizationId: string, email: string): Promise<void> {
      const key = `${prefix}:addr:${bucket}:${sha256Hex(`${organizationId}:${email.trim().toLowerCase()}`)}`;
      const result = await redis.multi().incr(key).expire(key, 3600, 'NX').ttl(key).exec();
      const count = Number(result?.[0]?.[1] ?? 0);
      if (count <= perHour) return;
      const retryAfter = Math.max(1, Number(result?.[2]?.[1] ?? 3600));
      throw new AppError(429, 'rate_limited', `Too many emails requested for this address; retry in ${retryAfter} seconds`, { headers: { 'retry-after': String(retryAfter) } });
    },
  };
}

export type AddressLimiter = ReturnType<typeof createAddressLimiter>;
