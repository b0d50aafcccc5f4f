import { Redis, type RedisOptions } from 'ioredis';

export type RedisClient = Redis;

/**
 * How long any command may take, queued or sent, before it fails. A request that needs Redis while Redis
 * is down or hung must get its 503 within about a second, not wait for the connection to come back.
 */
export const REDIS_COMMAND_TIMEOUT_MS = 1000;

/**
 * Options of every connection whose commands serve a request or a job step (not BullMQ's blocking worker
 * connections). Commands issued while the first connection is being made wait for it in the offline
 * queue (given up after a retry should it fail); failFastAfterFirstAttempt decides what happens after.
 */
export const FAIL_FAST_OPTIONS = { maxRetriesPerRequest: 1, enableReadyCheck: true } as const satisfies RedisOptions;

/**
 * Once the first connection attempt is over (ready, or failed and now reconnecting), every command fails
 * within REDIS_COMMAND_TIMEOUT_MS (a hung server) and a command issued while the connection is down fails
 * at once instead of queueing (no offline queue): during an outage every caller learns it immediately,
 * and callers that can do without Redis (the rate limit skips on error) lose no time. Before that, a
 * process that has just started does not fail its first commands for want of a connection that is
 * being made (slow on a loaded machine). ioredis reads both options per command.
 */
export function failFastAfterFirstAttempt(redis: Redis): Redis {
  const failFast = () => {
    redis.options.enableOfflineQueue = false;
    redis.options.commandTimeout = REDIS_COMMAND_TIMEOUT_MS;
    redis.off('ready', failFast).off('reconnecting', failFast);
  };
  redis.on('ready', failFast).on('reconnecting', failFast);
  return redis;
}

/** The shared command connection of a process (sessions, limits, idempotency, caches, the provider gate). */
export function createRedis(url: string): Redis {
  return failFastAfterFirstAttempt(new Redis(url, { ...FAIL_FAST_OPTIONS, lazyConnect: false }));
}
