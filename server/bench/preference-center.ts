// `npm run bench:prefs -w server`: GET /api/v1/preference-center, the page's one read, at a constant
// 1,000 requests per second (evenly spaced, from wrk in its own process; bench/constant-rate.lua)
// against the compiled API with the image's V8 flags and every limit on. 2,000 subscribers, each with
// their own link, 12 public topics in 3 categories.
//
// The API is warmed up at the same rate first (BENCH_WARMUP seconds, default 30): a process that has
// just started is still compiling its hot paths and growing its heap, which is not how it runs in
// production. Then, in the same run and at the same rate: the machine's floor (the API's /health, which
// touches neither PostgreSQL nor Redis), the baseline (the same read in a bare Fastify + pg app: one SQL
// statement builds the page, no link check, no limits, no hooks), and BENCH_RUNS (default 3) runs of the
// API of BENCH_DURATION seconds (default 30) each.
//
// Target: p99 ≤ 10 ms in every run, the rate held, no errors. Needs wrk (apt-get install wrk).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { DB } from '../src/db/types.ts';
import { createLogger } from '../src/logger.ts';
import { createApiKeyRepository } from '../src/modules/api-keys/api-keys.repository.ts';
import { createApiKeyService } from '../src/modules/api-keys/api-keys.service.ts';
import { createOrganizationRepository } from '../src/modules/organizations/organizations.repository.ts';
import { createOrganizationService } from '../src/modules/organizations/organizations.service.ts';
import { createTokenSigner } from '../src/lib/tokens.ts';
import {
  BENCH_LOG_LEVEL,
  constantRate,
  peakRssMb,
  printRateTable,
  requireWrk,
  scratchDatabase,
  serverDir,
  startChild,
  verdict,
  type RateResult,
} from './harness.ts';

const SUBSCRIBERS = 2000;
const RATE = Number(process.env.BENCH_RATE ?? 1000);
const DURATION = Number(process.env.BENCH_DURATION ?? 30);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 30);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SECRET = 'bench-secret-bench-secret-bench-secret-0000';

requireWrk();
// Measure what production runs: the compiled output, not the TypeScript sources.
execFileSync(process.execPath, [path.join(serverDir, '../node_modules/typescript/bin/tsc'), '-p', path.join(serverDir, 'tsconfig.build.json')], {
  stdio: 'inherit',
});
const database = await scratchDatabase();
const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: database.url, max: 2 }) }) });
const apiKeys = createApiKeyService({ db, apiKeyRepository: createApiKeyRepository(db), logger: createLogger({ LOG_LEVEL: 'silent' }, 'bench') });
const organizations = createOrganizationService({ db, organizationRepository: createOrganizationRepository(db), apiKeys });
const { organization, apiKey } = await organizations.createWithOwner({ name: 'Bench Preferences', adminEmail: 'bench@prefs.test' });

const common = { DATABASE_URL: database.url, DATABASE_POOL_MAX: '10' };
const api = await startChild(
  path.join(serverDir, 'dist/entrypoints/api.js'),
  {
    ...common,
    LOG_LEVEL: BENCH_LOG_LEVEL,
    METRICS_PORT: '0',
    REDIS_PREFIX: `benchprefs${process.pid}`,
    TOKEN_SECRET: SECRET,
    // The same V8 settings the image runs the API with.
    NODE_OPTIONS: process.env.BENCH_API_NODE_OPTIONS ?? '--max-semi-space-size=8 --max-old-space-size=192',
  },
  '/health',
);
const baseline = await startChild(
  path.join(serverDir, 'bench/baseline-server.ts'),
  { ...common, BASELINE_ORGANIZATION_ID: organization.id },
  '/baseline/subscribers/00000000-0000-0000-0000-000000000000',
);
const origin = `http://127.0.0.1:${api.port}`;
const auth = { authorization: `Bearer ${apiKey.key}`, 'content-type': 'application/json' };

