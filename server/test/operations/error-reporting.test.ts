import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { startErrorReporter, noErrorReporter } from '../../src/error-reporting.ts';
import { createTestContext, type TestContext } from '../support/context.ts';

// A stand-in for Sentry's ingest: it records the envelopes the real SDK posts to the DSN's host.
const envelopes: { path: string; body: string }[] = [];
const fake = http.createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const raw = Buffer.concat(chunks);
    envelopes.push({ path: request.url ?? '', body: (request.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8') });
    response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
const dsn = `http://publickey@127.0.0.1:${(fake.address() as AddressInfo).port}/42`;

let ctx: TestContext | undefined;
afterAll(async () => {
  await ctx?.close();
  await new Promise((resolve) => fake.close(resolve));
});

describe('error reporting', () => {
  it('initialises nothing without SENTRY_DSN', async () => {
    const reporter = await startErrorReporter({}, 'api');
    expect(reporter).toBe(noErrorReporter);
    // The SDK has no client: nothing was initialised, so nothing can be sent.
    const Sentry = await import('@sentry/node');
    expect(Sentry.getClient()).toBeUndefined();
  });

  it('sends a 500 to the DSN, with the request id and without the query string', async () => {
    const errors = await startErrorReporter({ SENTRY_DSN: dsn }, 'api');
    expect(errors).not.toBe(noErrorReporter);
    ctx = await createTestContext({}, { errors });
    // A route that fails the way a bug would: registered on a copy of the app built the same way.
    const { buildApp } = await import('../../src/app.ts');
    const app = await buildApp(ctx.container);
    app.get('/boom', { schema: { hide: true }, config: { access: { public: true } } }, async () => {
      throw new Error('kaboom in a handler');
    });
    await app.ready();
    // Built at run time, so the source lines Sentry attaches to the stack frames do not contain it.
    const token = ['signed', 'link', 'token'].join('-');
    const res = await app.inject({ method: 'GET', url: `/boom?token=${token}`, headers: { 'x-request-id': 'req-500' } });
    expect(res.statusCode).toBe(500);
    expect(res.json().error.code).toBe('internal_error');
    await app.close();
    await errors.close(5000);

    const events = envelopes.filter((e) => e.path.startsWith('/api/42/envelope'));
    expect(events.length).toBeGreaterThan(0);
    const body = events.map((e) => e.body).join('\n');
    expect(body).toContain('kaboom in a handler');
    expect(body).toContain('"request_id":"req-500"');
    expect(body).not.toContain(token);
  });
});
