import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The envelope, as the standardwebhooks library returned it after verifying the signature. */
  event: { id: string; type: string; created_at: string; data: Record<string, unknown> } | null;
  /** Why verification failed, when it did. */
  verifyError: string | null;
}

/** What the receiver answers to one request: a status, a body, an optional delay before answering. */
export type Answer = { status: number; body?: string; delayMs?: number; headers?: Record<string, string> };

/**
 * A customer's webhook receiver on 127.0.0.1: every request is verified with the independent
 * `standardwebhooks` package against the secret(s) it is given, and recorded. Answers come from a
 * per-path script (one answer per request, the last one repeating), 200 by default.
 */
export async function startReceiver() {
  const received: Received[] = [];
  const secrets = new Map<string, string>();
  const scripts = new Map<string, Answer[]>();
  const inFlight = new Map<string, number>();
  const maxInFlight = new Map<string, number>();
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    const requestPath = request.url ?? '/';
    inFlight.set(requestPath, (inFlight.get(requestPath) ?? 0) + 1);
    maxInFlight.set(requestPath, Math.max(maxInFlight.get(requestPath) ?? 0, inFlight.get(requestPath)!));
    response.on('close', () => inFlight.set(requestPath, inFlight.get(requestPath)! - 1));
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const path = request.url ?? '/';
      const body = Buffer.concat(chunks).toString('utf8');
      const secret = secrets.get(path);
      let event: Received['event'] = null;
      let verifyError: string | null = secret ? null : 'no secret for this path';
      if (secret) {
        try {
          event = new Webhook(secret).verify(body, request.headers as Record<string, string>) as Received['event'];
        } catch (error) {
          verifyError = (error as Error).message;
        }
      }
      received.push({ path, headers: request.headers, body, event, verifyError });
      const script = scripts.get(path) ?? [];
      const answer = (script.length > 1 ? script.shift() : script[0]) ?? { status: 200, body: 'ok' };
      const reply = () => {
        if (response.destroyed) return;
        response.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers });
        response.end(answer.body ?? '');
      };
      if (answer.delayMs) setTimeout(reply, answer.delayMs);
      else reply();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    received,
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    /** Verifies requests to `path` with `secret` from now on. */
    expect(path: string, secret: string) {
      secrets.set(path, secret);
    },
    /** Answers requests to `path` with these answers in turn, the last one repeating. */
    script(path: string, answers: Answer[]) {
      scripts.set(path, [...answers]);
    },
    at: (path: string) => received.filter((r) => r.path === path),
    /** The most requests to `path` that were open at the same time. */
    maxInFlight: (path: string) => maxInFlight.get(path) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export type Receiver = Awaited<ReturnType<typeof startReceiver>>;
