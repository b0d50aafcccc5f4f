import { Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CsvError, parse } from 'csv-parse';
import { AppError } from '../../lib/errors.ts';
import { slugify } from '../../lib/slug.ts';
import type { JobHandler } from '../../jobs/context.ts';
import type { Entitlements } from '../entitlements/index.ts';
import { insertEvents } from '../events/index.ts';
import { copyLine, stageRow, type Detected, type StagedRow } from './csv.ts';
import type { ImportFiles } from './files.ts';
import type { ImportRepository } from './imports.repository.ts';

const PROGRESS_EVERY_MS = 250;
const PREVIEW_ROWS = 20;
const COPY_CHUNK = 256 * 1024;
const MAX_TAGS_PER_IMPORT = 1000;

class Cancelled extends Error {}

/**
 * The import job. Every run starts from the file: it is parsed as a stream (csv-parse) and copied into
 * a temporary staging table (COPY), duplicates are marked in SQL, and the plan and the writes happen in
 * one transaction that also marks the import completed. A worker killed at any point leaves either
 * nothing applied (the transaction dies with its connection, and the staging table with it) or the
 * whole import applied and marked completed; the retry of the job starts over or finds it completed.
 * Cancellation is checked every 250 ms; a running statement is cancelled on the server.
 */
export function createImportJob(deps: {
  repository: ImportRepository;
  files: ImportFiles;
  entitlements: Pick<Entitlements, 'assertSubscriberCapacity'>;
}): JobHandler<'import.process'> {
  const { repository: repo, files } = deps;

  return async (payload, context) => {
    const job = await repo.load(payload.import_id);
    if (!job || job.dry_run !== payload.dry_run || !(await repo.begin(job.id))) return { skipped: true };
    const detected = job.detected as Detected;
    const defaultTags = (job.options as { tags?: string[] }).tags ?? [];
    const session = await repo.session();
    let processed = 0;
    let bytes = 0;
    const state: { stopped: 'cancelled' | 'shutdown' | null; staging: boolean } = { stopped: null, staging: true };
    const abort = new AbortController();

    // One timer for progress and cancellation: a cancelled import (or a worker shutting down) aborts the
    // file pipeline and cancels whatever statement the session is running.
    const stop = async (reason: 'cancelled' | 'shutdown') => {
      if (state.stopped) return;
      state.stopped = reason;
      abort.abort();
      await repo.cancelStatement(session.pid);
    };
    const timer = setInterval(() => {
      const check = state.staging ? repo.progress(job.id, { processed, bytes_processed: bytes }) : repo.status(job.id).then((s) => s === 'running');
      check
        .then((running) => (running ? (context.signal.aborted ? stop('shutdown') : undefined) : stop('cancelled')))
        .catch((error: unknown) => context.log.warn({ err: error }, 'import progress update failed'));
    }, PROGRESS_EVERY_MS);

    const timings: Record<string, number> = {};
    let mark = performance.now();
    const lap = (name: string) => {
      const now = performance.now();
      timings[name] = Math.round(now - mark);
      mark = now;
    };
    try {
      await session.createStage();
      const source = files.read(job.id);
      source.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      const parser = parse({
        delimiter: detected.delimiter,
        encoding: detected.encoding === 'latin1' ? 'latin1' : 'utf8',
        bom: true,
        relax_column_count: true,
        skip_empty_lines: true,
        skip_records_with_error: true,
        info: true,
        max_record_size: 1024 * 1024,
      });
      // A record csv-parse cannot read (a quote left open) is reported by row number and skipped.
      const malformed: StagedRow[] = [];
      // A quote closed in the middle of a field leaves the parser inside quotes up to the next quote (often
      // the end of the file), and it reports that record twice: one row, counted once.
      let lastMalformed = 0;
      parser.on('skip', (error: { lines?: number; records?: number }) => {
        const row = (error.records ?? processed) + 1;
        if (row === lastMalformed) return;
        lastMalformed = row;
        malformed.push({ row, email: null, first_name: null, last_name: null, tags: [], metadata: {}, error: { code: 'malformed_row', column: '*' } });
      });
      // Lines are handed to COPY in chunks of about 256 KB rather than one message per row, written into
      // a buffer as they are made: no string of a chunk is kept, so memory stays flat however long the file.
      let chunk = Buffer.allocUnsafe(COPY_CHUNK);
      let used = 0;
      const take = (): Buffer => {
        const full = chunk.subarray(0, used);
        chunk = Buffer.allocUnsafe(COPY_CHUNK);
        used = 0;
        return full;
      };
      const toCopy = new Transform({
        writableObjectMode: true,
        transform(record: { record: string[]; info: { records: number } }, _encoding, done) {
          const row = record.info.records;
          if (row === 1) return done(); // the header, already read at upload
          processed += 1;
          const out: Buffer[] = [];
          const append = (line: string) => {
            // A UTF-16 unit is at most 3 UTF-8 bytes; a line that may not fit goes out on its own.
            if (used + line.length * 3 > COPY_CHUNK) {
              if (used > 0) out.push(take());
              if (line.length * 3 > COPY_CHUNK) return void out.push(Buffer.from(line));
            }
            used += chunk.write(line, used);
          };
          while (malformed.length > 0) append(copyLine(malformed.shift()!));
          append(copyLine(stageRow(record.record, row, detected)));
          for (const buffer of out) this.push(buffer);
          done();
        },
        flush(done) {
          for (const row of malformed) {
            const line = copyLine(row);
            if (used + line.length * 3 > COPY_CHUNK) this.push(take());
            used += chunk.write(line, used);
          }
          done(null, used > 0 ? take() : undefined);
        },
      });
      await pipeline(source, parser, toCopy, session.copyStream() as Writable, { signal: abort.signal });
      state.staging = false;
      lap('staging_ms');
      await repo.progress(job.id, { phase: 'validating', processed, bytes_processed: bytes, total: processed });
      await session.plan(job.organization_id);
      await session.saveErrors(job.id);
      lap('validating_ms');

      const names = [...new Set([...(await session.tagNames(MAX_TAGS_PER_IMPORT + 1)), ...defaultTags])];
      if (names.length > MAX_TAGS_PER_IMPORT) throw new AppError(422, 'too_many_tags', `An import may use at most ${MAX_TAGS_PER_IMPORT} different tags`);
      await repo.progress(job.id, { phase: 'merging' });

      const counts = await session.transaction(async (trx) => {
        await session.resolveTags(
          trx,
          job.organization_id,
          names.map((name) => ({ name, slug: slugify(name) })),
          !job.dry_run,
        );
        await session.links(trx, job.organization_id, job.update_existing, defaultTags);
        const result = await session.counts(trx, job.update_existing);
        const preview = await session.preview(trx, job.update_existing, PREVIEW_ROWS);
        lap('planning_ms');
        if (!job.dry_run) {
          await deps.entitlements.assertSubscriberCapacity(job.organization_id, result.created);
          await session.apply(trx, job.organization_id, job.id, job.update_existing);
          await insertEvents(trx, job.organization_id, [
            { type: 'import.completed', subjectId: job.id, payload: { import: { id: job.id, ...result }, source: 'import' } },
          ]);
        }
        if (!(await session.complete(trx, job.id, result, preview))) throw new Cancelled();
        return result;
      });
      lap('writing_ms');
      if (!job.dry_run) await files.remove(job.id);
      // Counts and phase durations only: nothing from the rows reaches the log.
      context.log.info({ import_id: job.id, dry_run: job.dry_run, rows: counts.total, ...timings }, 'import completed');
      return { ...counts, ...timings };
    } catch (error) {
      if (state.stopped === 'shutdown') return context.giveBack();
      if (state.stopped === 'cancelled' || error instanceof Cancelled) {
        await files.remove(job.id);
        return { cancelled: true };
      }
      // The file or the organization's limit is the problem: a retry would fail the same way.
      const permanent =
        error instanceof AppError
          ? { code: error.code, message: error.message }
          : error instanceof CsvError
            ? { code: 'invalid_csv', message: `The file is not valid CSV: ${error.message}` }
            : null;
      if (permanent) {
        await repo.fail(job.id, permanent);
        await files.remove(job.id);
        return { failed: permanent.code };
      }
      if (context.lastAttempt) await repo.fail(job.id, { code: 'import_failed', message: 'The import could not be completed; nothing was imported' });
      throw error;
    } finally {
      clearInterval(timer);
      session.close();
    }
  };
}
