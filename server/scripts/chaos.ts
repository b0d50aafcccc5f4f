// `npm run test:chaos`: outage behaviour of the real processes, on demand (not part of `npm test`).
// Starts its own PostgreSQL cluster (pg_createcluster) and Redis on free ports, so the shared services
// are never touched, runs the api, worker and cron entry points as plain processes against them with a
// fake Resend in this process, and checks:
//   1. Redis stopped for CHAOS_REDIS_OUTAGE_SECONDS (default 15, spanning a cron tick): requests that
//      need Redis (an Idempotency-Key POST) answer 503 + Retry-After fast and commit nothing; API-key
//      reads and /health keep answering; cron logs the failed tick and catches up when Redis is back.
//   2. PostgreSQL stopped for CHAOS_PG_OUTAGE_SECONDS (default 5) and started again: 503 + Retry-After,
//      never 500, then recovery.
//   3. The worker SIGKILLed twice while the provider is answering a send: every email sent exactly once.
// Prints the figures and PASS/FAIL lines; exits 1 when a check fails. Process logs stay in a temp folder.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort, serverDir, verdict } from '../bench/harness.ts';
import { createFakeResend } from '../test/support/fake-resend.ts';

const REDIS_OUTAGE_MS = Number(process.env.CHAOS_REDIS_OUTAGE_SECONDS ?? 15) * 1000;
const PG_OUTAGE_MS = Number(process.env.CHAOS_PG_OUTAGE_SECONDS ?? 5) * 1000;
const EMAILS = Number(process.env.CHAOS_EMAILS ?? 60);
const CLIENT_TIMEOUT_MS = 10_000;
const PG_VERSION = '15';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const run = (command: string, args: string[]) => execFileSync(command, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });

