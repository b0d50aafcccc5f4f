// `npm run bench:webhooks -w server`: outbox events delivered as signed webhooks by the compiled worker,
// to one endpoint on a local receiver that answers 204 at once. Events are written in batches of 50 and
// nothing kicks the relay: the worker's relay is woken by each commit (LISTEN/NOTIFY). Two phases:
//   burst:  BENCH_EVENTS (default 10,000) written as fast as possible: deliveries per second (first event
//           written to last delivery received);
//   steady: a quarter as many at BENCH_EVENT_RATE per second (default 500): event-to-delivery latency
//           (the event row's created_at to the receiver's arrival time) p50/p99 when the worker keeps up.
// Also the worker's peak RSS.
// Targets: ≥ 1,000 deliveries/s, p50 ≤ 500 ms. BENCH_CAP sets WEBHOOKS_CONCURRENCY_PER_ENDPOINT (default 10);
// BENCH_WORKER_NODE_OPTIONS adds Node options to the worker (e.g. --cpu-prof --cpu-prof-dir=…).
import { execFileSync, fork } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { loadConfig } from '../src/config/index.ts';
import { createContainer } from '../src/container.ts';
import { insertEvents } from '../src/modules/events/index.ts';
import { freePort, peakRssMb, scratchDatabase, serverDir, verdict } from './harness.ts';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 10_000);
const CAP = process.env.BENCH_CAP ?? '10';
const BATCH = 50;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

execFileSync(process.execPath, [path.join(serverDir, '../node_modules/typescript/bin/tsc'), '-p', path.join(serverDir, 'tsconfig.build.json')], {
  stdio: 'inherit',
});
const database = await scratchDatabase();
const prefix = `benchwh${process.pid}`;
const base = {
  DATABASE_URL: database.url,
  REDIS_URL,
  REDIS_PREFIX: prefix,
  TOKEN_SECRET: 'bench-secret-bench-secret-bench-secret-0000',
  LOG_LEVEL: 'warn',
  WEBHOOKS_ALLOW_PRIVATE_HOSTS: '127.0.0.1',
  WEBHOOKS_CONCURRENCY_PER_ENDPOINT: CAP,
};

// The receiver: records when each event id arrived.
const arrivals = new Map<string, number>();
let duplicates = 0;
const receiver = http.createServer((request, response) => {
  request.resume();
  request.on('end', () => {
    const id = String(request.headers['webhook-id']);
    if (arrivals.has(id)) duplicates += 1;
    else arrivals.set(id, Date.now());
    response.writeHead(204).end();
  });
});
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const receiverPort = (receiver.address() as { port: number }).port;

// This process plays the API: it writes the events.
const container = createContainer(loadConfig({ ...base, DATABASE_POOL_MAX: '10' }), { processName: 'bench' });
const { organization } = await container.services.organizations.createWithOwner({ name: 'Bench Hooks', adminEmail: 'bench@hooks.test' });
await container.services.webhooks.create(organization.id, { url: `http://127.0.0.1:${receiverPort}/hook`, events: ['*'] });

const metricsPort = await freePort();
const worker = fork(path.join(serverDir, 'dist/entrypoints/worker.js'), [], {
  env: {
    ...process.env,
    ...base,
    METRICS_PORT: String(metricsPort),
    NODE_OPTIONS: `--max-semi-space-size=8 --max-old-space-size=192 ${process.env.BENCH_WORKER_NODE_OPTIONS ?? ''}`,
  },
  stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
});
// A crash of this process must not leave the worker running.
process.on('exit', () => worker.kill('SIGKILL'));
for (const deadline = Date.now() + 20_000; ;) {
  if (worker.exitCode !== null) throw new Error(`worker exited early with ${worker.exitCode}`);
  if (
    await fetch(`http://127.0.0.1:${metricsPort}/health`).then(
      (r) => r.ok,
      () => false,
    )
  )
    break;
  if (Date.now() > deadline) throw new Error('worker did not start');
  await new Promise((resolve) => setTimeout(resolve, 20));
}

