// `npm run bench:import -w server`: a generated CSV of BENCH_ROWS rows (default 1,000,000) imported
// through the worker's job handler in a child process (its peak RSS is the worker's), then exported.
// In the same run, the floor: a raw COPY of the same file into an unindexed table. The export is timed
// whole and with list filters. DATABASE_ADMIN_URL picks another PostgreSQL server (see harness.ts).
// Goals on a 2-core machine: ≤ 10 s for 1M rows, ≥ 0.4× the raw COPY rate, worker RSS ≤ 250 MB and flat
// between 100k and 1M rows; export of 1M rows ≤ 15 s.
import { fork } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { loadConfig } from '../src/config/index.ts';
import { createContainer } from '../src/container.ts';
import { scratchDatabase, serverDir } from './harness.ts';

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
// The worker's command line in compose.yaml.
const WORKER_NODE_FLAGS = ['--max-semi-space-size=8', '--max-old-space-size=192'];
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const dir = await mkdtemp(path.join(os.tmpdir(), 'sf-bench-import-'));
const database = await scratchDatabase();
const env = {
  DATABASE_URL: database.url,
  REDIS_URL,
  REDIS_PREFIX: `benchimp${process.pid}`,
  LOG_LEVEL: 'warn',
  IMPORT_DIR: dir,
  TOKEN_SECRET: 'bench-secret-bench-secret-bench-secret-0000',
  IMPORT_MAX_BYTES: String(10 * 1024 ** 3),
};
const container = createContainer(loadConfig(env), { processName: 'bench' });

