// `npm run bench:prefs -w server`: GET /api/v1/preference-center, the page's one read, at a fixed
// 1,000 requests per second against the compiled API in its own process, with rate limits on.
// 500 subscribers, each with its own link, 12 public topics in 3 categories.
// Target: p99 ≤ 10 ms with no errors. BENCH_DURATION (seconds, default 20) and BENCH_RATE change the load.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { DB } from '../src/db/types.ts';
import { createLogger } from '../src/logger.ts';
import { createApiKeyRepository } from '../src/modules/api-keys/api-keys.repository.ts';
import { createApiKeyService } from '../src/modules/api-keys/api-keys.service.ts';
import { createOrganizationRepository } from '../src/modules/organizations/organizations.repository.ts';
import { createOrganizationService } from '../src/modules/organizations/organizations.service.ts';
import { createTokenSigner } from '../src/lib/tokens.ts';
import { load, peakRssMb, printTable, scratchDatabase, serverDir, startChild, verdict } from './harness.ts';

const SUBSCRIBERS = 500;
const RATE = Number(process.env.BENCH_RATE ?? 1000);
const DURATION = Number(process.env.BENCH_DURATION ?? 20);
const SECRET = 'bench-secret-bench-secret-bench-secret-0000';

// Measure what production runs: the compiled output, not the TypeScript sources.
execFileSync(process.execPath, [path.join(serverDir, '../node_modules/typescript/bin/tsc'), '-p', path.join(serverDir, 'tsconfig.build.json')], { stdio: 'inherit' });
const database = await scratchDatabase();
const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: database.url, max: 2 }) }) });
const apiKeys = createApiKeyService({ db, apiKeyRepository: createApiKeyRepository(db), logger: createLogger({ LOG_LEVEL: 'silent' }, 'bench') });
const organizations = createOrganizationService({ db, organizationRepository: createOrganizationRepository(db), apiKeys });
const { organization, apiKey } = await organizations.createWithOwner({ name: 'Bench Preferences', adminEmail: 'bench@prefs.test' });

const api = await startChild(path.join(serverDir, 'dist/entrypoints/api.js'), {
  DATABASE_URL: database.url,
  DATABASE_POOL_MAX: '10',
  LOG_LEVEL: 'warn',
  REDIS_PREFIX: `benchprefs${process.pid}`,
  TOKEN_SECRET: SECRET,
  // The same V8 settings the image runs the API with.
  NODE_OPTIONS: process.env.BENCH_API_NODE_OPTIONS ?? '--max-semi-space-size=8 --max-old-space-size=192',
}, '/health');
const origin = `http://127.0.0.1:${api.port}`;
const auth = { authorization: `Bearer ${apiKey.key}`, 'content-type': 'application/json' };

// Seed through the API itself, as an integration would.
const topics = Array.from({ length: 12 }, (_, i) => ({ name: `Topic ${i + 1}`, category: ['News', 'Product', 'Events'][i % 3], description: `What topic ${i + 1} is about` }));
for (const topic of topics) {
  const res = await fetch(`${origin}/api/v1/tags`, { method: 'POST', headers: auth, body: JSON.stringify(topic) });
  if (res.status !== 201) throw new Error(`creating a tag: ${res.status} ${await res.text()}`);
}
const batch = await fetch(`${origin}/api/v1/subscribers/batch`, {
  method: 'POST', headers: auth,
  body: JSON.stringify({ subscribers: Array.from({ length: SUBSCRIBERS }, (_, i) => ({ email: `reader${i}@bench.test`, first_name: `Reader ${i}`, tags: [`topic-${(i % 12) + 1}`, `topic-${((i + 5) % 12) + 1}`] })) }),
});
const created = (await batch.json()) as { results: { id: string }[] };
if (batch.status !== 200) throw new Error(`seeding subscribers: ${batch.status}`);
const signer = createTokenSigner([SECRET]);
const expiresAt = Math.floor(Date.now() / 1000) + 3600;
const paths = created.results.map((r) => `/api/v1/preference-center?token=${signer.sign({ purpose: 'pref', organizationId: organization.id, subjectId: r.id, expiresAt })}`);

let next = 0;
const request = { requests: [{ setupRequest: (req: object) => ({ ...req, path: paths[(next += 1) % paths.length] }) }] };
// Every subscriber's own limit (120 a minute by default) stays well above what this load asks of it.
await load('warm-up', { url: origin, ...request, connections: 10, overallRate: RATE, duration: 3 });
// The machine's floor at the same rate: a route that touches neither PostgreSQL nor Redis.
const floor = await load(`GET /health at ${RATE}/s (floor)`, { url: `${origin}/health`, connections: 20, overallRate: RATE, duration: Math.min(DURATION, 10) });
// CPU the API process spends per request, from /proc: independent of how busy the rest of the machine is.
const cpuMs = (pid: number) => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ').slice(11, 13).reduce((sum, ticks) => sum + Number(ticks), 0) * 10;
const loadBefore = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const cpuBefore = cpuMs(api.process.pid!);
const result = await load(`GET /api/v1/preference-center at ${RATE}/s`, { url: origin, ...request, connections: 20, overallRate: RATE, duration: DURATION });
const cpuPerRequest = (cpuMs(api.process.pid!) - cpuBefore) / (result.rps * DURATION);
const rss = peakRssMb(api.process.pid!);
printTable([floor, result]);
console.log(`\nAPI peak RSS: ${rss} MB; API CPU per request: ${cpuPerRequest.toFixed(2)} ms; load average before the run: ${loadBefore}`);
const ok = [
  verdict('p99 latency', result.p99 <= 10, `${result.p99} ms (target ≤ 10 ms at ${RATE} req/s)`),
  verdict('throughput held', result.rps >= RATE * 0.97, `${result.rps} req/s`),
  verdict('no errors', result.errors === 0 && result.non2xx === 0, `${result.errors} errors, ${result.non2xx} non-2xx`),
].every(Boolean);

await api.stop();
await db.destroy();
await database.drop();
process.exit(ok ? 0 : 1);
