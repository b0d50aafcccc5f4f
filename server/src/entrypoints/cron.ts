import { loadPartialConfig } from '../config/index.ts';
import { SCHEDULES } from '../container.ts';
import { startCron } from '../jobs/cron.ts';
import { createJobProducer } from '../jobs/producer.ts';
import { closeConnection, createProducerConnection, createQueues } from '../jobs/queues.ts';
import { createLogger } from '../logger.ts';
import { createMetrics } from '../metrics/registry.ts';
import { startMetricsServer } from '../metrics/server.ts';
import { closeOnSignals, exitOnStartupError } from './lifecycle.ts';

// Cron only enqueues (see jobs/cron.ts), so it needs Redis and nothing else: no database, no secrets.
// /health and /metrics listen on METRICS_PORT, 9465 by default so it can run beside a worker (9464) on
// one machine; in containers each process has its own 9464.
const DEFAULT_METRICS_PORT = 9465;

try {
  const config = loadPartialConfig(['REDIS_URL', 'REDIS_PREFIX', 'LOG_LEVEL', 'METRICS_HOST', 'METRICS_PORT']);
  const logger = createLogger(config, 'cron');
  const connection = createProducerConnection(config.REDIS_URL);
  connection.on('error', (error) => logger.warn({ err: error }, 'Redis connection error'));
  const queues = createQueues(connection, config.REDIS_PREFIX);
  const metrics = createMetrics('cron');
  let stopping = false;
  const server = await startMetricsServer({
    host: config.METRICS_HOST,
    port: config.METRICS_PORT ?? DEFAULT_METRICS_PORT,
    registry: metrics.registry,
    healthy: () => !stopping,
  });
  const scheduler = startCron({ producer: createJobProducer(queues), logger, metrics, schedules: SCHEDULES, connection });
  closeOnSignals(logger, async () => {
    stopping = true;
    await scheduler.stop();
    await server.close();
    await queues.close();
    await closeConnection(connection);
  });
  logger.info({ schedules: scheduler.tasks.map((task) => task.name), metrics_port: server.port }, 'cron started');
} catch (error) {
  exitOnStartupError(error);
}
