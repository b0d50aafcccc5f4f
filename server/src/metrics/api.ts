import type { Queues } from '../jobs/queues.ts';
import { collectQueueDepth, throttleCollection } from './collect.ts';
import type { ApiMetrics } from './registry.ts';
import { startMetricsServer } from './server.ts';

// However often Prometheus (or anyone on the internal network) scrapes, the queues and the outbox are
// read at most this often.
const COLLECT_INTERVAL_MS = 5000;

/**
 * The API's internal listener: /health and /metrics on METRICS_HOST:METRICS_PORT, apart from the public
 * port, so the tunnel (which routes only to PORT) never reaches it. Queue depths and the outbox lag are
 * read when scraped: five small Redis reads and one indexed row.
 */
export async function startApiMetricsServer(
  sources: { queues: Queues; outboxLagSeconds: () => Promise<number> },
  metrics: ApiMetrics,
  options: { host: string; port: number; healthy: () => boolean },
) {
  return startMetricsServer({
    ...options,
    registry: metrics.registry,
    beforeScrape: throttleCollection(async () => {
      await Promise.all([
        collectQueueDepth(sources.queues, metrics.queueDepth),
        sources.outboxLagSeconds().then((seconds) => metrics.outboxLagSeconds.set(seconds)),
      ]);
    }, COLLECT_INTERVAL_MS),
  });
}