interface Phase {
  name: string;
  events: number;
  rate: number;
}
let rss = 0;

/** Writes the phase's events (rate 0: as fast as possible) and waits until the receiver has them all. */
async function run(phase: Phase) {
  arrivals.clear();
  duplicates = 0;
  const started = Date.now();
  for (let written = 0; written < phase.events; written += BATCH) {
    const due = started + (phase.rate > 0 ? (written / phase.rate) * 1000 : 0);
    if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
    const count = Math.min(BATCH, phase.events - written);
    await insertEvents(
      container.db,
      organization.id,
      Array.from({ length: count }, (_, i) => ({
        type: 'subscriber.note_added' as const,
        subjectId: null,
        payload: {
          subscriber: { id: '00000000-0000-7000-8000-000000000000', email: `bench${written + i}@hooks.test` },
          note: { id: '00000000-0000-7000-8000-000000000001' },
        },
      })),
    );
  }
  const written = Date.now();
  for (const deadline = Date.now() + 300_000; arrivals.size < phase.events && Date.now() < deadline;) await new Promise((resolve) => setTimeout(resolve, 50));
  const finished = Math.max(...arrivals.values());
  rss = Math.max(rss, peakRssMb(worker.pid!));
  const ids = [...arrivals.keys()];
  const created = new Map<string, number>();
  for (let i = 0; i < ids.length; i += 1000) {
    for (const e of await container.db
      .selectFrom('events')
      .select(['id', 'created_at'])
      .where('id', 'in', ids.slice(i, i + 1000))
      .execute())
      created.set(e.id, e.created_at.getTime());
  }
  const latencies = [...arrivals].map(([id, at]) => at - created.get(id)!).sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? Number.NaN;
  const seconds = (finished - started) / 1000;
  return {
    ...phase,
    delivered: arrivals.size,
    duplicates,
    writeSeconds: (written - started) / 1000,
    seconds,
    throughput: arrivals.size / seconds,
    p50: pct(50),
    p99: pct(99),
  };
}

// Burst: every event written as fast as possible (throughput; latency includes the backlog). Steady: half
// the target rate, the latency of an event when the worker keeps up.
const burst = await run({ name: 'burst', events: EVENTS, rate: 0 });
const steady = await run({ name: 'steady', events: Math.round(EVENTS / 4), rate: Number(process.env.BENCH_EVENT_RATE ?? 500) });

console.log(`\none endpoint, per-endpoint cap ${CAP}, worker peak RSS ${rss} MB`);
console.log('\n| phase | events | write rate/s | written in s | deliveries/s | p50 ms | p99 ms | duplicates |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
for (const r of [burst, steady]) {
  console.log(
    `| ${r.name} | ${r.delivered}/${r.events} | ${r.rate || 'max'} | ${r.writeSeconds.toFixed(1)} | ${Math.round(r.throughput)} | ${r.p50} | ${r.p99} | ${r.duplicates} |`,
  );
}
console.log('');
const ok = [
  verdict(
    'every event delivered once',
    [burst, steady].every((r) => r.delivered === r.events && r.duplicates === 0),
    'all phases',
  ),
  verdict('throughput', burst.throughput >= 1000, `${Math.round(burst.throughput)} deliveries/s (target ≥ 1,000)`),
  verdict('latency', steady.p50 <= 500, `p50 ${steady.p50} ms, p99 ${steady.p99} ms at ${steady.rate} events/s (target p50 ≤ 500 ms)`),
].every(Boolean);

await new Promise<void>((resolve) => {
  worker.once('exit', () => resolve());
  worker.kill('SIGTERM');
});
const keys = await container.redis.keys(`${prefix}:*`);
if (keys.length > 0) await container.redis.del(...keys);
await container.close();
receiver.close();
await database.drop();
process.exit(ok ? 0 : 1);
