// `npm run bench:send -w server`: transactional email through the worker, measured on the compiled worker.
//   1. 10,000 sends through one worker process to the fake Resend server (no latency, no rate limit):
//      emails per second, worker CPU milliseconds per email, worker peak RSS.
//   2. The provider limit set to N requests per second (BENCH_RATE, default 20) with a fake server that
//      refuses anything above N in any sliding second: the achieved rate must stay ≤ N and reach ≥ 95 % of N.
// Targets: ≥ 500 emails/s with one worker process, RSS ≤ 250 MB, no 429 under the limit.
// BENCH_EMAILS changes the count of part 1; BENCH_RATE_SECONDS the length of part 2 (default 15).
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { sql } from 'kysely';
import { loadConfig } from '../src/config/index.ts';
import { createContainer, type Container } from '../src/container.ts';
import { createFakeResend, type FakeResend } from '../test/support/fake-resend.ts';
import { BENCH_LOG_LEVEL, peakRssMb, scratchDatabase, serverDir, startBuiltWorker, verdict } from './harness.ts';

const EMAILS = Number(process.env.BENCH_EMAILS ?? 10_000);
const RATE = Number(process.env.BENCH_RATE ?? 20);
const RATE_SECONDS = Number(process.env.BENCH_RATE_SECONDS ?? 15);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const TOKEN_SECRET = 'bench-secret-bench-secret-bench-secret-0000';

execFileSync(process.execPath, [path.join(serverDir, '../node_modules/typescript/bin/tsc'), '-p', path.join(serverDir, 'tsconfig.build.json')], {
  stdio: 'inherit',
});
const database = await scratchDatabase();
const fake = createFakeResend({ recordBodies: false });
await fake.start();
const prefix = `bench${process.pid}`;
const base = {
  DATABASE_URL: database.url,
  REDIS_URL,
  REDIS_PREFIX: prefix,
  TOKEN_SECRET,
  LOG_LEVEL: BENCH_LOG_LEVEL,
  EMAIL_PROVIDER: 'resend',
  RESEND_API_KEY: 're_bench',
  RESEND_BASE_URL: fake.url,
};
// This process plays the API: it renders and queues the messages before the worker starts.
const container = createContainer(loadConfig({ ...base, PROVIDER_RATE_LIMIT_PER_SECOND: '0', DATABASE_POOL_MAX: '20' }), { processName: 'bench' });
const { organization } = await container.services.organizations.createWithOwner({ name: 'Bench Mail', adminEmail: 'bench@mail.test' });
await container.services.templates.create(organization.id, {
  name: 'Receipt',
  slug: 'receipt',
  subject: 'Your receipt {{ number }}',
  variables_schema: { type: 'object', required: ['name', 'number'] },
  mjml_content:
    '<mjml><mj-body><mj-section><mj-column><mj-text>Hello {{ name }},</mj-text><mj-text>Thank you for order {{ number }}.</mj-text>' +
    '<mj-button href="https://shop.example.com/orders/{{ number }}">View order</mj-button></mj-column></mj-section></mj-body></mjml>',
});

async function queueSends(count: number, tag: string): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 20 }, async () => {
      while (next < count) {
        const i = (next += 1);
        await container.services.emails.send(organization.id, {
          template_slug: 'receipt',
          to: `${tag}${i}@bench.test`,
          variables: { name: `Reader ${i}`, number: i },
        });
      }
    }),
  );
  return count / ((performance.now() - started) / 1000);
}

const startWorker = (env: Record<string, string>) => startBuiltWorker({ ...base, ...env }, 20_000);

async function cpuSeconds(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return Number(/^process_cpu_seconds_total(?:\{[^}]*\})? ([\d.e+-]+)$/m.exec(text)?.[1] ?? Number.NaN);
}

