import { PostgresDialect, sql, Kysely, type Expression, type RawBuilder, type SqlBool, type Transaction } from 'kysely';
import { AppError } from '../../lib/errors.ts';
import type pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import type { Readable, Writable } from 'node:stream';
import type { DB } from '../../db/types.ts';
import { uuidv7BulkPrefix, uuidv7Floor } from '../../lib/ids.ts';

export const IMPORT_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;
export type ImportStatus = (typeof IMPORT_STATUSES)[number];
export const IMPORT_PHASES = ['staging', 'validating', 'merging'] as const;
export type ImportPhase = (typeof IMPORT_PHASES)[number];

const columns = [
  'imports.id',
  'imports.status',
  'imports.phase',
  'imports.dry_run',
  'imports.update_existing',
  'imports.file_name',
  'imports.file_bytes',
  'imports.options',
  'imports.detected',
  'imports.preview',
  'imports.total',
  'imports.processed',
  'imports.bytes_processed',
  'imports.created',
  'imports.updated',
  'imports.unchanged',
  'imports.failed',
  'imports.skipped',
  'imports.error',
  'imports.created_by_user_id',
  'imports.created_by_api_key_id',
  'imports.started_at',
  'imports.finished_at',
  'imports.created_at',
] as const;

export interface ImportRow {
  id: string;
  status: ImportStatus;
  phase: ImportPhase | null;
  dry_run: boolean;
  update_existing: boolean;
  file_name: string;
  file_bytes: string | number;
  options: unknown;
  detected: unknown;
  preview: unknown;
  total: number | null;
  processed: number;
  bytes_processed: string | number;
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
  skipped: unknown;
  error: unknown;
  created_by_user_id: string | null;
  created_by_api_key_id: string | null;
  started_at: Date | null;
  finished_at: Date | null;
  created_at: Date;
  created_by_email: string | null;
}

export interface NewImport {
  id: string;
  organization_id: string;
  dry_run: boolean;
  update_existing: boolean;
  file_name: string;
  file_bytes: number;
  options: Record<string, unknown>;
  detected: Record<string, unknown>;
  created_by_user_id: string | null;
  created_by_api_key_id: string | null;
}

/** What a finished run found: the same numbers for a dry run (would …) and a real one. */
export interface ImportCounts {
  total: number;
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
  skipped: Record<string, number>;
}

export interface ExportFilter {
  format: 'csv' | 'ndjson';
  /**
   * The subscribers the list's filters match: a query of their ids built by the subscriber list's own
   * compiler (bind parameters); `false` when the filters cannot match anyone; undefined for all of them.
   */
  matching?: Expression<unknown> | false;
  /** A saved segment's compiled predicate over subscribers `s` (parameterised SQL). */
  segment?: RawBuilder<SqlBool>;
  metadataKeys: string[];
}

// Listing the ids an export's filters match answers 503 past this instead of holding a connection. Longer
// than the segments' 10 seconds for a count: an export may list every subscriber of the organization.
const FILTER_TIMEOUT_MS = 30_000;