async function waitForPort(port: number, timeoutMs = 20_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; ;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${port}`);
    await sleep(100);
  }
}

// --- Services of our own ------------------------------------------------------------------------------
const work = mkdtempSync(path.join(os.tmpdir(), 'sf-chaos-'));
const cluster = `sfchaos${process.pid}`;
const [pgPort, redisPort, apiPort, ...metricsPorts] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort(), freePort()]);
const children = new Map<string, ChildProcess>();
let redis: ChildProcess | null = null;
let clusterCreated = false;

function startRedis(): ChildProcess {
  // Append-only file, so queued jobs survive the restart as they would on a real server.
  const child = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--dir', work], {
    stdio: 'ignore',
  });
  redis = child;
  return child;
}
async function stopRedis(): Promise<void> {
  const child = redis;
  redis = null;
  if (!child || child.exitCode !== null) return;
  await new Promise((resolve) => {
    child.once('exit', resolve);
    child.kill('SIGTERM');
  });
}

const fake = createFakeResend({ recordBodies: false });
await fake.start();
const databaseUrl = `postgres://postgres@127.0.0.1:${pgPort}/chaos`;
const env: Record<string, string> = {
  DATABASE_URL: databaseUrl,
  REDIS_URL: `redis://127.0.0.1:${redisPort}`,
  REDIS_PREFIX: 'chaos',
  TOKEN_SECRET: 'chaos-secret-chaos-secret-chaos-secret-00',
  LOG_LEVEL: 'info',
  HOST: '127.0.0.1',
  PORT: String(apiPort),
  EMAIL_PROVIDER: 'resend',
  RESEND_API_KEY: 're_chaos',
  RESEND_BASE_URL: fake.url,
  PROVIDER_RATE_LIMIT_PER_SECOND: '0',
  // Few sends at once and a short lock, so a kill lands mid-send and the job is taken over within seconds.
  WORKER_CONCURRENCY: '2',
  WORKER_LOCK_DURATION_MS: '3000',
  RATE_LIMIT_API_KEY_PER_MINUTE: '100000',
  RATE_LIMIT_IP_PER_MINUTE: '100000',
};

function startProcess(name: 'api' | 'worker' | 'cron', metricsPort: number): ChildProcess {
  const log = openSync(path.join(work, `${name}.log`), 'a');
  const child = spawn(process.execPath, [path.join(serverDir, `src/entrypoints/${name}.ts`)], {
    env: { ...process.env, ...env, METRICS_PORT: String(metricsPort) },
    stdio: ['ignore', log, log],
  });
  children.set(name, child);
  return child;
}
async function waitHealthy(name: string, metricsPort: number): Promise<void> {
  // Generous: a loaded machine takes a while to start three Node processes from TypeScript sources.
  for (const deadline = Date.now() + 120_000; ;) {
    if (
      await fetch(`http://127.0.0.1:${metricsPort}/health`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    if (children.get(name)?.exitCode != null) throw new Error(`${name} exited with ${children.get(name)!.exitCode}; see ${name}.log`);
    if (Date.now() > deadline) throw new Error(`${name}: no /health on ${metricsPort}`);
    await sleep(100);
  }
}

async function cleanUp(): Promise<void> {
  for (const child of children.values()) if (child.exitCode === null) child.kill('SIGKILL');
  await stopRedis();
  await fake.close();
  if (clusterCreated) {
    try {
      run('pg_dropcluster', [PG_VERSION, cluster, '--stop']);
    } catch (error) {
      console.error(`could not drop cluster ${cluster}: ${(error as Error).message}`);
    }
  }
  if (process.env.CHAOS_KEEP_LOGS) console.log(`process logs kept in ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
process.once('SIGINT', () => void cleanUp().then(() => process.exit(130)));

// --- Load -------------------------------------------------------------------------------------------
interface Sample {
  kind: string;
  status: number;
  ms: number;
  at: number;
  retryAfter: string | null;
  email?: string;
}
type Probe = { kind: string; request: (n: number) => { method: string; url: string; body?: unknown; headers?: Record<string, string>; email?: string } };
let apiKey = '';

async function send(kind: string, spec: ReturnType<Probe['request']>): Promise<Sample> {
  const started = performance.now();
  const at = Date.now();
  try {
    const res = await fetch(`http://127.0.0.1:${apiPort}${spec.url}`, {
      method: spec.method,
      signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS),
      headers: { authorization: `Bearer ${apiKey}`, ...(spec.body ? { 'content-type': 'application/json' } : {}), ...spec.headers },
      ...(spec.body ? { body: JSON.stringify(spec.body) } : {}),
    });
    await res.arrayBuffer();
    return {
      kind,
      status: res.status,
      ms: performance.now() - started,
      at,
      retryAfter: res.headers.get('retry-after'),
      ...(spec.email ? { email: spec.email } : {}),
    };
  } catch {
    // 0: no answer within the client's timeout, or the connection failed.
    return { kind, status: 0, ms: performance.now() - started, at, retryAfter: null, ...(spec.email ? { email: spec.email } : {}) };
  }
}

/** A few clients sending the probes round-robin until `stop()` is called; returns every sample. */
function startLoad(probes: Probe[], clients = 3) {
  const samples: Sample[] = [];
  let running = true;
  let n = 0;
  const loops = Array.from({ length: clients }, async () => {
    while (running) {
      n += 1;
      const probe = probes[n % probes.length]!;
      samples.push(await send(probe.kind, probe.request(n)));
      await sleep(25);
    }
  });
  return {
    samples,
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return samples;
    },
  };
}

const health: Probe = { kind: 'health', request: () => ({ method: 'GET', url: '/health' }) };
const read: Probe = { kind: 'api-key read', request: () => ({ method: 'GET', url: '/api/v1/subscribers?limit=1' }) };
const idempotentWrite = (tag: string): Probe => ({
  kind: 'idempotent write (needs Redis)',
  request: (n) => ({
    method: 'POST',
    url: '/api/v1/subscribers',
    body: { email: `${tag}${n}@chaos.test` },
    headers: { 'idempotency-key': `${tag}-${n}` },
    email: `${tag}${n}@chaos.test`,
  }),
});
const write = (tag: string): Probe => ({
  kind: 'write',
  request: (n) => ({ method: 'POST', url: '/api/v1/subscribers', body: { email: `${tag}${n}@chaos.test` }, email: `${tag}${n}@chaos.test` }),
});

