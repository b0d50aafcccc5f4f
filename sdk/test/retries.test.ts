import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectionError, RateLimitError, ServerError, SubscribeFlowClient, TimeoutError } from '../src/index.ts';

// A local server that answers from a script, one entry per request, and records what it was sent.
interface Seen {
  method: string;
  url: string;
  idempotencyKey: string | undefined;
  at: number;
}
let server: Server | undefined;

async function scripted(answers: ((res: ServerResponse) => void)[]): Promise<{ baseUrl: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  server = createServer((req: IncomingMessage, res) => {
    seen.push({ method: req.method!, url: req.url!, idempotencyKey: req.headers['idempotency-key'] as string | undefined, at: Date.now() });
    req.resume();
    const answer = answers[Math.min(seen.length - 1, answers.length - 1)]!;
    answer(res);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const json =
  (status: number, body: unknown, headers: Record<string, string> = {}) =>
  (res: ServerResponse) => {
    res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': `req-${status}`, ...headers }).end(JSON.stringify(body));
  };
const unavailable = (retryAfter: string) =>
  json(503, { error: { code: 'unavailable', message: 'Try again', request_id: 'req-503' } }, { 'retry-after': retryAfter });
const page = json(200, { items: [], next_cursor: null });

afterEach(async () => {
  const running = server;
  server = undefined;
  if (!running) return;
  running.closeAllConnections();
  await new Promise((resolve) => running.close(resolve));
});

describe('retries', () => {
  it('retries a GET answered 503 and returns the 200 that follows', async () => {
    const { baseUrl, seen } = await scripted([unavailable('0'), page]);
    const sf = new SubscribeFlowClient({ apiKey: 'sf_test_x', baseUrl });
    await expect(sf.tags.list()).resolves.toEqual({ items: [], next_cursor: null });
    expect(seen).toHaveLength(2);
  });

  it('waits the Retry-After of a 429 before retrying', async () => {
    const limited = json(429, { error: { code: 'rate_limited', message: 'Slow down', request_id: 'r' } }, { 'retry-after': '1' });
    const { baseUrl, seen } = await scripted([limited, page]);
    const sf = new SubscribeFlowClient({ apiKey: 'sf_test_x', baseUrl });
    await sf.subscribers.list();
    expect(seen).toHaveLength(2);
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it('gives up after maxRetries with the typed error of the last answer', async () => {
    const { baseUrl, seen } = await scripted([unavailable('0')]);
    const sf = new SubscribeFlowClient({ apiKey: 'sf_test_x', baseUrl, maxRetries: 2 });
    const error = await sf.tags.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServerError);
    expect(error).toMatchObject({ status: 503, code: 'unavailable', requestId: 'req-503' });
    expect(seen).toHaveLength(3);
  });

  it('retries a creating POST with the same Idempotency-Key it generated, so the server can answer once', async () => {
    const { baseUrl, seen } = await scripted([unavailable('0'), json(201, { id: 'x' })]);
    const sf = new SubscribeFlowClient({ apiKey: 'sf_test_x', baseUrl });
    await sf.subscribers.create({ email: 'a@example.com' });
    expect(seen).toHaveLength(2);
    expect(seen[0]!.idempotencyKey).toMatch(/^[0-9a-f-]{36}$/);
    expect(seen[1]!.idempotencyKey).toBe(seen[0]!.idempotencyKey);
  });

  it('never retries a POST without an Idempotency-Key (it could act twice)', async () => {
    const { baseUrl, seen } = await scripted([unavailable('0'), json(200, {})]);
    const sf = new SubscribeFlowClient({ apiKey: 'sf_test_x', baseUrl });
    await expect(sf.preferenceCenter('t'.repeat(20)).unsubscribeAll()).rejects.toBeInstanceOf(ServerError);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.idempotencyKey).toBeUndefined();
  });

  it('exposes Retry-After on a RateLimitError it does not retry', async () => {
    const limited = json(429, { error: { code: 'rate_limited', message: 'Slow down', request_id: 'r' } }, { 'retry-after': '120' });
    const { baseUrl, seen } = await scripted([limited]);
    const sf = new SubscribeFlowClient({ apiKey: 'sf_test_x', baseUrl });
    const error = await sf.tags.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    expect((error as RateLimitError).retryAfter).toBe(120);
    // Two minutes is longer than a client should block: the caller decides.
    expect(seen).toHaveLength(1);
  });
});

describe('timeouts and cancellation', () => {
  it('fails with TimeoutError when no answer comes in time', async () => {
    const { baseUrl, seen } = await scripted([
      () => {
        /* never answers */
      },
    ]);
    const sf = new SubscribeFlowClient({ apiKey: 'sf_test_x', baseUrl, timeout: 200, maxRetries: 1 });
    const started = Date.now();
    const error = await sf.tags.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ status: 0, code: 'timeout' });
    expect(seen).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("stops at once when the caller's AbortSignal fires, without retrying", async () => {
    const { baseUrl, seen } = await scripted([
      () => {
        /* never answers */
      },
    ]);
    const sf = new SubscribeFlowClient({ apiKey: 'sf_test_x', baseUrl });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    await expect(sf.tags.list({}, { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(seen).toHaveLength(1);
  });

  it('reports an unreachable server as ConnectionError after retrying', async () => {
    const { baseUrl } = await scripted([page]);
    await new Promise((resolve) => server!.close(resolve));
    server = undefined;
    const sf = new SubscribeFlowClient({ apiKey: 'sf_test_x', baseUrl, maxRetries: 1 });
    await expect(sf.tags.list()).rejects.toMatchObject({ constructor: ConnectionError, code: 'connection_error' });
  });
});

describe('uploads and downloads', () => {
  it('never retries an upload from a stream (it can be read once), even with an idempotency key', async () => {
    const { baseUrl, seen } = await scripted([unavailable('0'), json(202, { id: 'x' })]);
    const sf = new SubscribeFlowClient({ apiKey: 'sf_test_x', baseUrl, maxRetries: 3 });
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode('email\na@example.com\n'));
        c.close();
      },
    });
    await expect(sf.imports.create(stream, {}, { idempotencyKey: 'upload-1' })).rejects.toBeInstanceOf(ServerError);
    expect(seen).toHaveLength(1);
  });

  it('does not cut an upload off at the client timeout, only at a timeout given for the call', async () => {
    const slow = (res: ServerResponse) => setTimeout(() => json(202, { id: 'x' })(res), 500);
    const { baseUrl, seen } = await scripted([slow]);
    const sf = new SubscribeFlowClient({ apiKey: 'sf_test_x', baseUrl, timeout: 200 });
    await expect(sf.imports.create(new Blob(['email\na@example.com\n']))).resolves.toEqual({ id: 'x' });
    await expect(sf.imports.create(new Blob(['email\n']), {}, { timeout: 200 })).rejects.toBeInstanceOf(TimeoutError);
    expect(seen).toHaveLength(2);
  });

  it('applies the timeout to the start of a download, not to reading a long one', async () => {
    const { baseUrl } = await scripted([
      (res) => {
        res.writeHead(200, { 'content-type': 'text/csv' });
        res.write('email\n');
        let rows = 0;
        const timer = setInterval(() => {
          rows += 1;
          res.write(`row${rows}@example.com\n`);
          if (rows === 6) {
            clearInterval(timer);
            res.end();
          }
        }, 100);
      },
    ]);
    const sf = new SubscribeFlowClient({ apiKey: 'sf_test_x', baseUrl, timeout: 200 });
    const started = Date.now();
    const text = await new Response(await sf.subscribers.export()).text();
    expect(Date.now() - started).toBeGreaterThan(500);
    expect(text.trim().split('\n')).toHaveLength(7);
  });

  it('times out a download whose answer does not start', async () => {
    const { baseUrl } = await scripted([() => undefined]);
    const sf = new SubscribeFlowClient({ apiKey: 'sf_test_x', baseUrl, timeout: 200, maxRetries: 0 });
    await expect(sf.subscribers.export()).rejects.toBeInstanceOf(TimeoutError);
  });
});
