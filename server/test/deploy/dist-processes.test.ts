import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { createContainer } from '../../src/container.ts';
import { loadCompose, repoPath } from './helpers.ts';
import { databaseUrl, localEnvironment, startProcess, waitForOk, type Running } from './processes.ts';

// The image runs the tsc output, not the sources: this builds the server the way the Dockerfile does and
// runs migrate, api, worker and cron from the JavaScript as plain processes, with the environment
// compose.yaml gives them, against the local PostgreSQL and Redis (a scratch database, a Redis prefix of
// its own, free ports). A job makes a round trip through the worker, and every process stops with 0.

const run = promisify(execFile);
const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const suffix = randomBytes(4).toString('hex');
const database = `sf_dist_${suffix}`;
const prefix = `sfdist${suffix}`;
// Inside server/node_modules so the build resolves the installed packages like server/dist does.
const outDir = repoPath('server/node_modules/.cache', `dist-test-${suffix}`);
const compose = loadCompose();

const urlFor = (name: string) => databaseUrl(serverUrl, name);
const environmentFor = (service: string) =>
  localEnvironment(compose, service, {
    databaseUrl: urlFor(database),
    redisUrl,
    redisPrefix: prefix,
    overrides: { EMAIL_PROVIDER: 'dev' },
  });
const start = (service: string, env: Record<string, string>) => startProcess(service, path.join(outDir, 'entrypoints', `${service}.js`), env);

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function stopsWithin10s(running: Running): Promise<void> {
  running.child.kill('SIGTERM');
  const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 10_000).unref());
  const result = await Promise.race([running.exited, timer]);
  expect(result, `did not exit 0 within 10 s of SIGTERM:\n${running.output()}`).toBe(0);
}

const processes: Running[] = [];

beforeAll(async () => {
  await Promise.all([
    admin(`create database ${database}`),
    run(process.execPath, [
      repoPath('node_modules/typescript/bin/tsc'),
      '-p',
      repoPath('server/tsconfig.build.json'),
      '--outDir',
      outDir,
      '--sourceMap',
      'false',
    ]),
  ]);
  // server/package.json says "type": "module"; a folder under node_modules does not inherit it.
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(outDir, 'package.json'), '{ "type": "module" }\n');
}, 120_000);

afterAll(async () => {
  for (const running of processes) running.child.kill('SIGKILL');
  rmSync(outDir, { recursive: true, force: true });
  await admin(`drop database if exists ${database} with (force)`);
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
});

describe('the built server', () => {
  it('migrates, serves, sends an email through the worker, and every process exits 0 on SIGTERM', async () => {
    const migrate = start('migrate', (await environmentFor('migrate')).env);
    expect(await migrate.exited, migrate.output()).toBe(0);

    const api = await environmentFor('api');
    const worker = await environmentFor('worker');
    const cron = await environmentFor('cron');
    const [apiProcess, workerProcess, cronProcess] = [start('api', api.env), start('worker', worker.env), start('cron', cron.env)];
    processes.push(apiProcess, workerProcess, cronProcess);
    await Promise.all([
      waitForOk(`http://127.0.0.1:${api.port}/ready`, apiProcess),
      waitForOk(`http://127.0.0.1:${api.metricsPort}/health`, apiProcess),
      waitForOk(`http://127.0.0.1:${worker.metricsPort}/health`, workerProcess),
      waitForOk(`http://127.0.0.1:${cron.metricsPort}/health`, cronProcess),
    ]);

    // An organization and its key, made with the same code the operator CLI uses.
    const container = createContainer(loadConfig(api.env), { processName: 'test' });
    const { apiKey } = await container.services.organizations.createWithOwner({ name: 'Dist', adminEmail: 'owner@example.com', slug: `dist-${suffix}` });
    await container.close();

    const base = `http://127.0.0.1:${api.port}/api/v1`;
    const headers = { authorization: `Bearer ${apiKey.key}`, 'content-type': 'application/json' };
    const template = await fetch(`${base}/templates`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        name: 'Hello',
        slug: 'hello',
        subject: 'Hello',
        mjml_content: '<mjml><mj-body><mj-section><mj-column><mj-text>Hi</mj-text></mj-column></mj-section></mj-body></mjml>',
      }),
    });
    expect(template.status, await template.clone().text()).toBe(201);
    const sent = await fetch(`${base}/emails/send`, { method: 'POST', headers, body: JSON.stringify({ template_slug: 'hello', to: 'reader@example.com' }) });
    expect(sent.status, await sent.clone().text()).toBe(202);
    const { id } = (await sent.json()) as { id: string };
    let status = '';
    for (const deadline = Date.now() + 15_000; Date.now() < deadline && status !== 'sent'; await new Promise((resolve) => setTimeout(resolve, 100))) {
      status = ((await (await fetch(`${base}/emails/${id}`, { headers })).json()) as { status: string }).status;
    }
    expect(status, workerProcess.output()).toBe('sent');

    const metrics = await (await fetch(`http://127.0.0.1:${api.metricsPort}/metrics`)).text();
    expect(metrics).toContain('route="/api/v1/emails/send"');

    await Promise.all([stopsWithin10s(apiProcess), stopsWithin10s(workerProcess), stopsWithin10s(cronProcess)]);
  }, 60_000);
});
