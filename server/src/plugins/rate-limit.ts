import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Container } from '../container.ts';
import { AppError } from '../lib/errors.ts';

/** The client's address: Cloudflare's header only when the operator says the tunnel is the only way in. */
export function clientIp(request: FastifyRequest, trustCfConnectingIp: boolean): string {
  if (trustCfConnectingIp) {
    const header = request.headers['cf-connecting-ip'];
    if (typeof header === 'string' && header.length > 0 && header.length <= 64) return header;
  }
  return request.ip;
}

/**
 * Redis-backed limits shared by every API process: per API key or signed-in user on authenticated routes, per client IP
 * everywhere else (including requests whose credentials failed, so keys cannot be guessed at speed).
 */
export async function registerRateLimit(app: FastifyInstance, container: Container): Promise<void> {
  const { config } = container;
  await app.register(rateLimit, {
    global: true,
    hook: 'onRequest',
    redis: container.redis,
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
