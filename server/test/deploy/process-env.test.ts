import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exists, loadCompose, repoPath } from './helpers.ts';
import { databaseUrl, localEnvironment, startProcess, waitForOk, type Running } from './processes.ts';

// Each server process must start with exactly the environment compose.yaml gives its container, answer
// its healthcheck, and stop cleanly on SIGTERM within the service's stop_grace_period. The processes run
// from source (as in development) against the local PostgreSQL and Redis; only the addresses differ
// from production: the database, Redis and the listening ports.

const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const suffix = randomBytes(4).toString('hex');
const database = `sf_deploy_${suffix}`;
const compose = loadCompose();

const urlFor = (name: string): string => databaseUrl(serverUrl, name);

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

function seconds(duration: string | undefined): number {
  const match = /^(\d+)(s|m)$/.exec(duration ?? '');
  if (!match) return 10;
  return Number(match[1]) * (match[2] === 'm' ? 60 : 1);
}

const environmentFor = (service: string) => localEnvironment(compose, service, { databaseUrl: urlFor(database), redisUrl, redisPrefix: `sfdeploy${suffix}` });
const start = (service: string, env: Record<string, string>) => startProcess(service, repoPath('server/src/entrypoints', `${service}.ts`), env);

async function stopsCleanly(service: string, running: Running): Promise<void> {
  const grace = seconds(compose.services[service]?.stop_grace_period) * 1000;
  running.child.kill('SIGTERM');
  const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), grace).unref());
  const result = await Promise.race([running.exited, timer]);
  if (result === 'timeout') running.child.kill('SIGKILL');
  expect(result, `${service} did not exit 0 within its stop_grace_period after SIGTERM:\n${running.output()}`).toBe(0);
}

const entryExists = (service: string) => exists(`server/src/entrypoints/${service}.ts`);

beforeAll(async () => {
  await admin((client) => client.query(`create database ${database}`));
});

afterAll(async () => {
  await admin((client) => client.query(`drop database if exists ${database} with (force)`));
  // Whatever the processes wrote to Redis (queues, counters) lives under this run's own prefix.
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `sfdeploy${suffix}*`, 'COUNT', 500);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
});

describe('server processes with the environment compose.yaml gives them', () => {
  it.skipIf(!entryExists('migrate'))(
    'migrate applies the migrations, exits 0, and does so again when there is nothing to do',
    async () => {
      for (let round = 1; round <= 2; round += 1) {
        const { env } = await environmentFor('migrate');
        const running = start('migrate', env);
        const code = await running.exited;
        expect(code, `migrate run ${round} failed:\n${running.output()}`).toBe(0);
      }
      const client = new pg.Client({ connectionString: urlFor(database) });
      await client.connect();
      try {
        const { rows } = await client.query<{ n: number }>("select count(*)::int as n from pg_tables where schemaname = 'public'");
        expect(rows[0]?.n).toBeGreaterThan(1);
      } finally {
        await client.end();
      }
    },
    60_000,
  );

  it.skipIf(!entryExists('api') || !entryExists('migrate'))(
    'api becomes healthy and ready on HOST/PORT and stops cleanly on SIGTERM',
    async () => {
      const { env, port } = await environmentFor('api');
      const running = start('api', env);
      try {
        await waitForOk(`http://127.0.0.1:${port}/health`, running, 20_000);
        await waitForOk(`http://127.0.0.1:${port}/ready`, running, 5_000);
        await stopsCleanly('api', running);
      } finally {
        running.child.kill('SIGKILL');
      }
    },
    60_000,
  );

  for (const service of ['worker', 'cron']) {
    it.skipIf(!entryExists(service) || !entryExists('migrate'))(
      `${service} answers /health on METRICS_PORT and stops cleanly on SIGTERM`,
      async () => {
        const { env, metricsPort } = await environmentFor(service);
        expect(metricsPort, `compose gives ${service} no METRICS_PORT`).toBeDefined();
        const running = start(service, env);
        try {
          await waitForOk(`http://127.0.0.1:${metricsPort}/health`, running, 20_000);
          await stopsCleanly(service, running);
        } finally {
          running.child.kill('SIGKILL');
        }
      },
      90_000,
    );
  }
});
