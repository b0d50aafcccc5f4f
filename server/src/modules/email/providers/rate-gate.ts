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
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window * 10)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(tonumber(oldest[2]) + window - now, 1)`;

const COMPLETE = `
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  local t = redis.call('TIME')
  redis.call('ZADD', KEYS[1], 'XX', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), ARGV[1])
end
return 0`;

export const GATE_WINDOW_MS = 1000;

export interface RateGate {
  /** Runs `request` in a slot, waiting up to `maxWaitMs` for one; beyond that throws rate_limited. */
  run<T>(request: () => Promise<T>, maxWaitMs: number): Promise<T>;
}

export function createRateGate(redis: Redis, key: string, perSecond: number): RateGate {
  let sequence = 0;
  const member = () => `${process.pid}:${(sequence += 1)}:${Math.random().toString(36).slice(2, 10)}`;
  return {
    async run(request, maxWaitMs) {
      const id = member();
      const deadline = Date.now() + maxWaitMs;
      for (;;) {
        const waitMs = Number(await redis.eval(ACQUIRE, 1, key, perSecond, GATE_WINDOW_MS, id));
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
/** Someone is waiting for this (a login link, a domain being added): better a short wait than an error. */
export const INTERACTIVE_MAX_WAIT_MS = 10_000;

/** The email provider behind the gate (a batch is one request). */
export function gatedProvider(provider: EmailProvider, gate: RateGate, maxWaitMs: number): EmailProvider {
  return {
    name: provider.name,
    send: (email) => gate.run(() => provider.send(email), maxWaitMs),
    sendBatch: (emails, options) => gate.run(() => provider.sendBatch(emails, options), maxWaitMs),
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