// Seed through the API itself, as an integration would.
const topics = Array.from({ length: 12 }, (_, i) => ({
  name: `Topic ${i + 1}`,
  category: ['News', 'Product', 'Events'][i % 3],
  description: `What topic ${i + 1} is about`,
}));
for (const topic of topics) {
  const res = await fetch(`${origin}/api/v1/tags`, { method: 'POST', headers: auth, body: JSON.stringify(topic) });
  if (res.status !== 201) throw new Error(`creating a tag: ${res.status} ${await res.text()}`);
}
const ids: string[] = [];
for (let start = 0; start < SUBSCRIBERS; start += 1000) {
  const subscribers = Array.from({ length: Math.min(1000, SUBSCRIBERS - start) }, (_, k) => {
    const i = start + k;
    return { email: `reader${i}@bench.test`, first_name: `Reader ${i}`, tags: [`topic-${(i % 12) + 1}`, `topic-${((i + 5) % 12) + 1}`] };
  });
  const batch = await fetch(`${origin}/api/v1/subscribers/batch`, { method: 'POST', headers: auth, body: JSON.stringify({ subscribers }) });
  if (batch.status !== 200) throw new Error(`seeding subscribers: ${batch.status}`);
  ids.push(...((await batch.json()) as { results: { id: string }[] }).results.map((r) => r.id));
}
// Planner statistics, as autovacuum keeps them on a live database (a fresh table has none).
await sql`analyze`.execute(db);

const signer = createTokenSigner([SECRET]);
const expiresAt = Math.floor(Date.now() / 1000) + 3600;
const workDir = mkdtempSync(path.join(tmpdir(), 'bench-prefs-'));
const apiPaths = path.join(workDir, 'api-paths.txt');
const baselinePaths = path.join(workDir, 'baseline-paths.txt');
writeFileSync(
  apiPaths,
  ids.map((id) => `/api/v1/preference-center?token=${signer.sign({ purpose: 'pref', organizationId: organization.id, subjectId: id, expiresAt })}`).join('\n'),
);
writeFileSync(baselinePaths, ids.map((id) => `/baseline/preference-center/${organization.id}/${id}`).join('\n'));
const baselineOrigin = `http://127.0.0.1:${baseline.port}`;

// CPU the API process spends per request, from /proc: independent of how busy the rest of the machine is.
const cpuMs = (pid: number) =>
  readFileSync(`/proc/${pid}/stat`, 'utf8')
    .split(') ')[1]!
    .split(' ')
    .slice(11, 13)
    .reduce((sum, ticks) => sum + Number(ticks), 0) * 10;

console.log(`\nwarming up: ${WARMUP} s at ${RATE}/s`);
await constantRate('warm-up', { url: origin, rate: RATE, seconds: WARMUP, pathsFile: apiPaths });
await constantRate('baseline warm-up', { url: baselineOrigin, rate: RATE, seconds: 10, pathsFile: baselinePaths });
const floor = await constantRate(`API GET /health (floor)`, { url: `${origin}/health`, rate: RATE, seconds: 15 });
const bare = await constantRate('baseline: bare Fastify + pg, same read', { url: baselineOrigin, rate: RATE, seconds: DURATION, pathsFile: baselinePaths });
const runs: RateResult[] = [];
let cpuPerRequest = 0;
for (let run = 1; run <= RUNS; run += 1) {
  const cpuBefore = cpuMs(api.process.pid!);
  const result = await constantRate(`API GET /api/v1/preference-center, run ${run}`, { url: origin, rate: RATE, seconds: DURATION, pathsFile: apiPaths });
  cpuPerRequest += (cpuMs(api.process.pid!) - cpuBefore) / result.requests / RUNS;
  runs.push(result);
}
const rss = peakRssMb(api.process.pid!);
printRateTable([floor, bare, ...runs]);
const worst = runs.reduce((a, b) => (b.p99 > a.p99 ? b : a));
console.log(
  `\nAPI p99 / baseline p99: ${(worst.p99 / bare.p99).toFixed(2)}× (worst run); API CPU per request: ${cpuPerRequest.toFixed(2)} ms; API peak RSS: ${rss} MB`,
);
console.log(
  'late = requests that left after their slot because all 128 connections were waiting (their latency would then count from leaving); 0 means every latency counts from its slot.\n',
);
const ok = [
  verdict(
    'p99 latency',
    runs.every((r) => r.p99 <= 10),
    `${runs.map((r) => r.p99.toFixed(2)).join(', ')} ms (target ≤ 10 ms at ${RATE} req/s in every run)`,
  ),
  verdict(
    'rate held',
    runs.every((r) => r.rps >= RATE * 0.97),
    `${runs.map((r) => Math.round(r.rps)).join(', ')} req/s`,
  ),
  verdict(
    'no errors',
    runs.every((r) => r.non2xx === 0 && r.socket_errors === 0),
    `${runs.map((r) => r.non2xx + r.socket_errors).join(', ')} errors`,
  ),
].every(Boolean);

rmSync(workDir, { recursive: true, force: true });
await Promise.all([api.stop(), baseline.stop()]);
await db.destroy();
await database.drop();
process.exit(ok ? 0 : 1);
