import type { Redis } from 'ioredis';

// Takes a slot when fewer than `cap` unexpired slots are held. Slots expire on their own, so a worker
// that dies holding one does not shrink the endpoint's share for longer than an attempt can last.
const ACQUIRE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1`;
// The same for up to ARGV[6] slots named ARGV[4]:1, ARGV[4]:2, …; returns how many were taken.
const ACQUIRE_MANY = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local free = tonumber(ARGV[3]) - redis.call('ZCARD', KEYS[1])
local n = math.min(free, tonumber(ARGV[6]))
if n <= 0 then return 0 end
for i = 1, n do redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4] .. ':' .. i) end
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return n`;

/**
 * The per-endpoint concurrency cap, across every worker process: at most `cap` attempts to one endpoint
 * are in flight at once, so one slow receiver holds at most that many of the webhook queue's workers and
 * the other endpoints' deliveries go on.
 */
export function createEndpointGate(deps: { redis: Redis; prefix: string; cap: number; leaseMs: number }) {
  const key = (endpointId: string) => `${deps.prefix}:webhook-inflight:${endpointId}`;
  return {
    /** Whether a slot was taken for `holder`; release it with `release` when the attempt is over. */
    async acquire(endpointId: string, holder: string): Promise<boolean> {
      const now = Date.now();
      const taken = await deps.redis.eval(ACQUIRE, 1, key(endpointId), now, now + deps.leaseMs, deps.cap, holder, deps.leaseMs * 2);
      return taken === 1;
    },

    async release(endpointId: string, holder: string): Promise<void> {
      await deps.redis.zrem(key(endpointId), holder);
    },
    /** Up to `want` slots for one holder's parallel attempts (a batch); how many were taken, maybe 0. */
    async acquireMany(endpointId: string, holder: string, want: number): Promise<number> {
      const now = Date.now();
      return Number(await deps.redis.eval(ACQUIRE_MANY, 1, key(endpointId), now, now + deps.leaseMs, deps.cap, holder, deps.leaseMs * 2, want));
    },
    async releaseMany(endpointId: string, holder: string, taken: number): Promise<void> {
      if (taken > 0) await deps.redis.zrem(key(endpointId), ...Array.from({ length: taken }, (_, i) => `${holder}:${i + 1}`));
    },
  };
}

export type EndpointGate = ReturnType<typeof createEndpointGate>;