function summarize(label: string, samples: Sample[]): void {
  const kinds = [...new Set(samples.map((s) => s.kind))];
  console.log(`\n${label}\n| requests | n | statuses | 503 with Retry-After | max ms | p50 ms |\n|---|---:|---|---:|---:|---:|`);
  for (const kind of kinds) {
    const of = samples.filter((s) => s.kind === kind);
    const statuses = Object.entries(of.reduce<Record<string, number>>((acc, s) => ({ ...acc, [s.status]: (acc[s.status] ?? 0) + 1 }), {}))
      .map(([s, c]) => `${s === '0' ? 'no answer' : s}×${c}`)
      .join(' ');
    const ms = of.map((s) => s.ms).sort((a, b) => a - b);
    const with503 = of.filter((s) => s.status === 503 && s.retryAfter).length;
    console.log(`| ${kind} | ${of.length} | ${statuses} | ${with503} | ${Math.round(ms.at(-1) ?? 0)} | ${Math.round(ms[Math.floor(ms.length / 2)] ?? 0)} |`);
  }
}

/** Milliseconds from `since` to the first 2xx of `kind` sent after it; null when none came. */
function recoveryMs(samples: Sample[], kind: string, since: number): number | null {
  const first = samples.filter((s) => s.kind === kind && s.at >= since && s.status < 300 && s.status > 0).sort((a, b) => a.at - b.at)[0];
  return first ? Math.round(first.at + first.ms - since) : null;
}

async function waitRecovered(load: ReturnType<typeof startLoad>, kind: string, since: number, timeoutMs = 60_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; recoveryMs(load.samples, kind, since) === null && Date.now() < deadline;) await sleep(100);
  await sleep(2000);
}

