import { loadConfig } from '../config/index.ts';
import { createContainer } from '../container.ts';
import { createWorkerRuntime } from '../jobs/worker.ts';
import { startErrorReporter } from '../error-reporting.ts';
import { collectQueueDepth, throttleCollection } from '../metrics/collect.ts';
import { createMetrics } from '../metrics/registry.ts';
import { startMetricsServer } from '../metrics/server.ts';
import { closeOnSignals, exitOnStartupError } from './lifecycle.ts';

// The worker: runs every queue's jobs and serves /health and /metrics on METRICS_HOST:METRICS_PORT (9464).
const DEFAULT_METRICS_PORT = 9464;

try {
  const config = loadConfig();
  const errors = await startErrorReporter(config, 'worker');
  const container = createContainer(config, { processName: 'worker', errors });
  await container.start();
  const metrics = createMetrics('worker');
  const runtime = createWorkerRuntime(container, container.jobHandlers(metrics), metrics);
  const server = await startMetricsServer({
    host: config.METRICS_HOST,
    port: config.METRICS_PORT ?? DEFAULT_METRICS_PORT,
    registry: metrics.registry,
    healthy: () => runtime.running,
    // Queue depth is read when scraped rather than polled, at most every 5 seconds.
    beforeScrape: throttleCollection(() => collectQueueDepth(container.queues, metrics.queueDepth), 5000),
  });
  closeOnSignals(container.logger, async () => {
    await runtime.close();
    await server.close();
    await container.close();
  });
  await runtime.start();
  container.logger.info(
    { provider: container.emailProvider.name, rate_limit_per_second: container.providerRateLimitPerSecond || 'unlimited', metrics_port: server.port },
    'worker started',
  );
} catch (error) {
  exitOnStartupError(error);
}