async function waitAllSent(db: Container['db'], expected: number): Promise<number> {
  for (;;) {
    const { count } = await db
      .selectFrom('email_messages')
      .select(sql<number>`count(*)::int`.as('count'))
      .where('status', '=', 'sent')
      .executeTakeFirstOrThrow();
    if (count >= expected) return performance.now();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const sends = (f: FakeResend) => f.requests.filter((r) => r.path === '/emails');

// Part 1: throughput.
const queueRate = await queueSends(EMAILS, 'r');
const worker = await startWorker({ PROVIDER_RATE_LIMIT_PER_SECOND: '0' });
const cpuStart = await cpuSeconds(worker.port);
const started = performance.now();
const finished = await waitAllSent(container.db, EMAILS);
const cpuEnd = await cpuSeconds(worker.port);
const rss = peakRssMb(worker.child.pid!);
await worker.stop();
const seconds = (finished - started) / 1000;
const throughput = EMAILS / seconds;
const cpuMsPerEmail = ((cpuEnd - cpuStart) * 1000) / EMAILS;

// Part 2: the provider's rate limit.
fake.reset();
fake.setRateLimit({ requests: RATE });
const limited = RATE * RATE_SECONDS;
await queueSends(limited, 'l');
const limitedWorker = await startWorker({ PROVIDER_RATE_LIMIT_PER_SECOND: String(RATE) });
await waitAllSent(container.db, EMAILS + limited);
await limitedWorker.stop();
const accepted = sends(fake)
  .filter((r) => r.status === 200)
  .map((r) => r.at)
  .sort((a, b) => a - b);
// The sustained rate: the mean count of requests in a one-second window, over every window (in 10 ms
// steps) between the first request and one second before the last. Bursts or even spacing alike give N.
function sustainedRate(times: number[]): number {
  const counts: number[] = [];
  for (let start = times[0]!, from = 0; start + 1000 <= times.at(-1)!; start += 10) {
    while (times[from]! < start) from += 1;
    let to = from;
    while (to < times.length && times[to]! < start + 1000) to += 1;
    counts.push(to - from);
  }
  return counts.reduce((sum, n) => sum + n, 0) / counts.length;
}
const achieved = sustainedRate(accepted);
const maxInSecond = fake.maxRequestsInWindow(1000, (r) => r.path === '/emails');
const refused = sends(fake).filter((r) => r.status === 429).length;

console.log(`\nqueued by the API side: ${Math.round(queueRate)} emails/s (rendering, quota and insert; not the target)`);
console.log('\n| run | emails | seconds | emails/s | worker CPU ms/email | worker peak RSS MB |');
console.log('|---|---:|---:|---:|---:|---:|');
console.log(`| unlimited, 1 worker | ${EMAILS} | ${seconds.toFixed(1)} | ${Math.round(throughput)} | ${cpuMsPerEmail.toFixed(2)} | ${rss} |`);
console.log(
  `\nlimit ${RATE}/s: ${accepted.length} emails, achieved ${achieved.toFixed(2)}/s (${((achieved / RATE) * 100).toFixed(1)} %), most in any second ${maxInSecond}, 429 answers ${refused}\n`,
);
const ok = [
  verdict('throughput', throughput >= 500, `${Math.round(throughput)} emails/s (target ≥ 500)`),
  verdict('worker RSS', rss <= 250, `${rss} MB (target ≤ 250 MB)`),
  verdict('every email sent once', fake.emails.length === limited, `${fake.emails.length} accepted in part 2`),
  verdict('rate stays under the limit', maxInSecond <= RATE && achieved <= RATE && refused === 0, `max ${maxInSecond} in a second, ${refused} refused`),
  verdict('rate reaches the limit', achieved >= 0.95 * RATE, `${((achieved / RATE) * 100).toFixed(1)} % of ${RATE}/s (target ≥ 95 %)`),
].every(Boolean);

const keys = await container.redis.keys(`${prefix}:*`);
if (keys.length > 0) await container.redis.del(...keys);
await container.close();
await fake.close();
await database.drop();
process.exit(ok ? 0 : 1);
