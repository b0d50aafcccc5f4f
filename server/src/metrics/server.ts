import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/**
 * A tiny HTTP server beside a worker or cron process: GET /health answers 200 while the process runs
 * (503 once it is shutting down) for the compose healthcheck, GET /metrics the Prometheus text format.
 * It listens on METRICS_HOST:METRICS_PORT, which is never routed through the tunnel.
 */
export async function startMetricsServer(options: {
  host: string;
  port: number;
  registry: Registry;
  healthy: () => boolean;
  beforeScrape?: () => Promise<void>;
}) {
  const server = http.createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path === '/health') {
      const healthy = options.healthy();
      response.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      response.end(JSON.stringify({ status: healthy ? 'ok' : 'shutting_down' }));
    } else if (path === '/metrics') {
      void (async () => {
        try {
          await options.beforeScrape?.();
          const body = await options.registry.metrics();
          response.writeHead(200, { 'content-type': options.registry.contentType }).end(body);
        } catch {
          response.writeHead(500).end();
        }
      })();
    } else {
      response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not_found' }));
    }
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    async close(): Promise<void> {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