try {
  // The file: what a newsletter export looks like (email, names, a tag, a metadata field).
  const source = path.join(dir, 'source.csv');
  const out = createWriteStream(source);
  out.write('email,first_name,last_name,tags,plan\n');
  for (let i = 0; i < ROWS; i += 1) {
    if (!out.write(`reader${i}@bench${i % 50}.example,First${i},Last${i},${i % 2 === 0 ? 'even' : 'odd'},${i % 3 === 0 ? 'pro' : 'free'}\n`)) {
      await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    }
  }
  await new Promise<void>((resolve) => out.end(() => resolve()));
  const bytes = (await stat(source)).size;

  // The floor: the same bytes COPYed (csv) into a table with no index, no checks, no transform.
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  await client.query('create unlogged table bench_floor (email text, first_name text, last_name text, tags text, plan text)');
  let started = performance.now();
  await pipeline(createReadStream(source), client.query(copyFrom('copy bench_floor from stdin with (format csv, header)')) as Writable);
  const floorSeconds = (performance.now() - started) / 1000;
  await client.query('drop table bench_floor');
  await client.end();

  const { organization, apiKey } = await container.services.organizations.createWithOwner({ name: 'Bench Import', adminEmail: 'bench@import.test' });
  const created = await container.services.imports.upload(
    organization.id,
    { type: 'api_key', id: apiKey.id },
    { mapping: { plan: 'metadata.plan' } },
    { name: 'bench.csv', stream: createReadStream(source), truncated: () => false },
  );

  // The WAL the server writes during the import (on a shared server, other sessions' WAL too).
  const walClient = new pg.Client({ connectionString: database.url });
  await walClient.connect();
  const walLsn = async () => (await walClient.query<{ lsn: string }>('select pg_current_wal_insert_lsn()::text as lsn')).rows[0]!.lsn;
  const walBefore = await walLsn();

  // The worker: the import job's handler in a process of its own, so its RSS is measured alone.
  started = performance.now();
  const result = await new Promise<{ result: Record<string, number>; jobSeconds: number; rssBeforeMb: number; maxRssMb: number }>((resolve, reject) => {
    // With the V8 limits compose.yaml gives the worker: the young generation's size bounds the RSS.
    const child = fork(path.join(serverDir, 'bench/import-worker.ts'), [created.id], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      execArgv: [...process.execArgv, ...WORKER_NODE_FLAGS],
    });
    child.once('message', (message) => resolve(message as { result: Record<string, number>; jobSeconds: number; rssBeforeMb: number; maxRssMb: number }));
    child.once('exit', (code) => code !== 0 && reject(new Error(`worker exited with ${code}`)));
  });
  // The job's own time; the worker process's start (loading the code, connecting) is reported apart.
  const importSeconds = result.jobSeconds;
  const walAfter = await walLsn();
  // The size of what the import wrote: each table with its indexes (deterministic, unlike the times).
  const sizes = (
    await walClient.query<{ name: string; table_mb: string; indexes_mb: string }>(
      `select relname as name, (pg_table_size(oid) / 1048576)::numeric(10, 1) as table_mb, (pg_indexes_size(oid) / 1048576)::numeric(10, 1) as indexes_mb
       from pg_class where relname in ('subscribers', 'subscriber_tags', 'subscription_history') order by relname`,
    )
  ).rows.map((r) => ({ name: r.name, table_mb: Number(r.table_mb), indexes_mb: Number(r.indexes_mb) }));
  const walMb = Number(
    (await walClient.query<{ mb: string }>('select (pg_wal_lsn_diff($1, $2) / 1048576)::numeric(10, 1) as mb', [walAfter, walBefore])).rows[0]!.mb,
  );
  await walClient.end();
  const workerStartSeconds = (performance.now() - started) / 1000 - importSeconds;

  started = performance.now();
  let exported = 0;
  const stream = await container.services.imports.exportStream(organization.id, { format: 'csv', metadataKeys: ['plan'] });
  for await (const chunk of stream) exported += (chunk as Buffer).length;
  const exportSeconds = (performance.now() - started) / 1000;
  // The same with list filters (half the rows): the matching ids are listed first, then COPYed out.
  started = performance.now();
  let exportedFiltered = 0;
  const filteredStream = await container.services.imports.exportStream(organization.id, {
    format: 'csv',
    filter: { status: 'active,unsubscribed', tags_any: 'even' },
    metadataKeys: ['plan'],
  });
  for await (const chunk of filteredStream) exportedFiltered += (chunk as Buffer).length;
  const exportFilteredSeconds = (performance.now() - started) / 1000;
  const exportRssMb = Math.round(process.resourceUsage().maxRSS / 1024);

  const importRate = ROWS / importSeconds;
  const floorRate = ROWS / floorSeconds;
  console.log(
    JSON.stringify(
      {
        rows: ROWS,
        file_mb: +(bytes / 1024 ** 2).toFixed(1),
        import_seconds: +importSeconds.toFixed(2),
        import_rows_per_second: Math.round(importRate),
        phases_ms: result.result,
        wal_mb_during_import: walMb,
        written: sizes,
        worker_start_seconds: +workerStartSeconds.toFixed(2),
        worker_rss_before_job_mb: result.rssBeforeMb,
        worker_peak_rss_mb: result.maxRssMb,
        raw_copy_seconds: +floorSeconds.toFixed(2),
        raw_copy_rows_per_second: Math.round(floorRate),
        ratio_to_raw_copy: +(importRate / floorRate).toFixed(2),
        export_seconds: +exportSeconds.toFixed(2),
        export_mb: +(exported / 1024 ** 2).toFixed(1),
        export_filtered_seconds: +exportFilteredSeconds.toFixed(2),
        export_filtered_mb: +(exportedFiltered / 1024 ** 2).toFixed(1),
        bench_process_peak_rss_mb: exportRssMb,
        goals: {
          import_le_10s_per_1M: importSeconds * (1_000_000 / ROWS) <= 10,
          ratio_ge_0_4: importRate / floorRate >= 0.4,
          rss_le_250mb: result.maxRssMb <= 250,
          export_le_15s_per_1M: exportSeconds * (1_000_000 / ROWS) <= 15,
        },
      },
      null,
      2,
    ),
  );
} finally {
  await container.close();
  await database.drop();
  await rm(dir, { recursive: true, force: true });
}
