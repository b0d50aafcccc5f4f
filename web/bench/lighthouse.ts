// `npm run bench:lighthouse`: Lighthouse scores of the admin subscribers page (signed in, an organization
// of the seeded size) and of the preference center, built and served as in production (single box: the
// API serves both builds). Not part of the test suite.
//
// - Builds web/dist/admin and web/dist/preferences with Vite (NODE_ENV=production) into a scratch folder.
// - Starts the API in this process on a free port, with the database `server/scripts/seed-large.ts`
//   makes (BENCH_DATABASE, default sf_large; its organization "large" has 1,000,000 subscribers) and
//   Redis (REDIS_URL). A bench user is made an admin of that organization and given a session.
// - Runs the `lighthouse` package with Debian's Chromium (CHROMIUM, default /usr/bin/chromium), desktop
//   form factor for the admin page and mobile for the preference center (a link opened from an email).
// Targets: performance ≥ 90 (admin subscribers) and ≥ 95 (preference center), accessibility 100 and
// best practices 100 on both, and no main-thread task of 100 ms or more on the admin page. The machine's load average is printed
// with the scores.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as chromeLauncher from 'chrome-launcher';
import lighthouse, { desktopConfig } from 'lighthouse';
import { buildApp } from '../../server/src/app.ts';
import { loadConfig } from '../../server/src/config/index.ts';
import { createContainer } from '../../server/src/container.ts';
import { newId } from '../../server/src/lib/ids.ts';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const DATABASE = process.env.BENCH_DATABASE ?? 'sf_large';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];
const TARGETS = {
  admin: { performance: 90, accessibility: 100, 'best-practices': 100 },
  preferences: { performance: 95, accessibility: 100, 'best-practices': 100 },
};
// Every task on the admin subscribers page's main thread shorter than this (the preference center's is
// printed; it runs under Lighthouse's mobile CPU slowdown).
const MAX_TASK_MS = 100;
const web = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

if (!existsSync(CHROMIUM)) throw new Error(`Lighthouse needs Chromium at ${CHROMIUM}. Install it with: apt-get update && apt-get install -y chromium`);

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

