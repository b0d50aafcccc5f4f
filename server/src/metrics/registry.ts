import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** A registry with the process basics (CPU, memory, event loop, GC). Each process has its own, never the global one. */
function processRegistry(processName: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ process: processName });
  collectDefaultMetrics({ register: registry });
  return registry;
}

const queueDepthGauge = (registry: Registry) =>
  new Gauge({ name: 'sf_queue_jobs', help: 'Jobs per queue and state, read at scrape time', labelNames: ['queue', 'state'] as const, registers: [registry] });

/**
 * The metrics of one worker or cron process: process basics plus job and email counters. Tests can
 * build several (no global default registry).
 */
export function createMetrics(processName: string) {
  const registry = processRegistry(processName);
  return {
    registry,
    jobs: new Counter({
      name: 'sf_jobs_total',
      help: 'Jobs finished, by queue, job name and outcome',
      labelNames: ['queue', 'name', 'outcome'] as const,
      registers: [registry],
    }),
    jobSeconds: new Histogram({
      name: 'sf_job_duration_seconds',
      help: 'Time handlers took',
      labelNames: ['queue', 'name'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    emails: new Counter({
      name: 'sf_emails_total',
      help: 'Emails handed to the provider, by provider and outcome',
      labelNames: ['provider', 'outcome'] as const,
      registers: [registry],
    }),
    queueDepth: queueDepthGauge(registry),
    cronEnqueued: new Counter({
      name: 'sf_cron_enqueued_total',
      help: 'Jobs the cron process enqueued, by schedule',
      labelNames: ['schedule'] as const,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * The API process's metrics: request durations by route pattern (never the raw URL, so ids and tokens
 * neither leak into labels nor multiply series) and status code, plus the queue depths and the outbox
 * lag read at scrape time.
 */
export function createApiMetrics(processName = 'api') {
  const registry = processRegistry(processName);
  return {
    registry,
    httpSeconds: new Histogram({
      name: 'sf_http_request_duration_seconds',
      help: 'Time from request to response, by method, route pattern and status code',
      labelNames: ['method', 'route', 'status_code'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    queueDepth: queueDepthGauge(registry),
    outboxLagSeconds: new Gauge({
      name: 'sf_outbox_lag_seconds',
      help: 'Age of the oldest outbox event not yet relayed (0 when none), read at scrape time',
      registers: [registry],
    }),
  };
}

export type ApiMetrics = ReturnType<typeof createApiMetrics>;
