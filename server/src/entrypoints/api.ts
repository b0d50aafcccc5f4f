import { buildApp } from '../app.ts';
import { loadConfig } from '../config/index.ts';
import { createContainer } from '../container.ts';
import { startErrorReporter } from '../error-reporting.ts';
import { startApiMetricsServer } from '../metrics/api.ts';
import { createApiMetrics } from '../metrics/registry.ts';
import { closeOnSignals, exitOnStartupError } from './lifecycle.ts';

// The public API listens on HOST:PORT (the only port the tunnel routes to). Its /metrics and a second
// /health listen apart, on METRICS_HOST:METRICS_PORT: 9466 by default, so it runs beside a worker (9464)
// and cron (9465) on one machine; in containers each process has its own 9464.
const DEFAULT_METRICS_PORT = 9466;

try {
  const config = loadConfig();
  const errors = await startErrorReporter(config, 'api');
  const container = createContainer(config, { processName: 'api', errors });
  await container.start();
  const metrics = createApiMetrics();
  const app = await buildApp(container, { metrics });
  let stopping = false;
  const metricsServer = await startApiMetricsServer(container, metrics, {
    host: config.METRICS_HOST,
    port: config.METRICS_PORT ?? DEFAULT_METRICS_PORT,
    healthy: () => !stopping,
  });
  closeOnSignals(container.logger, async () => {
    stopping = true;
    await app.close();
    await metricsServer.close();
    await container.close();
  });
  await app.listen({ host: config.HOST, port: config.PORT });
  container.logger.info({ metrics_port: metricsServer.port }, 'api metrics listening');
} catch (error) {
  exitOnStartupError(error);
}