const checks: boolean[] = [];
try {
  // PostgreSQL and Redis of our own.
  run('pg_createcluster', [PG_VERSION, cluster, '-p', String(pgPort), '--', '--auth=trust']);
  clusterCreated = true;
  run('pg_ctlcluster', [PG_VERSION, cluster, 'start']);
  await waitForPort(pgPort);
  const admin = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${pgPort}/postgres` });
  await admin.connect();
  await admin.query('create database chaos');
  await admin.end();
  startRedis();
  await waitForPort(redisPort);
  execFileSync(process.execPath, [path.join(serverDir, 'src/entrypoints/migrate.ts')], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const created = JSON.parse(
    execFileSync(process.execPath, [path.join(serverDir, 'src/cli.ts'), 'create-org', '--name', 'Chaos', '--admin-email', 'admin@chaos.test'], {
      env: { ...process.env, ...env, LOG_LEVEL: 'silent' },
      encoding: 'utf8',
    }),
  ) as { api_key: string };
  apiKey = created.api_key;

  const [apiMetrics, workerMetrics, cronMetrics] = metricsPorts as [number, number, number];
  startProcess('api', apiMetrics);
  startProcess('worker', workerMetrics);
  startProcess('cron', cronMetrics);
  await Promise.all([waitHealthy('api', apiMetrics), waitHealthy('worker', workerMetrics), waitHealthy('cron', cronMetrics)]);
  const db = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  db.on('error', () => undefined);

  // 1. Redis stops. The load starts at second 48 and Redis stops at about second 50, so the outage
  // spans the next minute's cron tick.
  const toNextStart = (48_000 - (Date.now() % 60_000) + 60_000) % 60_000;
  if (REDIS_OUTAGE_MS >= 15_000) {
    console.log(`waiting ${Math.round(toNextStart / 1000)} s so that a cron tick falls inside the Redis outage…`);
    await sleep(toNextStart);
  }
  const redisLoad = startLoad([idempotentWrite('r'), read, health]);
  await sleep(2000);
  const redisDown = Date.now();
  await stopRedis();
  await sleep(REDIS_OUTAGE_MS);
  startRedis();
  const redisUp = Date.now();
  await waitRecovered(redisLoad, 'idempotent write (needs Redis)', redisUp);
  const redisSamples = await redisLoad.stop();
  const during = redisSamples.filter((s) => s.at >= redisDown + 200 && s.at + s.ms < redisUp);
  summarize(`Redis stopped for ${REDIS_OUTAGE_MS / 1000} s (requests sent and answered inside the outage):`, during);
  const needsRedis = during.filter((s) => s.kind.startsWith('idempotent'));
  const others = during.filter((s) => !s.kind.startsWith('idempotent'));
  const failedEmails = redisSamples.filter((s) => s.email && (s.status === 0 || s.status >= 500)).map((s) => s.email!);
  const committedAfterError =
    failedEmails.length === 0
      ? 0
      : Number((await db.query('select count(*)::int as n from subscribers where lower(email) = any($1)', [failedEmails])).rows[0].n);
  const redisRecovery = recoveryMs(redisSamples, 'idempotent write (needs Redis)', redisUp);
  const cronLog = readFileSync(path.join(work, 'cron.log'), 'utf8');
  const failedTicks = (cronLog.match(/could not enqueue a scheduled job/g) ?? []).length;
  const catchUps = cronLog
    .split('\n')
    .filter((line) => line.includes('enqueued the latest due period') && (JSON.parse(line) as { time: number }).time >= redisUp - 1000).length;
  console.log(
    `recovery after Redis came back: ${redisRecovery ?? 'none'} ms; writes answered with an error yet committed: ${committedAfterError} of ${failedEmails.length}`,
  );
  console.log(`cron: ${failedTicks} failed ticks logged as errors, ${catchUps} catch-up runs after Redis returned`);
  checks.push(
    verdict(
      'Redis down: requests that need it answer 503 + Retry-After',
      needsRedis.length > 0 && needsRedis.every((s) => s.status === 503 && s.retryAfter),
      `${needsRedis.filter((s) => s.status === 503).length} of ${needsRedis.length}`,
    ),
    verdict(
      'Redis down: they answer fast',
      Math.max(...needsRedis.map((s) => s.ms)) <= 1500,
      `max ${Math.round(Math.max(...needsRedis.map((s) => s.ms)))} ms (target ≤ 1500)`,
    ),
    verdict(
      'Redis down: API-key reads and /health keep answering',
      others.length > 0 && others.every((s) => s.status === 200),
      `${others.filter((s) => s.status === 200).length} of ${others.length} answered 200, max ${Math.round(Math.max(...others.map((s) => s.ms)))} ms`,
    ),
    verdict('Redis down: nothing committed after an error answer', committedAfterError === 0, `${committedAfterError} of ${failedEmails.length}`),
    verdict('Redis back: recovery', redisRecovery !== null && redisRecovery < 10_000, `${redisRecovery} ms`),
  );
  if (REDIS_OUTAGE_MS >= 15_000)
    checks.push(
      verdict('cron: the tick inside the outage is logged and caught up', failedTicks > 0 && catchUps > 0, `${failedTicks} logged, ${catchUps} catch-ups`),
    );

  // 2. PostgreSQL restarts.
  const pgLoad = startLoad([write('p'), read, health]);
  await sleep(2000);
  const pgDown = Date.now();
  run('pg_ctlcluster', [PG_VERSION, cluster, 'stop', '-m', 'fast']);
  await sleep(PG_OUTAGE_MS);
  run('pg_ctlcluster', [PG_VERSION, cluster, 'start']);
  const pgUp = Date.now();
  await waitRecovered(pgLoad, 'write', pgUp);
  const pgSamples = await pgLoad.stop();
  const pgDuring = pgSamples.filter((s) => s.at >= pgDown && s.at < pgUp);
  summarize(`PostgreSQL stopped for ${PG_OUTAGE_MS / 1000} s and started again (requests sent while it was down):`, pgDuring);
  const dbRequests = pgDuring.filter((s) => s.kind !== 'health');
  const pgRecovery = recoveryMs(pgSamples, 'write', pgUp);
  const status500 = pgSamples.filter((s) => s.status === 500).length;
  console.log(`recovery after PostgreSQL started: ${pgRecovery ?? 'none'} ms; 500 answers over the whole phase: ${status500}`);
  checks.push(
    verdict(
      'PostgreSQL down: 503 + Retry-After, never 500',
      dbRequests.length > 0 && dbRequests.every((s) => s.status === 503 && s.retryAfter) && status500 === 0,
      `${dbRequests.filter((s) => s.status === 503).length} of ${dbRequests.length} answered 503; ${status500} × 500`,
    ),
    verdict(
      'PostgreSQL down: /health keeps answering',
      pgDuring.filter((s) => s.kind === 'health').every((s) => s.status === 200),
      '',
    ),
    verdict('PostgreSQL back: recovery', pgRecovery !== null && pgRecovery < 15_000, `${pgRecovery} ms`),
  );

  // 3. The worker is killed while the provider is answering a send.
  const templated = await send('template', {
    method: 'POST',
    url: '/api/v1/templates',
    body: {
      name: 'Chaos',
      slug: 'chaos',
      subject: 'Hello',
      mjml_content: '<mjml><mj-body><mj-section><mj-column><mj-text>Hi</mj-text></mj-column></mj-section></mj-body></mjml>',
    },
  });
  if (templated.status !== 201) throw new Error(`could not create the template (${templated.status})`);
  const killAt = new Set([Math.floor(EMAILS / 3), Math.floor((2 * EMAILS) / 3)]);
  let kills = 0;
  fake.onAccepted = async () => {
    // The provider has accepted this email; the worker dies before it hears so (the worst moment).
    if (killAt.has(fake.emails.length)) {
      killAt.delete(fake.emails.length);
      kills += 1;
      children.get('worker')!.kill('SIGKILL');
      setTimeout(() => startProcess('worker', workerMetrics), 500);
    }
    await sleep(100);
  };
  const sendStarted = Date.now();
  for (let i = 0; i < EMAILS; i += 1) {
    const res = await send('send', { method: 'POST', url: '/api/v1/emails/send', body: { template_slug: 'chaos', to: `k${i}@chaos.test` } });
    if (res.status !== 202) throw new Error(`send ${i} answered ${res.status}`);
  }
  let sent = 0;
  for (const deadline = Date.now() + 120_000; Date.now() < deadline; await sleep(250)) {
    sent = Number((await db.query("select count(*)::int as n from email_messages where status = 'sent'")).rows[0].n);
    if (sent >= EMAILS) break;
  }
  const allSentMs = Date.now() - sendStarted;
  const perRecipient = new Map<string, number>();
  for (const email of fake.emails) for (const to of email.to) perRecipient.set(to, (perRecipient.get(to) ?? 0) + 1);
  const duplicates = [...perRecipient.values()].filter((n) => n > 1).length;
  const providerRequests = fake.requests.filter((r) => r.path === '/emails').length;
  console.log(
    `\nworker SIGKILLed ${kills}× mid-send: ${EMAILS} emails, ${sent} marked sent in ${allSentMs} ms, provider accepted ${fake.emails.length} ` +
      `for ${perRecipient.size} recipients from ${providerRequests} requests (${providerRequests - fake.emails.length} repeats answered from the idempotency key)`,
  );
  checks.push(
    verdict(
      'worker killed mid-send: each email sent exactly once',
      kills === 2 && sent === EMAILS && fake.emails.length === EMAILS && perRecipient.size === EMAILS && duplicates === 0,
      `${kills} kills, ${fake.emails.length} accepted for ${EMAILS} emails, ${duplicates} recipients twice`,
    ),
  );
  await db.end();
} catch (error) {
  console.error(error);
  checks.push(false);
} finally {
  await cleanUp();
}
const failed = checks.filter((ok) => !ok).length;
console.log(`\nchaos: ${checks.length - failed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
