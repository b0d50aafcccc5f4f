import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config/index.ts';
import { createContainer } from '../src/container.ts';
import { createTestContext, TEST_TOKEN_SECRET, type TestContext } from './support/context.ts';

const run = promisify(execFile);
const serverDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(() => ctx.close());

describe('health and readiness', () => {
  it('reports liveness and readiness when PostgreSQL and Redis answer', async () => {
    expect((await ctx.app.inject({ method: 'GET', url: '/health' })).json()).toEqual({ status: 'ok' });
    const ready = await ctx.app.inject({ method: 'GET', url: '/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready', checks: { postgres: 'ok', redis: 'ok' } });
  });

  it('answers /ready with 503 naming what is unreachable', async () => {
    const config = loadConfig({
      ...Object.fromEntries(Object.entries(ctx.config).map(([k, v]) => [k, String(v)])),
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none',
      TOKEN_SECRET: TEST_TOKEN_SECRET,
      LOG_LEVEL: 'silent',
      TRUST_PROXY: 'false',
      CORS_ORIGINS: '',
    });
    const container = createContainer(config, { processName: 'test' });
    const app = await buildApp(container);
    try {
      const res = await app.inject({ method: 'GET', url: '/ready' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({ status: 'not_ready', checks: { postgres: 'unreachable', redis: 'ok' } });
      expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    } finally {
      await app.close();
      await container.close();
    }
  });
});

describe('OpenAPI document', () => {
  it('is OpenAPI 3.1 with an operationId, a summary and declared responses for every operation', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/openapi.json' });
    const doc = res.json();
    expect(doc.openapi).toBe('3.1.0');
    const operations = Object.entries(
      doc.paths as Record<string, Record<string, { operationId?: string; summary?: string; responses?: object; security?: unknown }>>,
    ).flatMap(([p, methods]) => Object.entries(methods).map(([method, op]) => ({ path: p, method, ...op })));
    expect(operations.length).toBeGreaterThan(15);
    const ids = operations.map((o) => o.operationId);
    expect(ids.every(Boolean)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    for (const op of operations) {
      expect(op.summary, `${op.method} ${op.path}`).toBeTruthy();
      expect(Object.keys(op.responses ?? {}).length, `${op.method} ${op.path}`).toBeGreaterThan(0);
      if (op.path.startsWith('/api/v1/') && !('x-public' in op))
        expect(op.security ?? (op as Record<string, unknown>)['x-public'], `${op.method} ${op.path} security`).toBeDefined();
    }
  });

  it('serves an API reference page at /docs', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/docs/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/html');
  });
});

describe('operator CLI', () => {
  const cli = (args: string[]) =>
    run(process.execPath, ['src/cli.ts', ...args], {
      cwd: serverDir,
      env: { ...process.env, DATABASE_URL: ctx.databaseUrl, REDIS_URL: ctx.config.REDIS_URL, TOKEN_SECRET: TEST_TOKEN_SECRET, LOG_LEVEL: 'silent' },
    });

  it('create-org prints one JSON object whose live key works with every scope', async () => {
    const { stdout } = await cli(['create-org', '--name', 'CLI Corp', '--admin-email', 'ops@cli.test']);
    const out = JSON.parse(stdout);
    expect(out).toMatchObject({ organization_id: expect.any(String), organization_slug: 'cli-corp', api_key: expect.stringMatching(/^sf_live_/) });
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/api/v1/subscribers',
      headers: { authorization: `Bearer ${out.api_key}` },
      payload: { email: 'first@cli.test' },
    });
    expect(res.statusCode).toBe(201);
    const keys = await ctx.app.inject({ method: 'GET', url: '/api/v1/api-keys', headers: { authorization: `Bearer ${out.api_key}` } });
    expect(keys.json().items[0].scopes.length).toBe(ctx.container.services.apiKeys.allScopes().length);
  });

  it('refuses a second organization of the same name, saying which one exists, and refuses bad arguments', async () => {
    // Running the README's command twice must not leave two organizations a person cannot tell apart.
    const again = cli(['create-org', '--name', 'CLI Corp', '--admin-email', 'ops@cli.test']);
    await expect(again).rejects.toMatchObject({ stderr: expect.stringContaining('An organization named "CLI Corp" already exists (slug "cli-corp")') });
    const count = await ctx.container.db
      .selectFrom('organizations')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('name', '=', 'CLI Corp')
      .executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(1);
    await expect(cli(['create-org', '--name', 'X', '--admin-email', 'nope'])).rejects.toMatchObject({ code: 2 });
  });

  it('seed-demo is idempotent for the organization and hands out a fresh key each time', async () => {
    const first = JSON.parse((await cli(['seed-demo'])).stdout);
    const second = JSON.parse((await cli(['seed-demo'])).stdout);
    expect(second.organization_id).toBe(first.organization_id);
    const get = (key: string) => ctx.app.inject({ method: 'GET', url: '/api/v1/tags', headers: { authorization: `Bearer ${key}` } });
    expect((await get(first.api_key)).json().error.code).toBe('api_key_revoked');
    expect((await get(second.api_key)).statusCode).toBe(200);
  });
});

describe('database types', () => {
  it('the committed kysely-codegen output matches the migrations', async () => {
    await expect(run(process.execPath, ['scripts/db-types.ts', '--verify'], { cwd: serverDir })).resolves.toBeDefined();
  }, 60_000);
});
