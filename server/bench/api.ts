// `npm run bench:api`: our API against bare-Fastify-plus-pg baselines measured in the same run.
//   create: POST /api/v1/subscribers, a new email each time, two tags every subscriber shares
//   get:    GET /api/v1/subscribers/{id}
// Targets: create ≥ 1.0× the naive write baseline with p99 ≤ 150 ms; get ≥ 0.6× the read baseline;
// API RSS ≤ 200 MB. BENCH_DURATION (seconds per run, default 10) shortens or lengthens it. The API logs at
// BENCH_LOG_LEVEL (default info, what compose runs: one line per request).
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { createApiKeyRepository } from '../src/modules/api-keys/api-keys.repository.ts';
import { createApiKeyService } from '../src/modules/api-keys/api-keys.service.ts';
import { createOrganizationRepository } from '../src/modules/organizations/organizations.repository.ts';
import { createOrganizationService } from '../src/modules/organizations/organizations.service.ts';
import { createLogger } from '../src/logger.ts';
import type { DB } from '../src/db/types.ts';
import {
  BENCH_LOG_LEVEL,
  backendPids,
  cpuMs,
  load,
  withApplicationName,
  peakRssMb,
  printTable,
  scratchDatabase,
  serverDir,
  startChild,
  verdict,
  type Result,
} from './harness.ts';

// Measure what production runs: the compiled output, not the TypeScript sources.
execFileSync(process.execPath, [path.join(serverDir, '../node_modules/typescript/bin/tsc'), '-p', path.join(serverDir, 'tsconfig.build.json')], {
  stdio: 'inherit',
});
const database = await scratchDatabase();
const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: database.url, max: 2 }) }) });
const apiKeys = createApiKeyService({ db, apiKeyRepository: createApiKeyRepository(db), logger: createLogger({ LOG_LEVEL: 'silent' }, 'bench') });
const organizations = createOrganizationService({ db, organizationRepository: createOrganizationRepository(db), apiKeys });
const ours = await organizations.createWithOwner({ name: 'Bench API', adminEmail: 'bench@api.test' });
const baselineOrg = await organizations.createWithOwner({ name: 'Bench Baseline', adminEmail: 'bench@baseline.test' });

const common = { DATABASE_POOL_MAX: '10', LOG_LEVEL: BENCH_LOG_LEVEL };
const api = await startChild(
  path.join(serverDir, 'dist/entrypoints/api.js'),
  {
    ...common,
    DATABASE_URL: withApplicationName(database.url, 'bench-api'),
    REDIS_PREFIX: `bench${process.pid}`,
    TOKEN_SECRET: 'bench-secret-bench-secret-bench-secret-0000',
    RATE_LIMIT_API_KEY_PER_MINUTE: '100000000',
    // Any free port for the internal metrics server, so the benchmark runs beside a running stack.
    METRICS_PORT: '0',
    // The same V8 setting the image runs the API with (see ARCHITECTURE.md, "Memory").
    NODE_OPTIONS: process.env.BENCH_API_NODE_OPTIONS ?? '--max-semi-space-size=8 --max-old-space-size=192',
  },
  '/health',
);
const baseline = await startChild(
  path.join(serverDir, 'bench/baseline-server.ts'),
  { ...common, DATABASE_URL: withApplicationName(database.url, 'bench-baseline'), BASELINE_ORGANIZATION_ID: baselineOrg.organization.id },
  '/baseline/subscribers/00000000-0000-0000-0000-000000000000',
);

let counter = 0;
const createRequest = (url: string, headers: Record<string, string>) => ({
  url,
  method: 'POST' as const,
  headers: { 'content-type': 'application/json', ...headers },
  requests: [
    {
      setupRequest: (req: object) => ({ ...req, body: JSON.stringify({ email: `user${(counter += 1)}@bench.test`, tags: ['newsletter', 'product-updates'] }) }),
    },
  ],
});
const auth = { authorization: `Bearer ${ours.apiKey.key}` };
const apiUrl = `http://127.0.0.1:${api.port}`;
const baseUrl = `http://127.0.0.1:${baseline.port}`;