// 1. Production builds of both apps.
const dist = mkdtempSync(path.join(os.tmpdir(), 'sf-lighthouse-'));
const build = async (app: 'admin' | 'preferences') => {
  const started = performance.now();
  await promisify(execFile)(
    path.join(web, '..', 'node_modules', '.bin', 'vite'),
    ['build', '--outDir', path.join(dist, app), '--emptyOutDir', '--logLevel', 'error'],
    {
      cwd: web,
      env: { ...process.env, NODE_ENV: 'production', WEB_APP: app },
    },
  );
  console.log(`built ${app} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
};
await build('admin');
await build('preferences');

// 2. The API serving them, on the seeded database.
const port = await freePort();
const origin = `http://127.0.0.1:${port}`;
const databaseUrl = new URL(process.env.DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
databaseUrl.pathname = `/${DATABASE}`;
const config = loadConfig({
  DATABASE_URL: databaseUrl.toString(),
  REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  REDIS_PREFIX: `benchlh${process.pid}`,
  TOKEN_SECRET: 'bench-secret-bench-secret-bench-secret-0000',
  LOG_LEVEL: 'silent',
  WEB_DIST_DIR: dist,
  PUBLIC_API_URL: origin,
  ADMIN_APP_URL: `${origin}/admin`,
  PREFERENCES_APP_URL: `${origin}/preferences`,
});
const container = createContainer(config, { processName: 'bench' });
const app = await buildApp(container);
await app.listen({ host: '127.0.0.1', port });

const organization = await container.db.selectFrom('organizations').select('id').where('slug', '=', 'large').executeTakeFirst();
if (!organization) throw new Error(`No organization "large" in database ${DATABASE}: run \`node server/scripts/seed-large.ts\` first`);
const user = await container.userRepository.upsert(container.db, { id: newId(), email: 'lighthouse-bench@example.com' });
await container.db
  .insertInto('organization_members')
  .values({ id: newId(), organization_id: organization.id, user_id: user.id, role: 'admin' })
  .onConflict((oc) => oc.columns(['organization_id', 'user_id']).doUpdateSet({ role: 'admin' }))
  .execute();
const { cookieValue } = await container.services.auth.startSession(
  user.id,
  { ip: '127.0.0.1', userAgent: 'lighthouse-bench', requestId: 'bench' },
  'auth.login',
);
const key = await container.services.apiKeys.create(organization.id, { name: 'lighthouse-bench', scopes: ['subscribers:read', 'subscribers:write'] });
const someone = await container.db
  .selectFrom('subscribers')
  .select('id')
  .where('organization_id', '=', organization.id)
  .where('status', '=', 'active')
  .orderBy('id', 'desc')
  .limit(1)
  .executeTakeFirstOrThrow();
const link = await app.inject({
  method: 'POST',
  url: `/api/v1/subscribers/${someone.id}/preference-token`,
  headers: { authorization: `Bearer ${key.key}` },
  payload: {},
});
if (link.statusCode !== 200 && link.statusCode !== 201) throw new Error(`preference link: HTTP ${link.statusCode} ${link.body}`);
const preferenceUrl = (link.json() as { url: string }).url;

// 3. Lighthouse with Debian's Chromium.
const chrome = await chromeLauncher.launch({ chromePath: CHROMIUM, chromeFlags: FLAGS });
type Category = keyof (typeof TARGETS)['admin'];
const results: { page: string; scores: Record<Category, number>; failed: string[]; mainThread: { blockingMs: number; longestTaskMs: number } }[] = [];
async function audit(page: keyof typeof TARGETS, url: string, options: { desktop: boolean; cookie?: string }) {
  const result = await lighthouse(
    url,
    {
      port: chrome.port,
      output: 'json',
      logLevel: 'error',
      onlyCategories: ['performance', 'accessibility', 'best-practices'],
      ...(options.cookie ? { extraHeaders: { Cookie: options.cookie } } : {}),
    },
    options.desktop ? desktopConfig : undefined,
  );
  if (!result) throw new Error(`Lighthouse gave no result for ${page}`);
  const { lhr } = result;
  if (lhr.runtimeError) throw new Error(`${page}: ${lhr.runtimeError.code} ${lhr.runtimeError.message}`);
  const scores = Object.fromEntries((Object.keys(TARGETS[page]) as Category[]).map((c) => [c, Math.round((lhr.categories[c]?.score ?? 0) * 100)])) as Record<
    Category,
    number
  >;
  // What cost points: every audit of the three categories below a full score, for the person fixing it.
  const failed = Object.values(lhr.audits)
    .filter((a) => a.score !== null && a.score < 1 && a.scoreDisplayMode !== 'informative' && a.scoreDisplayMode !== 'manual')
    .map((a) => {
      // The resources an audit names (e.g. which response was not compressed), at most three.
      const items = ((a.details as { items?: { url?: unknown }[] } | undefined)?.items ?? [])
        .map((i) => i.url)
        .filter((u): u is string => typeof u === 'string')
        .slice(0, 3)
        .map((u) => u.replace(origin, '').replace(/token=[^&]+/, 'token=…'));
      return `${a.id} (${Math.round((a.score ?? 0) * 100)})${a.displayValue ? `: ${a.displayValue}` : ''}${items.length ? ` [${items.join(', ')}]` : ''}`;
    });
  // The main thread: total blocking time, and the longest task Lighthouse saw (its `long-tasks` audit
  // lists tasks of 50 ms and more; none listed means every task was shorter).
  const tasks = ((lhr.audits['long-tasks']?.details as { items?: { duration?: number }[] } | undefined)?.items ?? []).map((i) => i.duration ?? 0);
  const mainThread = { blockingMs: Math.round(lhr.audits['total-blocking-time']?.numericValue ?? 0), longestTaskMs: Math.round(Math.max(0, ...tasks)) };
  results.push({ page, scores, failed, mainThread });
}
const load = [os.loadavg()];
try {
  await audit('admin', `${origin}/admin/subscribers`, { desktop: true, cookie: `sf_session=${cookieValue}` });
  await audit('preferences', preferenceUrl, { desktop: false });
} finally {
  load.push(os.loadavg());
  chrome.kill();
  await container.services.apiKeys.revoke(organization.id, key.id);
  await app.close();
  await container.close();
  rmSync(dist, { recursive: true, force: true });
}

console.log(
  `\nLighthouse ${'12'} with ${CHROMIUM}; load average before ${load[0]!.map((l) => l.toFixed(2)).join(' ')}, after ${load[1]!.map((l) => l.toFixed(2)).join(' ')}`,
);
let misses = 0;
for (const r of results) {
  const targets = TARGETS[r.page as keyof typeof TARGETS];
  const line = (Object.keys(targets) as Category[])
    .map((c) => {
      const ok = r.scores[c] >= targets[c];
      if (!ok) misses += 1;
      return `${c} ${r.scores[c]}${ok ? '' : ` ✗ (target ${targets[c]})`}`;
    })
    .join(', ');
  const taskOk = r.page !== 'admin' || r.mainThread.longestTaskMs < MAX_TASK_MS;
  if (!taskOk) misses += 1;
  console.log(`${r.page.padEnd(12)} ${line}`);
  console.log(
    `${''.padEnd(12)} main thread: total blocking time ${r.mainThread.blockingMs} ms, longest task ${r.mainThread.longestTaskMs ? `${r.mainThread.longestTaskMs} ms` : 'under 50 ms'}${taskOk ? '' : ` ✗ (target under ${MAX_TASK_MS} ms)`}`,
  );
  for (const f of r.failed) console.log(`    ${f}`);
}
console.log(misses ? `\n✗ ${misses} score(s) below target` : '\n✓ every score on target');
process.exitCode = misses ? 1 : 0;
