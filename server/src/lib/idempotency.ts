import type { Redis } from 'ioredis';

/** What a replay needs to answer exactly as the first request was answered. */
export interface StoredResponse {
  status: number;
  contentType: string;
  body: string;
}

export type BeginResult = { state: 'new' } | { state: 'replay'; response: StoredResponse } | { state: 'mismatch' } | { state: 'in_flight' };

interface Record {
  h: string;
  r?: StoredResponse;
}

// A request that dies mid-flight must not block its key for a whole day: the in-flight marker expires soon.
const IN_FLIGHT_SECONDS = 60;

/**
 * Idempotency keys in Redis. The first request with a key claims it atomically (SET NX); later ones with
 * the same key either replay the stored response, are told the key is in use by a different body, or
 * that the first request is still running.
 */
export function createIdempotencyStore(redis: Redis, prefix: string, ttlSeconds: number) {
  return {
    async begin(scope: string, key: string, bodyHash: string): Promise<BeginResult> {
      const redisKey = `${prefix}${scope}:${key}`;
      const claimed = await redis.set(redisKey, JSON.stringify({ h: bodyHash } satisfies Record), 'EX', IN_FLIGHT_SECONDS, 'NX');
      if (claimed === 'OK') return { state: 'new' };
      const existing = await redis.get(redisKey);
      if (existing === null) return this.begin(scope, key, bodyHash);
      const record = JSON.parse(existing) as Record;
      if (record.h !== bodyHash) return { state: 'mismatch' };
      if (!record.r) return { state: 'in_flight' };
      return { state: 'replay', response: record.r };
    },

    async complete(scope: string, key: string, bodyHash: string, response: StoredResponse): Promise<void> {
      await redis.set(`${prefix}${scope}:${key}`, JSON.stringify({ h: bodyHash, r: response } satisfies Record), 'EX', ttlSeconds);
    },

    async abandon(scope: string, key: string): Promise<void> {
      await redis.del(`${prefix}${scope}:${key}`);
    },
  };
}

export type IdempotencyStore = ReturnType<typeof createIdempotencyStore>;