export function createImportRepository(db: Kysely<DB>, pool: pg.Pool) {
  /**
   * Streams a COPY … TO STDOUT on a connection of its own, released when the stream ends or is destroyed.
   * COPY takes no bind parameters: a parameterised `prepare` statement (a segment's members) runs first,
   * in a transaction that the COPY then reads in and that ends with the stream.
   */
  async function copyOut(copy: RawBuilder<unknown>, prepare?: RawBuilder<unknown>): Promise<Readable> {
    const client = await pool.connect();
    if (prepare) {
      try {
        await client.query('begin');
        const before = await client.query<{ timeout: string }>(
          `select current_setting('statement_timeout') as timeout, set_config('statement_timeout', '${FILTER_TIMEOUT_MS}', true)`,
        );
        const { sql: text, parameters } = prepare.compile(db);
        await client.query(text, parameters as unknown[]);
        // Temporary tables are never analyzed automatically: the COPY's plan needs to know how many ids.
        await client.query('analyze export_ids');
        await client.query(`select set_config('statement_timeout', $1, true)`, [before.rows[0]!.timeout]);
      } catch (error) {
        client.release(true);
        if ((error as { code?: string }).code === '57014') {
          throw new AppError(503, 'filter_timeout', 'The filters took too long to evaluate; narrow them or try again later', { cause: error });
        }
        throw error;
      }
    }
    const stream = client.query(copyTo(copy.compile(db).sql));
    let released = false;
    const release = (destroy: boolean) => {
      if (released) return;
      released = true;
      client.release(destroy);
    };
    // A prepared export ends its transaction (dropping what it prepared) and then closes the connection
    // rather than returning it: a connection that has used temporary tables can no longer change its
    // temp_buffers, which an import run on the same pool sets first.
    stream.on('end', () =>
      prepare
        ? client.query('commit').then(
            () => release(true),
            () => release(true),
          )
        : release(false),
    );
    // A client that goes away mid-download destroys the stream while the connection is mid-COPY.
    stream.on('close', () => !stream.readableEnded && release(true));
    stream.on('error', () => release(true));
    return stream;
  }

  const select = () =>
    db
      .selectFrom('imports')
      .leftJoin('users', 'users.id', 'imports.created_by_user_id')
      .select([...columns, 'users.email as created_by_email']);

  return {
    async create(values: NewImport): Promise<void> {
      await db
        .insertInto('imports')
        .values({
          ...values,
          status: 'queued',
          options: JSON.stringify(values.options),
          detected: JSON.stringify(values.detected),
        })
        .execute();
    },

    async get(organizationId: string, id: string): Promise<ImportRow | undefined> {
      return select().where('imports.organization_id', '=', organizationId).where('imports.id', '=', id).executeTakeFirst() as Promise<ImportRow | undefined>;
    },

    /** The worker's read: the import with its organization, whatever the organization. */
    async load(id: string): Promise<(ImportRow & { organization_id: string }) | undefined> {
      return select().select('imports.organization_id').where('imports.id', '=', id).executeTakeFirst() as Promise<
        (ImportRow & { organization_id: string }) | undefined
      >;
    },

    async list(organizationId: string, options: { limit: number; beforeId?: string }): Promise<ImportRow[]> {
      let query = select().where('imports.organization_id', '=', organizationId);
      if (options.beforeId) query = query.where('imports.id', '<', options.beforeId);
      return query
        .orderBy('imports.id', 'desc')
        .limit(options.limit + 1)
        .execute() as Promise<ImportRow[]>;
    },

    /** Takes the import for a run: queued or (after a killed worker) running again from the start. */
    async begin(id: string): Promise<boolean> {
      const row = await db
        .updateTable('imports')
        .set({
          status: 'running',
          phase: 'staging',
          processed: 0,
          bytes_processed: 0,
          attempts: sql`attempts + 1`,
          started_at: sql`coalesce(started_at, now())`,
          updated_at: sql`now()`,
        })
        .where('id', '=', id)
        .where('status', 'in', ['queued', 'running'])
        .returning('id')
        .executeTakeFirst();
      return row !== undefined;
    },

    /** Records progress; false when the import was cancelled meanwhile (the caller stops). */
    async progress(id: string, values: { phase?: ImportPhase; processed?: number; bytes_processed?: number; total?: number }): Promise<boolean> {
      const row = await db
        .updateTable('imports')
        .set({ ...values, updated_at: sql`now()` })
        .where('id', '=', id)
        .where('status', '=', 'running')
        .returning('id')
        .executeTakeFirst();
      return row !== undefined;
    },

    async status(id: string): Promise<ImportStatus | undefined> {
      const row = await db.selectFrom('imports').select('status').where('id', '=', id).executeTakeFirst();
      return row?.status as ImportStatus | undefined;
    },

    async fail(id: string, error: { code: string; message: string }): Promise<void> {
      await db
        .updateTable('imports')
        .set({ status: 'failed', phase: null, error: JSON.stringify(error), finished_at: sql`now()`, updated_at: sql`now()` })
        .where('id', '=', id)
        .where('status', 'in', ['queued', 'running'])
        .execute();
    },

    /** Cancels a queued or running import; false when it already ended. */
    async cancel(organizationId: string, id: string): Promise<boolean> {
      const row = await db
        .updateTable('imports')
        .set({ status: 'cancelled', phase: null, finished_at: sql`now()`, updated_at: sql`now()` })
        .where('organization_id', '=', organizationId)
        .where('id', '=', id)
        .where('status', 'in', ['queued', 'running'])
        .returning('id')
        .executeTakeFirst();
      return row !== undefined;
    },

    /** Turns a completed dry run into a queued real run of the same file; false when it is not one. */
    async queueRealRun(organizationId: string, id: string): Promise<boolean> {
      const row = await db
        .updateTable('imports')
        .set({
          status: 'queued',
          dry_run: false,
          phase: null,
          processed: 0,
          bytes_processed: 0,
          created: 0,
          updated: 0,
          unchanged: 0,
          failed: 0,
          skipped: '{}',
          started_at: null,
          finished_at: null,
          updated_at: sql`now()`,
        })
        .where('organization_id', '=', organizationId)
        .where('id', '=', id)
        .where('dry_run', '=', true)
        .where('status', '=', 'completed')
        .returning('id')
        .executeTakeFirst();
      return row !== undefined;
    },

    /** The rows that were not imported, in file order, as a stream (the errors file may be long). */
    async errorsCsv(organizationId: string, id: string): Promise<Readable> {
      return copyOut(sql`copy (
        select e.row_number as row, e."column", e.reason from import_errors e join imports i on i.id = e.import_id
        where e.import_id = ${sql.lit(id)}::uuid and i.organization_id = ${sql.lit(organizationId)}::uuid order by e.row_number
      ) to stdout with (format csv, header)`);
    },

    /** Cancels the statement a run's connection is executing (the run then rolls back and stops). */
    async cancelStatement(pid: number): Promise<void> {
      await sql`select pg_cancel_backend(${pid})`.execute(db);
    },

    /** Deletes imports (with their error rows) older than the cutoff; returns their ids for the files. */
    async deleteBefore(cutoff: Date): Promise<string[]> {
      const rows = await db
        .deleteFrom('imports')
        .where('id', '<', uuidv7Floor(cutoff))
        .where('status', 'in', ['completed', 'failed', 'cancelled'])
        .returning('id')
        .execute();
      return rows.map((r) => r.id);
    },

    /**
     * Subscribers as CSV or NDJSON, straight from PostgreSQL (COPY … TO STDOUT), so memory stays flat
     * however many there are. COPY takes no bind parameters: the values in it are inlined as literals
     * (the organization's id, the metadata keys the route schema checked); the filters go through the
     * temporary table of matching ids (see `copyOut`). Tags are the
     * slugs of the topics the subscriber is subscribed to, joined by ";". No tokens or secrets exist in
     * these columns.
     */
    async exportStream(organizationId: string, filter: ExportFilter): Promise<Readable> {
      const conditions = [sql`s.organization_id = ${sql.lit(organizationId)}::uuid`];
      // The list's filters and a segment are parameterised SQL, which COPY cannot take: the matching ids
      // are listed first into a temporary table of the export's own transaction, which the COPY reads.
      let prepare: RawBuilder<unknown> | undefined;
      if (filter.matching === false) conditions.push(sql`false`);
      else if (filter.matching || filter.segment) {
        const where = [sql`s.organization_id = ${organizationId}::uuid`];
        if (filter.segment) where.push(sql`(${filter.segment})`);
        if (filter.matching) where.push(sql`s.id in (${filter.matching})`);
        // Without a segment the list's query is the listing itself (no second pass over subscribers).
        const ids = filter.matching && !filter.segment ? filter.matching : sql`select s.id from subscribers s where ${sql.join(where, sql` and `)}`;
        prepare = sql`create temp table export_ids on commit drop as ${ids}`;
        conditions.push(sql`s.id in (select id from export_ids)`);
      }
      const metadata =
        filter.metadataKeys.length > 0
          ? sql.join(filter.metadataKeys.map((key) => sql`s.metadata ->> ${sql.lit(key)} as ${sql.id(`metadata.${key}`)}`))
          : sql`s.metadata::text as metadata`;
      // The organization's topic links aggregated once and hash-joined, rather than a lookup per subscriber.
      const tags = sql`select st.subscriber_id, string_agg(t.slug, ';' order by t.slug) as slugs from subscriber_tags st join tags t on t.id = st.tag_id
        where st.organization_id = ${sql.lit(organizationId)}::uuid and st.status = 'subscribed' group by st.subscriber_id`;
      const rows = sql`select s.id, s.email, s.first_name, s.last_name, s.status, s.source, coalesce(tg.slugs, '') as tags, ${metadata},
          to_json(s.created_at) #>> '{}' as created_at, to_json(s.updated_at) #>> '{}' as updated_at
        from subscribers s left join (${tags}) tg on tg.subscriber_id = s.id where ${sql.join(conditions, sql` and `)} order by s.id`;
      // NDJSON: one JSON object per line; the control-character quote and delimiter make COPY write it untouched.
      const copy =
        filter.format === 'ndjson'
          ? sql`copy (select json_build_object('id', r.id, 'email', r.email, 'first_name', r.first_name, 'last_name', r.last_name, 'status', r.status,
            'source', r.source, 'tags', case when r.tags = '' then '[]'::json else to_json(string_to_array(r.tags, ';')) end,
            'metadata', ${filter.metadataKeys.length > 0 ? sql`(select json_object_agg(key, value) from json_each(row_to_json(r)) where key like 'metadata.%')` : sql`r.metadata::json`},
            'created_at', r.created_at, 'updated_at', r.updated_at) from (${rows}) r) to stdout with (format csv, quote e'\x01', delimiter e'\x02')`
          : sql`copy (${rows}) to stdout with (format csv, header)`;
      return copyOut(copy, prepare);
    },

    /** A connection of its own for one run: the staging table lives in it and dies with it. */
    async session(): Promise<StagingSession> {
      return createStagingSession(await pool.connect());
    },
  };
}

