import type { Readable } from 'node:stream';
import { AppError, conflict, notFound, unprocessable } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { decodeCursor, toPage } from '../../lib/pagination.ts';
import type { JobProducer } from '../../jobs/producer.ts';
import type { Entitlements } from '../entitlements/index.ts';
import type { SegmentService } from '../segments/index.ts';
import { isFiltered, normalizeFilter, type ListFilterInput, type SubscriberRepository } from '../subscribers/index.ts';
import { detectDelimiter, detectEncoding, mapColumns, splitHeader, type Detected, type Target } from './csv.ts';
import type { ImportFiles } from './files.ts';
import type { ImportRepository, ImportRow } from './imports.repository.ts';
import type { ImportDto, ImportOptionsInput } from './imports.schemas.ts';

const HEAD_BYTES = 64 * 1024;

export interface Author {
  type: 'user' | 'api_key';
  id: string;
}

const targetName = (target: Target): string => (target.field === 'metadata' ? `metadata.${target.key}` : target.field);

/** What is known of a file from its first bytes: encoding, delimiter, header and where each column goes. */
export function detect(head: Buffer, options: ImportOptionsInput): Detected {
  const found = detectEncoding(head);
  const encoding = options.encoding ?? found.encoding;
  const text = head.subarray(found.bom ? 3 : 0).toString(encoding === 'latin1' ? 'latin1' : 'utf8');
  const firstLine = text.split(/\r?\n/, 1)[0] ?? '';
  const delimiter = options.delimiter ?? detectDelimiter(firstLine);
  const header = splitHeader(firstLine, delimiter);
  if (firstLine.trim() === '') throw unprocessable('invalid_csv', 'The file is empty or its first line is not a header');
  const { columns, problem } = mapColumns(header, options);
  if (problem) throw unprocessable('invalid_mapping', problem);
  return { delimiter, encoding, bom: found.bom, header, columns };
}

export function toImportDto(row: ImportRow): ImportDto {
  const detected = row.detected as Detected;
  const options = row.options as ImportOptionsInput;
  const elapsed = row.started_at ? ((row.finished_at ?? new Date()).getTime() - row.started_at.getTime()) / 1000 : 0;
  const fileBytes = Number(row.file_bytes);
  const bytes = Number(row.bytes_processed);
  const rate = elapsed > 0 && row.processed > 0 ? Math.round(row.processed / elapsed) : null;
  const eta =
    row.status === 'running' && bytes > 0 && elapsed > 0
      ? Math.max(0, Math.round(((fileBytes - bytes) / bytes) * elapsed))
      : row.status === 'completed'
        ? 0
        : null;
  const createdBy = row.created_by_user_id
    ? { type: 'user' as const, id: row.created_by_user_id, ...(row.created_by_email ? { email: row.created_by_email } : {}) }
    : row.created_by_api_key_id
      ? { type: 'api_key' as const, id: row.created_by_api_key_id }
      : null;
  return {
    id: row.id,
    status: row.status,
    phase: row.phase,
    dry_run: row.dry_run,
    update_existing: row.update_existing,
    file_name: row.file_name,
    file_bytes: fileBytes,
    detected: {
      delimiter: detected.delimiter,
      encoding: detected.encoding,
      bom: detected.bom,
      header: detected.header,
      mapping: Object.fromEntries(detected.header.map((name, i) => [name, targetName(detected.columns[i]!)])),
    },
    tags: options.tags ?? [],
    total: row.total,
    processed: row.processed,
    bytes_processed: bytes,
    created: row.created,
    updated: row.updated,
    unchanged: row.unchanged,
    failed: row.failed,
    skipped: row.skipped as Record<string, number>,
    rows_per_second: rate,
    eta_seconds: eta,
    preview: (row.preview as ImportDto['preview'] | null) ?? [],
    error: row.error as ImportDto['error'],
    created_by: createdBy,
    started_at: row.started_at,
    finished_at: row.finished_at,
    created_at: row.created_at,
  };
}

