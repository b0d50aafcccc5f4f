import { describe, expect, it } from 'vitest';
import { AppError } from './errors.ts';
import { createLocalLimiter } from './local-limit.ts';

describe('local fixed-window limiter', () => {
  it('allows max requests per key and window, then answers 429 with Retry-After until the window ends', () => {
    let now = 1_000_000;
    const limiter = createLocalLimiter({ max: 2, windowMs: 60_000, maxKeys: 10, now: () => now });
    expect(limiter.hit('a')).toEqual({ 'ratelimit-limit': '2', 'ratelimit-remaining': '1', 'ratelimit-reset': '60' });
    now += 30_000;
    expect(limiter.hit('a')['ratelimit-remaining']).toBe('0');
    const error = (() => {
      try {
        limiter.hit('a');
      } catch (e) {
        return e;
      }
    })() as AppError;
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ status: 429, code: 'rate_limited' });
    expect(error.headers?.['retry-after']).toBe('30');
    expect(limiter.hit('b')['ratelimit-remaining']).toBe('1');
    now += 30_000;
    expect(limiter.hit('a')['ratelimit-remaining']).toBe('1');
  });

  it('forgets the oldest window when it holds maxKeys keys', () => {
    const limiter = createLocalLimiter({ max: 1, windowMs: 60_000, maxKeys: 2 });
    limiter.hit('a');
    limiter.hit('b');
    limiter.hit('c');
    expect(() => limiter.hit('c')).toThrow(AppError);
    expect(limiter.hit('a')['ratelimit-remaining']).toBe('0');
  });
});
