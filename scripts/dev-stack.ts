// Runs the local stack for `npm start`: database, migrations, demo seed, then api + worker + cron.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.loadEnvFile(path.join(root, '.env'));
const env = { ...process.env };
const databaseUrl = env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/subscribe_flow';
const host = env.HOST ?? '127.0.0.1';
const port = env.PORT ?? '3000';
const baseUrl = `http://${host === '0.0.0.0' || host === '127.0.0.1' ? 'localhost' : host}:${port}`;

async function ensureDatabase(): Promise<void> {
  const target = new URL(databaseUrl);
  const name = decodeURIComponent(target.pathname.slice(1));
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (found.rowCount === 0) {
      await client.query(`create database "${name.replace(/"/g, '""')}"`);
      console.log(`Created database ${name}`);
    }
  } finally {
    await client.end();
  }
}

function run(script: string, args: string[] = []): string {
  const result = spawnSync(process.execPath, [path.join(root, script), ...args], { env, cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (result.status !== 0) {
    console.error(`${script} failed`);
    process.exit(result.status ?? 1);
  }
  return result.stdout;
}

await ensureDatabase();
run('server/src/entrypoints/migrate.ts');

const webBuilt = existsSync(path.join(root, 'web/dist'));
if (!webBuilt && existsSync(path.join(root, 'web/vite.config.ts'))) {
  console.log('Building the web apps (first start only)…');
  const build = spawnSync('npm', ['run', 'build', '-w', 'web', '--if-present'], { cwd: root, env, stdio: 'inherit' });
  if (build.status !== 0) console.warn('The web build failed; the API runs without the web apps.');
}

const demo = JSON.parse(run('server/src/cli.ts', ['seed-demo'])) as { organization_slug: string; api_key: string };

const processes = ['api', 'worker', 'cron']
  .filter((name) => existsSync(path.join(root, `server/src/entrypoints/${name}.ts`)))
  .map((name): [string, ChildProcess] => [
    name,
    spawn(process.execPath, [path.join(root, `server/src/entrypoints/${name}.ts`)], { cwd: root, env, stdio: 'inherit' }),
  ]);

let stopping = false;
function stopAll(code: number): void {
  if (stopping) return;
  stopping = true;
  for (const [, child] of processes) if (child.exitCode === null) child.kill('SIGTERM');
  Promise.all(processes.map(([, child]) => (child.exitCode !== null ? null : new Promise((resolve) => child.once('exit', resolve))))).then(() =>
    process.exit(code),
  );
}
for (const [name, child] of processes) {
  child.once('exit', (exitCode, signal) => {
    if (!stopping) {
      console.error(`${name} exited (${signal ?? exitCode}); stopping the others`);
      stopAll(exitCode ?? 1);
    }
  });
}
process.once('SIGINT', () => stopAll(0));
process.once('SIGTERM', () => stopAll(0));

console.log(`
Subscribe Flow is starting (${processes.map(([n]) => n).join(', ')}):
  API              ${baseUrl}/api/v1
  API reference    ${baseUrl}/docs
  Health           ${baseUrl}/ready
  Admin dashboard  ${baseUrl}/admin/
  Preferences      ${baseUrl}/preferences/
  Demo organization "${demo.organization_slug}", API key (shown once per start):
    ${demo.api_key}
  Try: curl -s -H "Authorization: Bearer ${demo.api_key}" ${baseUrl}/api/v1/subscribers
Press Ctrl-C to stop.
`);
