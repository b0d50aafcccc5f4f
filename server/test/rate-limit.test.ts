import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from './support/context.ts';

let ctx: TestContext;

beforeAll(async () => {
  ctx = await createTestContext({ RATE_LIMIT_API_KEY_PER_MINUTE: '5', RATE_LIMIT_IP_PER_MINUTE: '3', TRUST_CF_CONNECTING_IP: 'true' });
});
afterAll(() => ctx.close());

describe('rate limits', () => {
  it('limits each API key separately and says when to retry', async () => {
    const one = (await ctx.createOrganization()).key;
    const two = (await ctx.createOrganization()).key;
    const get = (key: string) =>
      ctx.app.inject({ method: 'GET', url: '/api/v1/tags', headers: { authorization: `Bearer ${key}`, 'cf-connecting-ip': '198.51.100.1' } });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i += 1) statuses.push((await get(one)).statusCode);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    const limited = await get(one);
    expect(limited.json().error.code).toBe('rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.headers['ratelimit-limit']).toBe('5');
    expect(limited.headers['ratelimit-remaining']).toBe('0');
    expect((await get(two)).statusCode).toBe(200);
  });

  it('limits failed authentication per client IP so keys cannot be guessed at speed', async () => {
    const guess = (ip: string) =>
      ctx.app.inject({ method: 'GET', url: '/api/v1/tags', headers: { authorization: `Bearer sf_live_${'g'.repeat(40)}`, 'cf-connecting-ip': ip } });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await guess('203.0.113.9')).statusCode);
    expect(statuses).toEqual([401, 401, 401, 429]);
    expect((await guess('203.0.113.10')).statusCode).toBe(401);
  });

  it('keeps health checks out of the limits', async () => {
    for (let i = 0; i < 5; i += 1)
      expect((await ctx.app.inject({ method: 'GET', url: '/health', headers: { 'cf-connecting-ip': '203.0.113.50' } })).statusCode).toBe(200);
  });
});
