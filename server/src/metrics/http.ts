import type { FastifyInstance } from 'fastify';
import type { ApiMetrics } from './registry.ts';

// Requests no route matched (404s for scanners' guesses) share one label instead of one series per URL.
const UNMATCHED = 'unmatched';

/** Times every response by method, route pattern (`/api/v1/subscribers/:id`) and status code. */
export function registerHttpMetrics(app: FastifyInstance, metrics: ApiMetrics): void {
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? UNMATCHED;
    metrics.httpSeconds.observe({ method: request.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
    done();
  });
}