const results: Result[] = [];
// CPU per request, of the server process and of its PostgreSQL backends: unlike req/s, it does not
// depend on what else the machine is doing, so it says where a ratio comes from.
const cpu: { name: string; server: number; database: number }[] = [];
async function measured(name: string, server: { process: { pid?: number } }, app: string, run: () => Promise<Result>): Promise<Result> {
  // Backends the pool opens during the run count from zero; the pool may have closed idle ones since
  // the last run, so the pids are read before and after.
  const before = new Map((await backendPids(database.url, app)).map((pid) => [pid, cpuMs([pid])]));
  const serverBefore = cpuMs([server.process.pid!]);
  const result = await run();
  const after = new Set([...before.keys(), ...(await backendPids(database.url, app))]);
  const requests = result.rps * Number(process.env.BENCH_DURATION ?? 10);
  let databaseMs = 0;
  for (const pid of after) databaseMs += Math.max(0, cpuMs([pid]) - (before.get(pid) ?? 0));
  cpu.push({ name, server: (cpuMs([server.process.pid!]) - serverBefore) / requests, database: databaseMs / requests });
  return result;
}
// Warm both up (JIT, pools, caches), then measure; the baseline goes first so neither side profits
// from the other's table growth more than the other.
await load('warm-up', { ...createRequest(`${baseUrl}/baseline/subscribers`, {}), duration: 2 });
await load('warm-up', { ...createRequest(`${apiUrl}/api/v1/subscribers`, auth), duration: 2 });
const baseWrite = await measured('baseline write', baseline, 'bench-baseline', () =>
  load('baseline write (naive, one statement per row)', createRequest(`${baseUrl}/baseline/subscribers`, {})),
);
const create = await measured('API create', api, 'bench-api', () => load('API POST /api/v1/subscribers', createRequest(`${apiUrl}/api/v1/subscribers`, auth)));
results.push(baseWrite, create);

const one = (await (await fetch(`${apiUrl}/api/v1/subscribers?limit=1`, { headers: auth })).json()) as { items: { id: string }[] };
const baseOne = await new pg.Pool({ connectionString: database.url, max: 1 }).query('select id from subscribers where organization_id = $1 limit 1', [
  baselineOrg.organization.id,
]);
const baseRead = await measured('baseline read', baseline, 'bench-baseline', () =>
  load('baseline read', { url: `${baseUrl}/baseline/subscribers/${baseOne.rows[0].id}` }),
);
const get = await measured('API get', api, 'bench-api', () =>
  load('API GET /api/v1/subscribers/{id}', { url: `${apiUrl}/api/v1/subscribers/${one.items[0]!.id}`, headers: auth }),
);
results.push(baseRead, get);

const rss = peakRssMb(api.process.pid!);
printTable(results);
console.log('\n| run | server CPU ms/request | PostgreSQL CPU ms/request |');
console.log('|---|---:|---:|');
for (const c of cpu) console.log(`| ${c.name} | ${c.server.toFixed(3)} | ${c.database.toFixed(3)} |`);
console.log(`\nAPI peak RSS: ${rss} MB`);
const ratio = (a: Result, b: Result) => (a.rps / b.rps).toFixed(2);
console.log(`create / naive write baseline: ${ratio(create, baseWrite)}×    get / read baseline: ${ratio(get, baseRead)}×\n`);
const ok = [
  verdict('create throughput', create.rps >= baseWrite.rps, `${ratio(create, baseWrite)}× baseline (target ≥ 1.0×)`),
  verdict('create p99', create.p99 <= 150, `${create.p99} ms (target ≤ 150 ms)`),
  verdict('get throughput', get.rps >= 0.6 * baseRead.rps, `${ratio(get, baseRead)}× baseline (target ≥ 0.6×)`),
  verdict('API RSS', rss <= 200, `${rss} MB (target ≤ 200 MB)`),
  verdict(
    'no errors',
    results.every((r) => r.errors === 0 && r.non2xx === 0),
    results.map((r) => `${r.errors}/${r.non2xx}`).join(' '),
  ),
].every(Boolean);

await Promise.all([api.stop(), baseline.stop()]);
await db.destroy();
await database.drop();
process.exit(ok ? 0 : 1);
