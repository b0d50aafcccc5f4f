import http from 'node:http';
import https from 'node:https';
import { guardedLookup, parseTargetUrl, type TargetPolicy } from './ssrf.ts';

/** Bytes of a receiver's answer kept in the delivery log; the rest is not even read. */
export const RESPONSE_SNIPPET_BYTES = 2048;

export interface SendResult {
  statusCode: number | null;
  responseSnippet: string | null;
  durationMs: number;
  error: string | null;
}

/**
 * Posts one signed body to a customer's endpoint. The URL is checked again (a literal address) and its
 * name is resolved through the SSRF guard in the connection's own lookup; redirects are not followed (a
 * 3xx is a failed attempt); the whole exchange has `timeoutMs`; at most RESPONSE_SNIPPET_BYTES of the
 * answer are read. Never throws: every outcome is a result to log.
 */
export function createSender(deps: { policy: TargetPolicy; timeoutMs: number; maxSocketsPerHost?: number }) {
  const lookup = guardedLookup(deps.policy);
  // Keep-alive agents: a receiver that gets many deliveries reuses its connections. A reused socket
  // goes to the address checked when it was opened. One socket per attempt the endpoint cap allows.
  const maxSockets = Math.max(16, deps.maxSocketsPerHost ?? 0);
  const agents = { http: new http.Agent({ keepAlive: true, maxSockets, lookup }), https: new https.Agent({ keepAlive: true, maxSockets, lookup }) };

  async function send(rawUrl: string, headers: Record<string, string>, body: string): Promise<SendResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    let url: URL;
    try {
      url = parseTargetUrl(rawUrl, deps.policy);
    } catch (error) {
      const detail = (error as { details?: { message: string }[] }).details?.[0]?.message ?? (error as Error).message;
      return { statusCode: null, responseSnippet: null, durationMs: 0, error: `refused: ${detail}` };
    }
    const secure = url.protocol === 'https:';
    return new Promise<SendResult>((resolve) => {
      let settled = false;
      const finish = (result: Omit<SendResult, 'durationMs'>) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ ...result, durationMs: elapsed() });
      };
      const request = (secure ? https : http).request(
        url,
        {
          method: 'POST',
          agent: secure ? agents.https : agents.http,
          headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        },
        (response) => {
          const chunks: Buffer[] = [];
          let size = 0;
          const done = () =>
            finish({
              statusCode: response.statusCode ?? null,
              responseSnippet: Buffer.concat(chunks).subarray(0, RESPONSE_SNIPPET_BYTES).toString('utf8'),
              error: null,
            });
          response.on('data', (chunk: Buffer) => {
            if (size >= RESPONSE_SNIPPET_BYTES) return;
            chunks.push(chunk);
            size += chunk.length;
            // Enough kept: stop reading a body that may be endless.
            if (size >= RESPONSE_SNIPPET_BYTES) {
              done();
              response.destroy();
            }
          });
          response.on('end', done);
          response.on('error', done);
          response.on('close', done);
        },
      );
      const timer = setTimeout(() => {
        finish({ statusCode: null, responseSnippet: null, error: `timed out after ${deps.timeoutMs} ms` });
        request.destroy();
      }, deps.timeoutMs);
      request.on('error', (error: NodeJS.ErrnoException) => {
        finish({
          statusCode: null,
          responseSnippet: null,
          error: error.code === 'EBLOCKED' ? `refused: ${error.message}` : `${error.code ?? 'error'}: ${error.message}`,
        });
      });
      request.end(body);
    });
  }

  return {
    send,
    close(): void {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}

export type Sender = ReturnType<typeof createSender>;