export type ImportRepository = ReturnType<typeof createImportRepository>;

/** The database settings of a run's own connection (it is closed after the run, so they end with it). */
const SESSION_SETTINGS = [
  // Sorts and hashes over a million staged rows (dedupe, the join with the organization's subscribers)
  // stay in memory instead of spilling to temporary files.
  sql`set work_mem = '64MB'`,
  // The statements are simple scans, sorts and joins over many rows: compiling them (which PostgreSQL
  // does for any statement this large) costs seconds and gains nothing.
  sql`set jit = off`,
  // The staging table is temporary: its pages live in this connection's own buffers, which are 8 MB by
  // default; a million rows (about 150 MB) would otherwise be written out and read back at every step.
  // Must be set before the connection touches a temporary table.
  sql`set temp_buffers = '192MB'`,
  // The subscribers' trigram indexes (GIN) take new entries into a pending list, merged into the index
  // each time it passes this size (4 MB by default): merging a million rows' trigrams in 64 MB batches
  // instead of 4 MB ones costs about a quarter less time and a sixth less WAL. The rest of the list is
  // merged before the run commits (see \`apply\`), so no later insert or search pays for it.
  sql`set gin_pending_list_limit = '64MB'`,
];

/**
 * The statements of one run, on one connection. Parsed rows are copied into a temporary table (no
 * WAL, gone when the connection closes, so a killed worker leaves nothing behind); duplicates and
 * existing subscribers are found in SQL in one pass (the plan); the merge is a handful of set-based
 * statements in one transaction, so an import is applied whole or not at all.
 *
 * Speed comes from the shape of the writes, not from skipping checks: every table is written in one
 * statement, in the order of its indexes (subscribers by address with ids made in the same order,
 * links and history by subscriber), with ids made by a counter instead of a function call per row.
 * The row-by-row foreign-key triggers (nine checks per imported subscriber with one tag) are replaced,
 * when the database role may do so, by the same checks done once for the whole set: the organization,
 * the tags and the existing subscribers the writes refer to are locked (FOR KEY SHARE, as the triggers
 * would) and counted, and the new rows refer only to them or to subscribers made in the same
 * transaction. Only these three tables are written that way, and a test keeps them free of other
 * triggers, which that mode would skip too.
 */
