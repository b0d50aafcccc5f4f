import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The metrics of one worker or cron process: process basics (CPU, memory, event loop) plus job and
 * email counters. Each process has its own registry (no global default), so tests can build several.
 */
export function createMetrics(processName: string) {
  const registry = new Registry();
  registry.setDefaultLabels({ process: processName });
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    jobs: new Counter({ name: 'sf_jobs_total', help: 'Jobs finished, by queue, job name and outcome', labelNames: ['queue', 'name', 'outcome'] as const, registers: [registry] }),
    jobSeconds: new Histogram({ name: 'sf_job_duration_seconds', help: 'Time handlers took', labelNames: ['queue', 'name'] as const, buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [registry] }),
    emails: new Counter({ name: 'sf_emails_total', help: 'Emails handed to the provider, by provider and outcome', labelNames: ['provider', 'outcome'] as const, registers: [registry] }),
    queueDepth: new Gauge({ name: 'sf_queue_jobs', help: 'Jobs per queue and state, read at scrape time', labelNames: ['queue', 'state'] as const, registers: [registry] }),
    cronEnqueued: new Counter({ name: 'sf_cron_enqueued_total', help: 'Jobs the cron process enqueued, by schedule', labelNames: ['schedule'] as const, registers: [registry] }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
