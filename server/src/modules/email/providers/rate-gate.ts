import type { Redis } from 'ioredis';
import type { SendingDomainProvider } from './resend-domains.ts';
import { ProviderError, type EmailProvider } from './provider.ts';

/**
 * Every request to the provider, from every process, holds a slot in a sliding one-second log in Redis
 * (stamped with Redis's clock, so all processes agree). A slot is taken when the request leaves and
 * re-stamped when its answer is back, i.e. after the provider has certainly received it; a new request
 * needs a slot whose answer is a full second old. So the provider never sees more requests in any second
 * than configured, whatever the network's delays, at the cost of one round trip per slot. BullMQ's
 * limiter paces the jobs; this gate makes the count exact.
 */
// KEYS[2] marks that a request of the first rank (a single email: transactional mail) is waiting for a
// slot. A bulk request (a campaign batch, ARGV[4] = 'bulk') leaves the free slots to it meanwhile.
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if ARGV[4] == 'bulk' and redis.call('EXISTS', KEYS[2]) == 1 then
  return 25
end
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  if ARGV[4] ~= 'bulk' then redis.call('DEL', KEYS[2]) end
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window * 10)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local wait = math.max(tonumber(oldest[2]) + window - now, 1)
-- Kept until the waiting request is back for its slot (a job put back comes back after the wait).
if ARGV[4] ~= 'bulk' then redis.call('SET', KEYS[2], '1', 'PX', wait + 500) end
return wait`;

const COMPLETE = `
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  local t = redis.call('TIME')
  redis.call('ZADD', KEYS[1], 'XX', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), ARGV[1])
end
return 0`;

export const GATE_WINDOW_MS = 1000;

export interface RateGate {
  /**
   * Runs `request` in a slot, waiting up to `maxWaitMs` for one; beyond that throws rate_limited. A `bulk`
   * request (a campaign batch) takes no slot while a single request waits for one, so transactional mail
   * keeps its priority over a campaign's backlog in the gate too, not only in the queue.
   */
  run<T>(request: () => Promise<T>, maxWaitMs: number, rank?: 'first' | 'bulk'): Promise<T>;
}

export function createRateGate(redis: Redis, key: string, perSecond: number): RateGate {
  let sequence = 0;
  const member = () => `${process.pid}:${(sequence += 1)}:${Math.random().toString(36).slice(2, 10)}`;
  return {
    async run(request, maxWaitMs, rank = 'first') {
      const id = member();
      const deadline = Date.now() + maxWaitMs;
      for (;;) {
        const waitMs = Number(await redis.eval(ACQUIRE, 2, key, `${key}:first-waiting`, perSecond, GATE_WINDOW_MS, id, rank));
        if (waitMs <= 0) break;
        if (Date.now() + waitMs > deadline)
          throw new ProviderError('rate_limited', 'local_rate_limit', 'Every request slot of this second is taken', { retryAfterMs: waitMs });
        await new Promise((resolve) => setTimeout(resolve, waitMs));
      }
      try {
        return await request();
      } finally {
        await redis.eval(COMPLETE, 1, key, id);
      }
    },
  };
}

/** A job waits only briefly for a slot; a longer wait puts the job back and pauses the queue instead. */
export const JOB_MAX_WAIT_MS = 250;
/**
 * A campaign batch waits in the gate for its slot instead of pausing the queue: a paused queue would
 * hold transactional mail back too, while a waiting batch leaves the queue to it (and the gate's free
 * slots go to single emails first).
 */
export const BULK_JOB_MAX_WAIT_MS = 5000;
/** Someone is waiting for this (a login link, a domain being added): better a short wait than an error. */
export const INTERACTIVE_MAX_WAIT_MS = 10_000;

/** The email provider behind the gate (a batch is one request). */
export function gatedProvider(provider: EmailProvider, gate: RateGate, maxWaitMs: number, bulkMaxWaitMs = maxWaitMs): EmailProvider {
  return {
    name: provider.name,
    send: (email) => gate.run(() => provider.send(email), maxWaitMs),
    sendBatch: (emails, options) => gate.run(() => provider.sendBatch(emails, options), bulkMaxWaitMs, 'bulk'),
    ...(provider.close ? { close: () => provider.close!() } : {}),
  };
}

export function gatedDomains(domains: SendingDomainProvider, gate: RateGate): SendingDomainProvider {
  const gated =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> =>
      gate.run(() => call(...args), INTERACTIVE_MAX_WAIT_MS);
  return { create: gated(domains.create), get: gated(domains.get), verify: gated(domains.verify), remove: gated(domains.remove) };
}
