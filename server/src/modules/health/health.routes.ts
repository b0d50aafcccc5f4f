import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { sql } from 'kysely';
import { Type } from 'typebox';
import type { Kysely } from 'kysely';
import type { Redis } from 'ioredis';
import type { DB } from '../../db/types.ts';

const CHECK_TIMEOUT_MS = 2000;

function withTimeout<T>(promise: Promise<T>): Promise<T> {
  return Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error('timeout')), CHECK_TIMEOUT_MS).unref())]);
}

const Ready = Type.Object({ status: Type.String(), checks: Type.Object({ postgres: Type.String(), redis: Type.String() }) });

/** Liveness (the process answers) and readiness (its dependencies answer). */
export const healthRoutes: FastifyPluginAsyncTypebox<{ db: Kysely<DB>; redis: Pick<Redis, 'ping'> }> = async (app, { db, redis }) => {
  app.get(
    '/health',
    {
      schema: { tags: ['health'], operationId: 'getHealth', summary: 'Liveness', response: { 200: Type.Object({ status: Type.String() }) } },
      config: { rateLimit: false },
      // Probes run every few seconds; logging each one would drown the real traffic.
      logLevel: 'warn',
    },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/ready',
    {
      schema: { tags: ['health'], operationId: 'getReady', summary: 'Readiness: PostgreSQL and Redis reachable', response: { 200: Ready, 503: Ready } },
      config: { rateLimit: false },
      logLevel: 'warn',
    },
    async (_request, reply) => {
      const [postgres, redisCheck] = await Promise.allSettled([withTimeout(sql`select 1`.execute(db)), withTimeout(redis.ping())]);
      const checks = { postgres: postgres.status === 'fulfilled' ? 'ok' : 'unreachable', redis: redisCheck.status === 'fulfilled' ? 'ok' : 'unreachable' };
      const ready = checks.postgres === 'ok' && checks.redis === 'ok';
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks });
    },
  );
};
