// Shared machinery for the HTTP benchmarks: a scratch database, child processes with RSS sampling,
// autocannon runs (throughput) and wrk runs at a constant rate (latency), summarised the same way.
// Benchmarks are run on demand, never in the test suite.
import { execFile, execFileSync, fork, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import pino from 'pino';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config/index.ts';
import { createContainer } from '../src/container.ts';
import { migrateToLatest } from '../src/db/migrator.ts';
import { createLogger } from '../src/logger.ts';
import type { Scope } from '../src/modules/api-keys/scopes.ts';

export const serverDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const adminUrl = process.env.DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export async function scratchDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `sf_bench_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url.toString(), max: 1 }) }) });
  await migrateToLatest(db);
  await db.destroy();
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Peak resident set of a process (VmHWM), in MB. */
export function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

/** CPU time (user + system) a set of processes has used so far, in ms; processes gone are skipped. */
export function cpuMs(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      // Fields 14 and 15 (utime, stime) after the command name, which may contain spaces.
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // exited
    }
  }
  return (ticks * 1000) / CLOCK_TICKS;
}
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** The PostgreSQL backends serving one application_name (set in the connection URL): their pids. */
export async function backendPids(databaseUrl: string, applicationName: string): Promise<number[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const result = await client.query<{ pid: number }>('select pid from pg_stat_activity where application_name = $1', [applicationName]);
    return result.rows.map((r) => r.pid);
  } finally {
    await client.end();
  }
}

/** A database URL whose connections carry an application_name, so their backends can be told apart. */
export function withApplicationName(databaseUrl: string, applicationName: string): string {
  const url = new URL(databaseUrl);
  url.searchParams.set('application_name', applicationName);
  return url.toString();
}

export interface Child {
  process: ChildProcess;
  port: number;
  stop: () => Promise<void>;
}

/**
 * The log level benchmarks run the API with: what operators run (compose's default, `info`, which logs
 * every request), unless BENCH_LOG_LEVEL says otherwise (e.g. `warn` for a second line without request logs).
 */
export const BENCH_LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'info';

/**
 * Starts a Node process and waits until `GET readyPath` answers 200. Its stdout (the JSON log) goes to a
 * file, as with Docker's default json-file log driver, so writing log lines costs what it costs there.
 */
export async function startChild(script: string, env: Record<string, string>, readyPath: string): Promise<Child> {
  const port = await freePort();
  const logFile = path.join(tmpdir(), `sf-bench-${process.pid}-${port}.log`);
  const logFd = openSync(logFile, 'w');
  const child = fork(script, [], { env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' }, stdio: ['ignore', logFd, 'inherit', 'ipc'] });
  child.once('exit', () => {
    closeSync(logFd);
    rmSync(logFile, { force: true });
  });
  // Generous: on a busy machine a compiled API can take a while to connect to PostgreSQL and Redis.
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${script} exited early with ${child.exitCode}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}${readyPath}`);
      if (res.status === 200 || res.status === 404) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`${script} did not start`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    process: child,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export interface Result {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

export async function load(name: string, options: autocannon.Options): Promise<Result> {
  const result = await autocannon({ connections: 50, duration: Number(process.env.BENCH_DURATION ?? 10), ...options });
  return {
    name,
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

export function printTable(rows: Result[]): void {
  console.log('\n| run | req/s | p50 ms | p99 ms | errors | non-2xx |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const r of rows) console.log(`| ${r.name} | ${r.rps} | ${r.p50} | ${r.p99} | ${r.errors} | ${r.non2xx} |`);
}

export function verdict(label: string, ok: boolean, detail: string): boolean {
  console.log(`${ok ? 'PASS' : 'FAIL'}  ${label}: ${detail}`);
  return ok;
}

export interface RateResult {
  name: string;
  requests: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  non2xx: number;
  socket_errors: number;
  /** Requests that could not leave on schedule because every connection was busy. */
  late: number;
  worst_lag_ms: number;
}

/** Stops with a clear message when wrk (Debian package `wrk`) is missing. */
export function requireWrk(): void {
  try {
    execFileSync('wrk', ['-v'], { stdio: 'ignore' });
  } catch (error) {
    // wrk -v exits 1 after printing its version; only a missing binary is a problem.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      console.error('This benchmark drives load with wrk: install it first (Debian/Ubuntu: apt-get install wrk).');
      process.exit(2);
    }
  }
}

/**
 * `rate` requests a second for `seconds`, evenly spaced, from wrk in its own process (bench/constant-rate.lua):
 * a C load generator, so the measurement costs the machine little next to the server under test. With
 * `pathsFile`, each request takes the next path of the file.
 */
export async function constantRate(
  name: string,
  options: { url: string; rate: number; seconds: number; pathsFile?: string; connections?: number },
): Promise<RateResult> {
  const script = path.join(serverDir, 'bench/constant-rate.lua');
  const args = ['-t1', `-c${options.connections ?? 128}`, `-d${options.seconds}s`, '-s', script, options.url];
  const env = { ...process.env, BENCH_RATE: String(options.rate), ...(options.pathsFile ? { BENCH_PATHS: options.pathsFile } : {}) };
  const output = await new Promise<string>((resolve, reject) => {
    execFile('wrk', args, { env, maxBuffer: 1 << 20 }, (error, stdout, stderr) =>
      error ? reject(new Error(`wrk failed: ${stderr || error.message}`)) : resolve(stdout),
    );
  });
  const line = output.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
  if (!line) throw new Error(`wrk printed no result:\n${output}`);
  return { name, ...(JSON.parse(line.slice('BENCH_RESULT '.length)) as Omit<RateResult, 'name'>) };
}

export function printRateTable(rows: RateResult[]): void {
  console.log('\n| run | req/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | late | errors |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(
      `| ${r.name} | ${Math.round(r.rps)} | ${r.p50.toFixed(2)} | ${r.p90.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.p999.toFixed(2)} | ${r.max.toFixed(1)} | ${r.late} | ${r.non2xx + r.socket_errors} |`,
    );
  }
}

/**
 * Starts the built worker (`dist/entrypoints/worker.js`) as its own process with the given environment and
 * the V8 settings it runs with in production (small young generation, capped old generation; without the
 * cap RSS grows to ~280 MB under load), and waits for its /health on a free metrics port.
 */
export async function startBuiltWorker(
  env: Record<string, string>,
  startTimeoutMs: number,
): Promise<{ child: ChildProcess; port: number; stop: () => Promise<void> }> {
  const port = await freePort();
  const child = fork(path.join(serverDir, 'dist/entrypoints/worker.js'), [], {
    env: {
      ...process.env,
      ...env,
      METRICS_PORT: String(port),
      NODE_OPTIONS: process.env.BENCH_WORKER_NODE_OPTIONS ?? '--max-semi-space-size=8 --max-old-space-size=192',
    },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  for (const deadline = Date.now() + startTimeoutMs; ;) {
    if (child.exitCode !== null) throw new Error(`worker exited early with ${child.exitCode}`);
    if (
      await fetch(`http://127.0.0.1:${port}/health`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (Date.now() > deadline) throw new Error('worker did not start');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    child,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/**
 * The API in this process (inject: routing, auth, validation, serialization, PostgreSQL) on the database
 * `scripts/seed-large.ts` makes, with an API key of the given scopes for its organization "large". It
 * logs at BENCH_LOG_LEVEL like the operators' API, to /dev/null so the bench's own output stays readable.
 */
export async function seededInProcessApi(database: string, redisPrefix: string, scopes: Scope[]) {
  const databaseUrl = new URL(adminUrl);
  databaseUrl.pathname = `/${database}`;
  const config = loadConfig({
    DATABASE_URL: databaseUrl.toString(),
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    REDIS_PREFIX: `${redisPrefix}${process.pid}`,
    TOKEN_SECRET: 'bench-secret-bench-secret-bench-secret-0000',
    LOG_LEVEL: BENCH_LOG_LEVEL,
    RATE_LIMIT_API_KEY_PER_MINUTE: '1000000',
  });
  const logger = createLogger(config, 'bench', pino.destination({ dest: '/dev/null', sync: false }));
  const container = createContainer(config, { processName: 'bench', logger });
  const app = await buildApp(container);
  await app.ready();
  const organization = await container.db.selectFrom('organizations').select('id').where('slug', '=', 'large').executeTakeFirst();
  if (!organization) throw new Error(`No organization "large" in database ${database}: run \`node scripts/seed-large.ts\` first`);
  const count = await container.db
    .selectFrom('subscribers')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('organization_id', '=', organization.id)
    .executeTakeFirstOrThrow();
  const key = await container.services.apiKeys.create(organization.id, { name: `bench ${redisPrefix}`, scopes });
  return { app, container, organizationId: organization.id, subscribers: Number(count.n), headers: { authorization: `Bearer ${key.key}` }, keyId: key.id };
}
