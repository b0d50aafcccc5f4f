import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { copyFile, mkdtemp, readdir, rm, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoPath } from './helpers.ts';

// Runs scripts/backup.sh and scripts/restore.sh (the same scripts the backup service runs) against the
// local PostgreSQL, in scratch databases named sf_backup_<random> that the tests create and drop.

const run = promisify(execFile);
const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const suffix = randomBytes(4).toString('hex');
const sourceDb = `sf_backup_${suffix}`;
const restoredDb = `sf_backup_${suffix}_restored`;
const scratchDbs = [sourceDb, restoredDb, `sf_backup_${suffix}_corrupt`];

function urlFor(database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function withClient<T>(database: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: urlFor(database) });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const adminDb = new URL(serverUrl).pathname.slice(1) || 'postgres';

async function dropScratch(): Promise<void> {
  await withClient(adminDb, async (client) => {
    for (const db of scratchDbs) await client.query(`drop database if exists ${db} with (force)`);
  });
}

async function databaseExists(name: string): Promise<boolean> {
  return withClient(adminDb, async (client) => ((await client.query('select 1 from pg_database where datname = $1', [name])).rowCount ?? 0) > 0);
}

/** Row count and an md5 over all rows in primary-key order, per table: equal fingerprints, equal data. */
async function fingerprint(database: string): Promise<Record<string, { rows: number; md5: string }>> {
  return withClient(database, async (client) => {
    const result: Record<string, { rows: number; md5: string }> = {};
    for (const [table, order] of [
      ['organizations', 'id'],
      ['subscribers', 'id'],
      ['tags', 'id'],
      ['subscriber_tags', 'subscriber_id, tag_id'],
    ] as const) {
      const { rows } = await client.query<{ rows: string; md5: string }>(
        `select count(*) as rows, md5(coalesce(string_agg(t::text, '|' order by ${order}), '')) as md5 from ${table} t`,
      );
      result[table] = { rows: Number(rows[0]?.rows), md5: rows[0]?.md5 ?? '' };
    }
    return result;
  });
}

function script(name: string, args: string[], env: Record<string, string>) {
  return run('sh', [repoPath('scripts', name), ...args], { env: { ...process.env, ...env }, timeout: 30_000 });
}

let backupDir: string;
let dumpFile: string;

beforeAll(async () => {
  backupDir = await mkdtemp(path.join(tmpdir(), 'sf-backup-'));
  await dropScratch();
  await withClient(adminDb, (client) => client.query(`create database ${sourceDb}`));
  // A small schema shaped like the real one: uuid keys, jsonb, timestamps, a foreign key, an identity
  // column, a partial unique index on lower(email), and text with characters that need escaping.
  await withClient(sourceDb, async (client) => {
    await client.query(`
      create table organizations (id uuid primary key, slug text not null unique, settings jsonb not null default '{}');
      create table subscribers (
        id uuid primary key,
        organization_id uuid not null references organizations (id) on delete cascade,
        email text not null,
        status text not null,
        metadata jsonb not null default '{}',
        created_at timestamptz not null
      );
      create unique index subscribers_org_email on subscribers (organization_id, lower(email));
      create table tags (id bigint generated always as identity primary key, organization_id uuid not null references organizations (id), name text not null);
      create table subscriber_tags (subscriber_id uuid not null references subscribers (id), tag_id bigint not null references tags (id), subscribed boolean not null, primary key (subscriber_id, tag_id));
      insert into organizations select gen_random_uuid(), 'org-' || g, jsonb_build_object('name', 'Org "' || g || E'"\\n', 'n', g) from generate_series(1, 3) g;
      insert into subscribers
        select gen_random_uuid(), (select id from organizations order by slug limit 1 offset g % 3), 'User.' || g || '@Example.com',
               (array['active', 'pending', 'unsubscribed'])[1 + g % 3], jsonb_build_object('i', g, 'tab', E'a\\tb'), now() - g * interval '1 hour'
        from generate_series(1, 400) g;
      insert into tags (organization_id, name) select id, 'news-' || slug from organizations;
      insert into subscriber_tags select s.id, t.id, (row_number() over ()) % 2 = 0 from subscribers s join tags t using (organization_id);
    `);
  });
});

afterAll(async () => {
  await dropScratch();
  await rm(backupDir, { recursive: true, force: true });
});

