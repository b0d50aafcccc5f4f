import { loadConfig } from '../config/index.ts';
import { createContainer } from '../container.ts';
import { createJobHandlers } from '../jobs/handlers.ts';
import { createWorkerRuntime } from '../jobs/worker.ts';
import { createMetrics } from '../metrics/registry.ts';
import { startMetricsServer } from '../metrics/server.ts';
import { QUEUE_NAMES } from '../jobs/registry.ts';
import { closeOnSignals, exitOnStartupError } from './lifecycle.ts';

// The worker: runs every queue's jobs and serves /health and /metrics on METRICS_HOST:METRICS_PORT (9464).
const DEFAULT_METRICS_PORT = 9464;

try {
  const config = loadConfig();
  const container = createContainer(config, { processName: 'worker' });
  const metrics = createMetrics('worker');
  const runtime = createWorkerRuntime(container, createJobHandlers(container, metrics), metrics);
  const server = await startMetricsServer({
    host: config.METRICS_HOST,
    port: config.METRICS_PORT ?? DEFAULT_METRICS_PORT,
    registry: metrics.registry,
    healthy: () => runtime.running,
    // Queue depth is read when scraped rather than polled.
    beforeScrape: async () => {
      for (const name of QUEUE_NAMES) {
        const counts = await container.queues.get(name).getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized');
        for (const [state, count] of Object.entries(counts)) metrics.queueDepth.set({ queue: name, state }, count);
      }
    },
  });
  closeOnSignals(container.logger, async () => {
    await runtime.close();
    await server.close();
    await container.close();
  });
  await runtime.start();
  container.logger.info({ provider: container.emailProvider.name, rate_limit_per_second: container.providerRateLimitPerSecond || 'unlimited', metrics_port: server.port }, 'worker started');
} catch (error) {
  exitOnStartupError(error);
}
