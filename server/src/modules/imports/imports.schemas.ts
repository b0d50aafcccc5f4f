import { Type, type Static } from 'typebox';
import { Cursor, Limit, NextCursor, NullableTimestamp, StringEnum, Timestamp, Uuid } from '../common.schemas.ts';
import { ListFilterFields } from '../subscribers/index.ts';
import { DELIMITERS, ENCODINGS, METADATA_TYPES, ROW_ERRORS } from './csv.ts';
import { IMPORT_PHASES, IMPORT_STATUSES } from './imports.repository.ts';

const MetadataKey = Type.String({ pattern: '^[A-Za-z0-9_-]{1,100}$' });
const TagName = Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' });

/** The `options` part of an upload (JSON), sent before the file part. */
export const ImportOptions = Type.Object(
  {
    mapping: Type.Optional(
      Type.Record(
        Type.String({ minLength: 1, maxLength: 200 }),
        Type.String({ pattern: '^(email|first_name|last_name|tags|ignore|metadata\\.[A-Za-z0-9_-]{1,100})$' }),
        {
          maxProperties: 200,
          description:
            'CSV header → email, first_name, last_name, tags, ignore or metadata.<key>. Columns not named here are recognised by their header (email, e-mail, Email Address, First Name, …) or ignored.',
        },
      ),
    ),
    metadata_types: Type.Optional(
      Type.Record(MetadataKey, StringEnum(METADATA_TYPES), { maxProperties: 100, description: 'Type of each metadata key (string by default)' }),
    ),
    tags: Type.Optional(Type.Array(TagName, { maxItems: 20, description: 'Tags every imported row is subscribed to (created private when new)' })),
    update_existing: Type.Optional(
      Type.Boolean({
        default: false,
        description: 'Update names, metadata and tags of subscribers that exist; otherwise they are skipped. A status is never changed.',
      }),
    ),
    dry_run: Type.Optional(Type.Boolean({ default: false, description: 'Only report what the import would do; nothing is written' })),
    delimiter: Type.Optional(StringEnum(DELIMITERS, { description: 'Detected from the header when not given' })),
    encoding: Type.Optional(StringEnum(ENCODINGS, { description: 'Detected (UTF-8 with or without BOM, otherwise Latin-1) when not given' })),
  },
  { additionalProperties: false },
);
export type ImportOptionsInput = Static<typeof ImportOptions>;

const Count = Type.Integer({ minimum: 0 });

export const Import = Type.Object(
  {
    id: Uuid,
    status: StringEnum(IMPORT_STATUSES),
    phase: Type.Union([StringEnum(IMPORT_PHASES), Type.Null()], { description: 'While running: staging (reading the file), validating, merging' }),
    dry_run: Type.Boolean(),
    update_existing: Type.Boolean(),
    file_name: Type.String(),
    file_bytes: Count,
    detected: Type.Object({
      delimiter: Type.String(),
      encoding: Type.String(),
      bom: Type.Boolean(),
      header: Type.Array(Type.String()),
      mapping: Type.Record(Type.String(), Type.String(), { description: 'Each header column and where it goes' }),
    }),
    tags: Type.Array(Type.String(), { description: 'Tags added to every row' }),
    total: Type.Union([Count, Type.Null()], { description: 'Data rows in the file, known once it is read' }),
    processed: Count,
    bytes_processed: Count,
    created: Type.Integer({ description: 'Subscribers created (a dry run: would create)' }),
    updated: Count,
    unchanged: Count,
    failed: Type.Integer({ description: 'Invalid rows (listed in the errors file)' }),
    skipped: Type.Record(Type.String(), Count, { description: 'Rows skipped, by reason: duplicate_in_file, exists, suppressed' }),
    rows_per_second: Type.Union([Type.Number(), Type.Null()]),
    eta_seconds: Type.Union([Type.Number(), Type.Null()], { description: 'Estimated from the bytes read so far while running' }),
    preview: Type.Array(
      Type.Object({
        row: Count,
        email: Type.Union([Type.String(), Type.Null()]),
        first_name: Type.Union([Type.String(), Type.Null()]),
        last_name: Type.Union([Type.String(), Type.Null()]),
        tags: Type.Array(Type.String()),
        metadata: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
        action: Type.String({ description: 'create, update, unchanged, skip_exists, skip_suppressed, or the error code of an invalid row' }),
      }),
      { description: 'The first 20 rows as mapped, once the file is read' },
    ),
    error: Type.Union([Type.Object({ code: Type.String(), message: Type.String() }), Type.Null()]),
    created_by: Type.Union([Type.Object({ type: StringEnum(['user', 'api_key'] as const), id: Uuid, email: Type.Optional(Type.String()) }), Type.Null()]),
    started_at: NullableTimestamp,
    finished_at: NullableTimestamp,
    created_at: Timestamp,
  },
  { $id: 'Import', additionalProperties: false },
);
export type ImportDto = Static<typeof Import>;

export const ImportList = Type.Object({ items: Type.Array(Import), next_cursor: NextCursor });
export const ListImportsQuery = Type.Object({ limit: Type.Optional(Limit), cursor: Type.Optional(Cursor) }, { additionalProperties: false });

export const ExportQuery = Type.Object(
  {
    format: Type.Optional(StringEnum(['csv', 'ndjson'] as const, { default: 'csv' })),
    // Exactly the filters of the subscriber list (GET /subscribers), with the same meaning.
    ...ListFilterFields,
    segment_id: Type.Optional(Type.String({ format: 'uuid', description: 'Only the members of this saved segment (combined with the other filters)' })),
    metadata: Type.Optional(
      Type.String({
        maxLength: 2000,
        pattern: '^[A-Za-z0-9_-]{1,100}(,[A-Za-z0-9_-]{1,100}){0,49}$',
        description: 'Comma-separated metadata keys, each its own column (metadata.<key>); without it one metadata column holds the JSON object',
      }),
    ),
  },
  { additionalProperties: false },
);
export type ExportQueryInput = Static<typeof ExportQuery>;

/** Sentences for the row error codes, for the docs and the errors file's readers. */
export const rowErrorMessages = ROW_ERRORS;
