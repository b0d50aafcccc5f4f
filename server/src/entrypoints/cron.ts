import { loadConfig } from '../config/index.ts';
import { createContainer } from '../container.ts';
import { startCron } from '../jobs/cron.ts';
import { createMetrics } from '../metrics/registry.ts';
import { startMetricsServer } from '../metrics/server.ts';
import { closeOnSignals, exitOnStartupError } from './lifecycle.ts';

// Cron only enqueues (see jobs/cron.ts). /health and /metrics listen on METRICS_PORT, 9465 by default so
// it can run beside a worker on one machine; in containers each process has its own 9464.
const DEFAULT_METRICS_PORT = 9465;

try {
  const config = loadConfig();
  const container = createContainer(config, { processName: 'cron' });
  const metrics = createMetrics('cron');
  let stopping = false;
  const server = await startMetricsServer({ host: config.METRICS_HOST, port: config.METRICS_PORT ?? DEFAULT_METRICS_PORT, registry: metrics.registry, healthy: () => !stopping });
  const scheduler = startCron({ producer: container.jobs, logger: container.logger, metrics });
  closeOnSignals(container.logger, async () => {
    stopping = true;
    await scheduler.stop();
    await server.close();
    await container.close();
  });
  container.logger.info({ schedules: scheduler.tasks.map((task) => task.name), metrics_port: server.port }, 'cron started');
} catch (error) {
  exitOnStartupError(error);
}