export function createStagingSession(client: pg.PoolClient) {
  // A connection ended under a running statement (killed backend, cancelled run) also emits 'error' on
  // the client; the statement's own promise rejects with it, which is where the run handles it.
  client.on('error', () => undefined);
  // Kysely over this one connection: every statement of the run, its transaction included, uses it.
  const connection = { query: (...args: unknown[]) => (client.query as (...a: unknown[]) => unknown)(...args), release: () => undefined };
  const conn = new Kysely<DB>({ dialect: new PostgresDialect({ pool: { connect: async () => connection, end: async () => undefined } as never }) });
  const run = async <R extends object = Record<string, unknown>>(query: RawBuilder<unknown>, executor: Kysely<DB> | Transaction<DB> = conn): Promise<R[]> =>
    (await query.execute(executor)).rows as R[];
  /** Ids for the rows of one statement: a fresh UUIDv7 prefix and the row's ordinal in `order`. */
  const bulkId = (order: RawBuilder<unknown>) => sql`(${uuidv7BulkPrefix()}::text || lpad(to_hex(row_number() over (${order})), 11, '0'))::uuid`;

  /** What a valid row does; the one rule shared by dry runs, counts, previews and writes. */
  const action = (updateExisting: boolean) => sql<string>`case
    when p.duplicate then 'duplicate_in_file'
    when not p.existing then (case when p.suppressed then 'skip_suppressed' else 'create' end)
    when not ${sql.lit(updateExisting)} then 'skip_exists'
    when p.fields_changed or p.new_links then 'update'
    else 'unchanged' end`;

  return {
    /** The backend's process id, to cancel a long statement from another connection. */
    pid: (client as unknown as { processID: number }).processID,

    async createStage(): Promise<void> {
      for (const setting of SESSION_SETTINGS) await run(setting);
      // The merge writes about 1 KB of WAL per subscriber, much of it whole pages (the first change of a
      // page after a checkpoint); compressing those (lz4) cuts about a fifth of it and of the time. A
      // setting of this connection's own WAL records, for roles allowed to change it.
      const [wal] = await run<{ may: boolean; lz4: boolean }>(sql`select has_parameter_privilege('wal_compression', 'SET') as may,
        exists (select 1 from pg_settings where name = 'wal_compression' and 'lz4' = any(enumvals)) as lz4`);
      if (wal!.may) await run(wal!.lz4 ? sql`set wal_compression = lz4` : sql`set wal_compression = on`);
      await run(sql`drop table if exists import_stage, import_plan, import_tag_cells`);
      await run(sql`create temp table import_stage (
        row_number integer not null, email text, first_name text, last_name text, tags text, metadata jsonb,
        error_code text, error_column text)`);
    },

    /** A COPY stream taking lines made by csv.ts's copyLine. */
    copyStream(): Writable {
      return client.query(copyFrom('copy import_stage (row_number, email, first_name, last_name, tags, metadata, error_code, error_column) from stdin'));
    },

    /**
     * The plan, in one pass over the staged rows: each valid row with its address in lower case, whether
     * an earlier row of the file has the same address, the subscriber it matches (or the id it will
     * get, in address order), whether its address is suppressed and whether it changes a field. Kept
     * in address order, the order the subscribers are written in. Made before the merge transaction,
     * as its statements would see the same committed data; the merge locks what it relies on.
     */
    async plan(organizationId: string): Promise<void> {
      // Statistics for the planner (temporary tables are never analyzed automatically).
      await run(sql`analyze import_stage`);
      // The address in lower case, computed once; sorted and partitioned byte-wise ("C", which is the
      // order of the database's C.UTF-8 collation, without its cost), joined in the database's collation
      // so the subscribers' unique index serves a small import into a large organization.
      await run(sql`create temp table import_plan as
        select d.row_number, d.key, d.email, d.first_name, d.last_name, d.metadata, d.tags,
          row_number() over (partition by d.key order by d.row_number) > 1 as duplicate,
          coalesce(d.existing_id, ${bulkId(sql`order by d.key, d.row_number`)}) as subscriber_id,
          d.existing_id is not null as existing, d.suppressed, d.fields_changed, false as new_links
        from (
          select s.row_number, s.lkey collate "C" as key, s.email, s.first_name, s.last_name, s.metadata, s.tags,
            sub.id as existing_id, sup.email is not null as suppressed,
            sub.id is not null and (
              (s.first_name is not null and s.first_name is distinct from sub.first_name)
              or (s.last_name is not null and s.last_name is distinct from sub.last_name)
              or (s.metadata is not null and sub.metadata || s.metadata <> sub.metadata)
            ) as fields_changed
          from (select *, lower(email) as lkey from import_stage where error_code is null offset 0) s
          left join subscribers sub on sub.organization_id = ${organizationId}::uuid and lower(sub.email) = s.lkey
          left join suppressions sup on sup.organization_id = ${organizationId}::uuid and lower(sup.email) = s.lkey
        ) d
        order by d.key, d.row_number`);
    },

    /**
     * The tag names of the file. The distinct tags cells (a file has few) are kept for the links, so the
     * plan's rows are read once for both rather than split into names row by row.
     */
    async tagNames(limit: number): Promise<string[]> {
      await run(sql`create temp table import_tag_cells as select distinct coalesce(tags, '') as tags from import_plan where not duplicate`);
      const rows = await run<{ name: string }>(sql`
        select distinct unnest(string_to_array(tags, ${'\u001f'})) as name from import_tag_cells where tags <> '' limit ${limit}`);
      return rows.map((r) => r.name);
    },

    /** Keeps the rows that were not imported (codes and columns, no values) for the errors file. */
    async saveErrors(importId: string): Promise<void> {
      await run(sql`insert into import_errors (import_id, row_number, "column", reason)
        select ${importId}::uuid, row_number, error_column, error_code from import_stage where error_code is not null
        union all
        select ${importId}::uuid, row_number, 'email', 'duplicate_in_file' from import_plan where duplicate
        on conflict do nothing`);
    },

    /** Runs `work` in one transaction of this connection (the merge, or a dry run that is rolled back). */
    transaction: <T>(work: (trx: Transaction<DB>) => Promise<T>) => conn.transaction().execute(work),

    /**
     * Resolves every tag name of the file to a tag id (inside the transaction). A real run creates the
     * missing tags first, private: a tag made by an import is an internal segment until someone
     * chooses to show it in the preference center. Missing tags of a dry run get a placeholder id, which
     * no subscriber can hold yet.
     */
    async resolveTags(trx: Transaction<DB>, organizationId: string, tags: { name: string; slug: string }[], create: boolean): Promise<void> {
      const names = tags.map((t) => t.name);
      const slugs = tags.map((t) => t.slug);
      if (create && tags.length > 0) {
        // Shared rule to call here once subscribers exports it: implicit tags are private.
        await run(
          sql`insert into tags (id, organization_id, name, slug, is_public)
          select uuid_v7(), ${organizationId}::uuid, name, slug, false from unnest(${names}::text[], ${slugs}::text[]) as i(name, slug)
          on conflict do nothing`,
          trx,
        );
      }
      await run(
        sql`create temp table import_tags on commit drop as
        select i.name, coalesce(t.id, gen_random_uuid()) as tag_id
        from unnest(${names}::text[], ${slugs}::text[]) as i(name, slug)
        left join lateral (
          select id from tags where organization_id = ${organizationId}::uuid and (lower(name) = lower(i.name) or slug = i.slug)
          order by (lower(name) = lower(i.name)) desc limit 1
        ) t on true`,
        trx,
      );
    },

    /**
     * The topic links the import adds, in subscriber order. An import never changes a subscriber's
     * status and never resubscribes a topic someone left: links that exist in any state are kept as
     * they are, and an existing subscriber that gains a link counts as updated.
     */
    async links(trx: Transaction<DB>, organizationId: string, updateExisting: boolean, defaultTags: string[]): Promise<void> {
      // The topics of each distinct tags cell (a file has few), resolved once; the links then follow the
      // plan, in subscriber order, with no sort.
      await run(
        sql`create temp table import_tag_sets on commit drop as
        select c.tags, array(
          select distinct t.tag_id from unnest(string_to_array(c.tags, ${'\u001f'}) || ${defaultTags}::text[]) as n(name)
          join import_tags t on t.name = n.name) as tag_ids
        from import_tag_cells c`,
        trx,
      );
      await run(
        sql`create temp table import_links on commit drop as
        select p.subscriber_id, unnest(c.tag_ids) as tag_id, p.existing
        from import_plan p join import_tag_sets c on c.tags = coalesce(p.tags, '')
        where not p.duplicate and ((p.existing and ${sql.lit(updateExisting)}) or not (p.existing or p.suppressed))`,
        trx,
      );
      if (!updateExisting) return;
      await run(
        sql`delete from import_links l using subscriber_tags st
        where l.existing and st.organization_id = ${organizationId}::uuid and st.subscriber_id = l.subscriber_id and st.tag_id = l.tag_id`,
        trx,
      );
      await run(
        sql`update import_plan p set new_links = true where p.existing and p.subscriber_id in (select subscriber_id from import_links where existing)`,
        trx,
      );
    },

    async counts(trx: Transaction<DB>, updateExisting: boolean): Promise<ImportCounts> {
      const [stage] = await run<{ total: number; failed: number }>(
        sql`select count(*)::int as total,
        count(*) filter (where error_code is not null)::int as failed from import_stage`,
        trx,
      );
      const actions = await run<{ action: string; count: number }>(
        sql`select ${action(updateExisting)} as action, count(*)::int as count from import_plan p group by 1`,
        trx,
      );
      const by = new Map(actions.map((a) => [a.action, a.count]));
      const skipped: Record<string, number> = {};
      if (by.get('duplicate_in_file')) skipped.duplicate_in_file = by.get('duplicate_in_file')!;
      if (by.get('skip_exists')) skipped.exists = by.get('skip_exists')!;
      if (by.get('skip_suppressed')) skipped.suppressed = by.get('skip_suppressed')!;
      return {
        total: stage!.total,
        failed: stage!.failed,
        skipped,
        created: by.get('create') ?? 0,
        updated: by.get('update') ?? 0,
        unchanged: by.get('unchanged') ?? 0,
      };
    },

    /** The first rows of the file as mapped, with what each does (or why it is not imported). */
    async preview(trx: Transaction<DB>, updateExisting: boolean, limit: number) {
      return run<{
        row: number;
        email: string | null;
        first_name: string | null;
        last_name: string | null;
        tags: string[];
        metadata: Record<string, unknown> | null;
        action: string;
      }>(
        sql`
        select s.row_number as row, s.email, s.first_name, s.last_name, coalesce(string_to_array(s.tags, ${'\u001f'}), '{}') as tags, s.metadata,
          coalesce(s.error_code, ${action(updateExisting)}) as action
        from (select * from import_stage order by row_number limit ${limit}) s left join import_plan p on p.row_number = s.row_number
        order by s.row_number`,
        trx,
      );
    },

    /**
     * The writes of a real run, set-based: new subscribers (active, source import), changed fields of
     * existing ones (names replaced when given, metadata merged; the status is never touched), new
     * topic links, and the consent history of each. Subscriber events are not written per row: the
     * run ends with one import.completed event.
     */
    async apply(trx: Transaction<DB>, organizationId: string, importId: string, updateExisting: boolean): Promise<void> {
      const details = JSON.stringify({ import_id: importId });
      // What the foreign keys of the new rows point at, locked as their checks would lock it: the
      // organization, the tags, and the existing subscribers that get history or links. A subscriber or
      // tag deleted since the plan fails the run, and the retry plans again.
      const [locked] = await run<{ organizations: number; tags: number; wanted_tags: number; subscribers: number; wanted_subscribers: number }>(
        sql`select
        (select count(*) from (select 1 from organizations where id = ${organizationId}::uuid for key share) o)::int as organizations,
        (select count(*) from (select 1 from tags where organization_id = ${organizationId}::uuid and id in (select tag_id from import_tags) for key share) t)::int as tags,
        (select count(distinct tag_id) from import_tags)::int as wanted_tags,
        (select count(*) from (select 1 from subscribers s where s.organization_id = ${organizationId}::uuid
          and s.id in (select subscriber_id from import_plan where existing and not duplicate and ${sql.lit(updateExisting)}) for key share of s) s)::int as subscribers,
        (select count(*) from import_plan where existing and not duplicate and ${sql.lit(updateExisting)})::int as wanted_subscribers`,
        trx,
      );
      if (locked!.organizations !== 1 || locked!.tags !== locked!.wanted_tags || locked!.subscribers !== locked!.wanted_subscribers) {
        throw new Error('A subscriber or tag of the import was deleted while it ran; the retry plans it again');
      }
      const [role] = await run<{ may: boolean }>(sql`select has_parameter_privilege('session_replication_role', 'SET') as may`, trx);
      if (role!.may) await run(sql`set local session_replication_role = replica`, trx);

      await run(
        sql`insert into subscribers (id, organization_id, email, status, first_name, last_name, metadata, source)
        select subscriber_id, ${organizationId}::uuid, email, 'active', first_name, last_name, coalesce(metadata, '{}'), 'import'
        from import_plan where not duplicate and not existing and not suppressed`,
        trx,
      );
      if (updateExisting) {
        // Shared rule to call here once subscribers exports it: an import never changes a status.
        await run(
          sql`update subscribers s set first_name = coalesce(p.first_name, s.first_name), last_name = coalesce(p.last_name, s.last_name),
          metadata = s.metadata || coalesce(p.metadata, '{}'), updated_at = now()
          from import_plan p where p.existing and not p.duplicate and p.fields_changed and s.id = p.subscriber_id and s.organization_id = ${organizationId}::uuid`,
          trx,
        );
      }
      await run(
        sql`insert into subscriber_tags (subscriber_id, tag_id, organization_id, status, source, subscribed_at)
        select subscriber_id, tag_id, ${organizationId}::uuid, 'subscribed', 'import', now() from import_links
        on conflict do nothing`,
        trx,
      );
      // Each subscriber's "created" (or "updated") entry, then its topics: ids in that order. A new
      // subscriber's entries come together, in subscriber order (its topics are its tags cell's), so
      // the history's indexes by subscriber and by organization receive them as appends in one pass.
      await run(
        sql`insert into subscription_history (id, organization_id, subscriber_id, tag_id, action, source, details)
        select ${bulkId(sql``)}, ${organizationId}::uuid, h.subscriber_id, h.tag_id, h.action, 'import', ${details}::jsonb
        from (
          select p.subscriber_id, t.tag_id, case when t.tag_id is null then 'created' else 'tag_subscribed' end as action
          from import_plan p join import_tag_sets c on c.tags = coalesce(p.tags, '')
          cross join lateral unnest(array[null::uuid] || c.tag_ids) as t(tag_id)
          where not p.duplicate and not p.existing and not p.suppressed
          union all
          select subscriber_id, null::uuid, 'updated'
          from import_plan where existing and not duplicate and ${sql.lit(updateExisting)} and fields_changed
          union all
          select subscriber_id, tag_id, 'tag_subscribed' from import_links where existing
        ) h`,
        trx,
      );
      if (role!.may) await run(sql`set local session_replication_role = origin`, trx);
      // What the larger pending list left unmerged (under 64 MB), merged now in bulk, where the role owns
      // the indexes; otherwise autovacuum or the next insert past the default size merges it.
      await run(
        sql`select gin_clean_pending_list(i.indexrelid) from pg_index i join pg_class c on c.oid = i.indexrelid
        join pg_am am on am.oid = c.relam
        where i.indrelid = 'subscribers'::regclass and am.amname = 'gin' and pg_has_role(c.relowner, 'USAGE')`,
        trx,
      );
    },

    /** Marks the run completed with its counts, unless it was cancelled meanwhile (then false: roll back). */
    async complete(trx: Transaction<DB>, importId: string, counts: ImportCounts, preview: unknown[]): Promise<boolean> {
      const rows = await run(
        sql`update imports set status = 'completed', phase = null, total = ${counts.total}, processed = ${counts.total},
        created = ${counts.created}, updated = ${counts.updated}, unchanged = ${counts.unchanged}, failed = ${counts.failed},
        skipped = ${JSON.stringify(counts.skipped)}::jsonb, preview = ${JSON.stringify(preview)}::jsonb, finished_at = now(), updated_at = now()
        where id = ${importId}::uuid and status = 'running' returning id`,
        trx,
      );
      return rows.length > 0;
    },

    /** Ends the session; the connection is closed, not reused, so nothing of the run survives in it. */
    close(): void {
      client.release(true);
    },
  };
}

export type StagingSession = ReturnType<typeof createStagingSession>;
