import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Config } from '../config/index.ts';
import { clientIp } from '../lib/client-ip.ts';
import { AppError } from '../lib/errors.ts';

/**
 * Redis-backed limits shared by every API process: per API key or signed-in user on authenticated routes, per client IP
 * everywhere else (including requests whose credentials failed, so keys cannot be guessed at speed).
 */
export async function registerRateLimit(
  app: FastifyInstance,
  deps: { redis: Redis; config: Pick<Config, 'REDIS_PREFIX' | 'TRUST_CF_CONNECTING_IP' | 'RATE_LIMIT_API_KEY_PER_MINUTE' | 'RATE_LIMIT_IP_PER_MINUTE'> },
): Promise<void> {
  const { config } = deps;
  await app.register(rateLimit, {
    global: true,
    hook: 'onRequest',
    redis: deps.redis,
    nameSpace: `${config.REDIS_PREFIX}:rl:`,
    timeWindow: 60_000,
    enableDraftSpec: true,
    skipOnError: true,
    keyGenerator: (request) => {
      if (request.auth?.kind === 'api_key') return `key:${request.auth.apiKeyId}`;
      // A session counts per user, so opening more sessions does not buy more requests.
      if (request.principal) return `user:${request.principal.userId}`;
      return `ip:${clientIp(request, config.TRUST_CF_CONNECTING_IP)}`;
    },
    max: (request) => (request.auth?.kind === 'api_key' || request.principal ? config.RATE_LIMIT_API_KEY_PER_MINUTE : config.RATE_LIMIT_IP_PER_MINUTE),
    errorResponseBuilder: (_request, context) =>
      Object.assign(new AppError(429, 'rate_limited', `Rate limit exceeded; retry in ${context.after}`), { statusCode: 429 }),
  });
}