/** Uploads, reports, cancellation and the start of a real run after a dry run. */
export function createImportService(deps: {
  repository: ImportRepository;
  files: ImportFiles;
  producer: JobProducer;
  entitlements: Pick<Entitlements, 'assertSubscriberCapacity'>;
  segments: Pick<SegmentService, 'predicate'>;
  subscribers: Pick<SubscriberRepository, 'matchingIds'>;
}) {
  const { repository: repo, files } = deps;

  async function mustGet(organizationId: string, id: string): Promise<ImportRow> {
    const row = await repo.get(organizationId, id);
    if (!row) throw notFound('import');
    return row;
  }

  return {
    /**
     * Streams the upload to disk (the multipart limit bounds its size), reads the header to detect the
     * format and check the mapping (422 at once when there is no email column), records the import
     * and queues it. The file never passes through memory whole, nor through Redis.
     */
    async upload(
      organizationId: string,
      author: Author | null,
      options: ImportOptionsInput,
      file: { name: string; stream: Readable; truncated: () => boolean },
      { enqueue = true }: { enqueue?: boolean } = {},
    ): Promise<ImportDto> {
      const id = newId();
      const bytes = await files.write(id, file.stream);
      try {
        if (file.truncated()) throw new AppError(413, 'file_too_large', 'The file is larger than this server accepts for an import');
        const detected = detect(await files.head(id, HEAD_BYTES), options);
        await repo.create({
          id,
          organization_id: organizationId,
          dry_run: options.dry_run ?? false,
          update_existing: options.update_existing ?? false,
          file_name: file.name.slice(0, 255),
          file_bytes: bytes,
          options: { tags: options.tags ?? [] },
          detected: { ...detected },
          created_by_user_id: author?.type === 'user' ? author.id : null,
          created_by_api_key_id: author?.type === 'api_key' ? author.id : null,
        });
      } catch (error) {
        await files.remove(id);
        throw error;
      }
      // The CLI runs the job itself instead (no worker needed); a worker taking it too would be harmless.
      if (enqueue) await deps.producer.enqueue('import.process', { import_id: id, dry_run: options.dry_run ?? false });
      return toImportDto(await mustGet(organizationId, id));
    },

    get: async (organizationId: string, id: string) => toImportDto(await mustGet(organizationId, id)),

    async list(organizationId: string, query: { limit?: number; cursor?: string }) {
      const limit = query.limit ?? 50;
      const page = toPage(await repo.list(organizationId, { limit, beforeId: decodeCursor(query.cursor) }), limit);
      return { items: page.items.map(toImportDto), next_cursor: page.next_cursor };
    },

    async errorsCsv(organizationId: string, id: string): Promise<Readable> {
      await mustGet(organizationId, id);
      return repo.errorsCsv(organizationId, id);
    },

    /**
     * The organization's subscribers as CSV or NDJSON, streamed from the database (constant memory), with
     * exactly the subscriber list's filters (the list's own compiler) and optionally a saved segment
     * (404 when it is not the organization's).
     */
    async exportStream(
      organizationId: string,
      options: { format: 'csv' | 'ndjson'; filter?: ListFilterInput; segmentId?: string; metadataKeys: string[] },
    ): Promise<Readable> {
      const filter = normalizeFilter(options.filter ?? {});
      const segment = options.segmentId ? await deps.segments.predicate(organizationId, options.segmentId) : undefined;
      const matching = isFiltered(filter) ? ((await deps.subscribers.matchingIds(organizationId, filter)) ?? false) : undefined;
      return repo.exportStream(organizationId, { format: options.format, matching, segment, metadataKeys: options.metadataKeys });
    },

    /** Cancels a queued or running import: the worker stops at its next check (within a second). */
    async cancel(organizationId: string, id: string): Promise<ImportDto> {
      const row = await mustGet(organizationId, id);
      if (!(await repo.cancel(organizationId, id))) throw conflict('import_finished', `The import is already ${row.status}`);
      return toImportDto(await mustGet(organizationId, id));
    },

    /** Runs a completed dry run for real, on the same file; 402 at once when it would exceed the subscriber limit. */
    async start(organizationId: string, id: string): Promise<ImportDto> {
      const row = await mustGet(organizationId, id);
      if (!row.dry_run || row.status !== 'completed') throw conflict('not_a_finished_dry_run', 'Only a completed dry run can be started');
      await deps.entitlements.assertSubscriberCapacity(organizationId, row.created);
      if (!(await repo.queueRealRun(organizationId, id))) throw conflict('not_a_finished_dry_run', 'Only a completed dry run can be started');
      await deps.producer.enqueue('import.process', { import_id: id, dry_run: false });
      return toImportDto(await mustGet(organizationId, id));
    },
  };
}

export type ImportService = ReturnType<typeof createImportService>;