describe('scripts/backup.sh and scripts/restore.sh', () => {
  it('restores a backup into a fresh database with identical rows', async () => {
    const { stdout } = await script('backup.sh', [], { DATABASE_URL: urlFor(sourceDb), BACKUP_DIR: backupDir });
    dumpFile = stdout.trim();
    expect(path.dirname(dumpFile)).toBe(backupDir);
    expect(path.basename(dumpFile)).toMatch(new RegExp(`^${sourceDb}-\\d{8}T\\d{6}Z\\.dump$`));
    expect((await readdir(backupDir)).sort()).toEqual([path.basename(dumpFile), `${path.basename(dumpFile)}.sha256`]);

    await script('restore.sh', [dumpFile, restoredDb], { DATABASE_URL: serverUrl });

    const [before, after] = await Promise.all([fingerprint(sourceDb), fingerprint(restoredDb)]);
    expect(before.subscribers?.rows).toBe(400);
    expect(before.subscriber_tags?.rows).toBeGreaterThan(0);
    expect(after).toEqual(before);
  });

  it('restores constraints, indexes and identity sequences, not only rows', async () => {
    await withClient(restoredDb, async (client) => {
      const org = (await client.query<{ id: string }>('select id from organizations order by slug limit 1')).rows[0]?.id;
      // The case-insensitive unique index came back: the same address in other case is refused.
      await expect(client.query("insert into subscribers values (gen_random_uuid(), $1, 'user.3@example.com', 'active', '{}', now())", [org])).rejects.toThrow(
        /duplicate key/,
      );
      // The identity sequence continues after the restored rows instead of colliding with them.
      const inserted = await client.query<{ id: string }>("insert into tags (organization_id, name) values ($1, 'after-restore') returning id", [org]);
      expect(Number(inserted.rows[0]?.id)).toBe(4);
      // Foreign keys are enforced.
      await expect(client.query('insert into subscriber_tags values (gen_random_uuid(), 1, true)')).rejects.toThrow(/foreign key/);
    });
  });

  it('refuses to restore over an existing database and leaves it untouched', async () => {
    const before = await fingerprint(sourceDb);
    await expect(script('restore.sh', [dumpFile, sourceDb], { DATABASE_URL: serverUrl })).rejects.toMatchObject({
      stderr: expect.stringContaining('already exists'),
    });
    expect(await fingerprint(sourceDb)).toEqual(before);
  });

  it('rejects a damaged dump before creating anything', async () => {
    const damaged = path.join(backupDir, 'damaged.dump');
    await copyFile(dumpFile, damaged);
    await truncate(damaged, 2000);
    await expect(script('restore.sh', [damaged, `sf_backup_${suffix}_corrupt`], { DATABASE_URL: serverUrl })).rejects.toMatchObject({ code: 1 });
    expect(await databaseExists(`sf_backup_${suffix}_corrupt`)).toBe(false);

    // With its checksum file beside it, a changed dump is caught by the checksum.
    await writeFile(`${damaged}.sha256`, readFileSync(`${dumpFile}.sha256`, 'utf8').replace(path.basename(dumpFile), 'damaged.dump'));
    await expect(script('restore.sh', [damaged, `sf_backup_${suffix}_corrupt`], { DATABASE_URL: serverUrl })).rejects.toMatchObject({
      stderr: expect.stringContaining('checksum mismatch'),
    });
    await rm(damaged);
    await rm(`${damaged}.sha256`);
  });

  it('prunes dumps older than the retention after a successful backup and keeps the rest', async () => {
    const day = 24 * 60 * 60;
    const now = Date.now() / 1000;
    const old = path.join(backupDir, `${sourceDb}-20000101T000000Z.dump`);
    const recent = path.join(backupDir, `${sourceDb}-20000102T000000Z.dump`);
    for (const [file, age] of [
      [old, 8 * day],
      [`${old}.sha256`, 8 * day],
      [recent, 2 * day],
    ] as const) {
      await writeFile(file, 'x');
      await utimes(file, now - age, now - age);
    }
    const { stdout } = await script('backup.sh', [], { DATABASE_URL: urlFor(sourceDb), BACKUP_DIR: backupDir, BACKUP_RETENTION_DAYS: '7' });
    const files = await readdir(backupDir);
    expect(files).not.toContain(path.basename(old));
    expect(files).not.toContain(`${path.basename(old)}.sha256`);
    expect(files).toContain(path.basename(recent));
    expect(files).toContain(path.basename(dumpFile));
    expect(files).toContain(path.basename(stdout.trim()));
    await rm(recent);
  });

  it('keeps every old dump while backups fail', async () => {
    const old = path.join(backupDir, 'keep-me-20000101T000000Z.dump');
    await writeFile(old, 'x');
    await utimes(old, 0, 0);
    await expect(script('backup.sh', [], { DATABASE_URL: urlFor(`sf_backup_${suffix}_missing`), BACKUP_DIR: backupDir })).rejects.toMatchObject({ code: 1 });
    expect(await readdir(backupDir)).toContain('keep-me-20000101T000000Z.dump');
    await rm(old);
  });

  it('reports health by the age of the newest dump', async () => {
    const emptyDir = await mkdtemp(path.join(tmpdir(), 'sf-backup-empty-'));
    try {
      await expect(script('backup.sh', ['--check'], { BACKUP_DIR: emptyDir })).rejects.toMatchObject({ code: 1 });
      const stale = path.join(emptyDir, 'stale-20000101T000000Z.dump');
      await writeFile(stale, 'x');
      await utimes(stale, Date.now() / 1000 - 30 * 3600, Date.now() / 1000 - 30 * 3600);
      await expect(script('backup.sh', ['--check'], { BACKUP_DIR: emptyDir, BACKUP_MAX_AGE_HOURS: '26' })).rejects.toMatchObject({
        stderr: expect.stringContaining('hours old'),
      });
      await expect(script('backup.sh', ['--check'], { BACKUP_DIR: backupDir })).resolves.toBeDefined();
    } finally {
      await rm(emptyDir, { recursive: true, force: true });
    }
  });

  it('refuses target database names that could inject SQL', async () => {
    await expect(script('restore.sh', [dumpFile, 'x"; drop database postgres; --'], { DATABASE_URL: serverUrl })).rejects.toMatchObject({
      stderr: expect.stringContaining('letters, digits and underscores'),
    });
  });
});
