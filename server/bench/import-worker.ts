// The worker side of bench/import.ts: builds the container as the worker does and runs one import job.
import { loadConfig } from '../src/config/index.ts';
import { createContainer } from '../src/container.ts';
import { createMetrics } from '../src/metrics/registry.ts';

const container = createContainer(loadConfig(), { processName: 'worker' });
const handler = container.jobHandlers(createMetrics('bench-worker'))['import.process'];
// The worker process is long-lived: the import is timed from the job's start, and the RSS before it is
// reported too, so the import's own memory shows.
const rssBeforeMb = Math.round(process.memoryUsage().rss / 1024 / 1024);
const started = performance.now();
const result = await handler(
  { import_id: process.argv[2]!, dry_run: false },
  {
    jobId: 'bench',
    attemptsMade: 0,
    attempt: 1,
    lastAttempt: true,
    signal: new AbortController().signal,
    log: container.logger,
    rateLimited: async () => {
      throw new Error('rate limited');
    },
    unrecoverable: (m) => new Error(m),
    giveBack: async () => {
      throw new Error('given back');
    },
    postpone: async () => {
      throw new Error('postponed');
    },
  },
);
const jobSeconds = (performance.now() - started) / 1000;
process.send!({ result, jobSeconds, rssBeforeMb, maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024) });
await container.close();
