import { Redis } from 'ioredis';

export type RedisClient = Redis;

/**
 * The shared command connection of a process. BullMQ workers open their own blocking connections from
 * the same URL (see jobs/). `maxRetriesPerRequest: null` is what BullMQ requires of connections it reuses.
 */
export function createRedis(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false });
}
