import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { migrateToLatest } from '../../src/db/migrator.ts';
import { resolveServices } from './services.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    adminDatabaseUrl: string;
    templateDatabase: string;
    redisUrl: string;
  }
}

const migrationsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/db/migrations');

/** Name of the template database: changes whenever a migration file changes. */
function templateName(): string {
  const hash = createHash('sha256');
  for (const file of readdirSync(migrationsDir).sort()) hash.update(file).update(readFileSync(path.join(migrationsDir, file)));
  return `sf_test_template_${hash.digest('hex').slice(0, 12)}`;
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export default async function setup(project: TestProject) {
  const services = await resolveServices();
  const template = templateName();
  const admin = new pg.Client({ connectionString: services.databaseUrl });
  await admin.connect();
  try {
    // Serialize concurrent test runs on this server while one of them builds the template.
    await admin.query('select pg_advisory_lock(727274)');
    const exists = await admin.query('select 1 from pg_database where datname = $1', [template]);
    if (exists.rowCount === 0) {
      await admin.query(`create database ${template}_building`);
      const db = new Kysely<unknown>({
        dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: withDatabase(services.databaseUrl, `${template}_building`), max: 1 }) }),
      });
      try {
        await migrateToLatest(db);
      } finally {
        await db.destroy();
      }
      await admin.query(`alter database ${template}_building rename to ${template}`);
    }
    // Each run stamps its template with the time it was last used. Templates of other migration sets
    // are dropped only when no run has used them for a day: several checkouts (branches with different
    // migrations) may test against the same server at once, and one must not drop another's template.
    await admin.query(`comment on database ${template} is '${Date.now()}'`);
    // A template database cannot be dropped by accident (DROP DATABASE refuses one).
    await admin.query(`alter database ${template} is_template true`);
    const stale = await admin.query<{ datname: string; used: string | null }>(
      "select datname, shobj_description(oid, 'pg_database') as used from pg_database where datname like 'sf_test_template_%' and datname <> $1 and datname not like '%_building'",
      [template],
    );
    const dayAgo = Date.now() - 86_400_000;
    for (const { datname, used } of stale.rows) {
      if (used !== null && /^[0-9]+$/.test(used) && Number(used) > dayAgo) continue;
      await admin.query(`alter database ${datname} is_template false`).catch(() => undefined);
      await admin.query(`drop database if exists ${datname}`).catch(() => undefined);
    }
    await admin.query('select pg_advisory_unlock(727274)');
  } finally {
    await admin.end();
  }
  project.provide('adminDatabaseUrl', services.databaseUrl);
  project.provide('templateDatabase', template);
  project.provide('redisUrl', services.redisUrl);
  return services.stop;
}
