// Regenerates src/db/types.ts from a freshly migrated scratch database with kysely-codegen.
// `--verify` compares instead of writing and exits non-zero when the committed types are stale.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { migrateToLatest } from '../src/db/migrator.ts';

const serverDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const adminUrl = process.env.DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const verify = process.argv.includes('--verify');
const scratch = `sf_codegen_${process.pid}`;

const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
await admin.query(`CREATE DATABASE ${scratch}`);
const scratchUrl = new URL(adminUrl);
scratchUrl.pathname = `/${scratch}`;
try {
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: scratchUrl.toString(), max: 1 }) }) });
  await migrateToLatest(db);
  await db.destroy();
  const bin = path.resolve(serverDir, '..', 'node_modules', '.bin', 'kysely-codegen');
  execFileSync(
    bin,
    [
      '--dialect',
      'postgres',
      '--url',
      scratchUrl.toString(),
      '--out-file',
      path.join(serverDir, 'src', 'db', 'types.ts'),
      '--exclude-pattern',
      'kysely_migration*',
      ...(verify ? ['--verify'] : []),
    ],
    { stdio: 'inherit' },
  );
} finally {
  await admin.query(`DROP DATABASE IF EXISTS ${scratch} WITH (FORCE)`);
  await admin.end();
}
