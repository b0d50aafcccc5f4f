import { isEmail } from '../../lib/email.ts';
import { slugify } from '../../lib/slug.ts';

/**
 * The file side of an import: detecting how a CSV is written, mapping its columns to subscriber
 * fields, checking each row on its own and writing it in PostgreSQL's COPY text format. Everything
 * that needs the whole file (duplicates, existing subscribers) is decided in SQL afterwards.
 */

export const DELIMITERS = [',', ';', '\t'] as const;
export type Delimiter = (typeof DELIMITERS)[number];
export const ENCODINGS = ['utf-8', 'latin1'] as const;
export type Encoding = (typeof ENCODINGS)[number];
export const METADATA_TYPES = ['string', 'number', 'boolean', 'date'] as const;
export type MetadataType = (typeof METADATA_TYPES)[number];

/** Where a column goes: a subscriber field, a typed metadata key, or nowhere. */
export type Target = { field: 'email' | 'first_name' | 'last_name' | 'tags' } | { field: 'metadata'; key: string; type: MetadataType } | { field: 'ignore' };

export interface Detected {
  delimiter: Delimiter;
  encoding: Encoding;
  bom: boolean;
  header: string[];
  /** The target of each header column, in order. */
  columns: Target[];
}

const NAME_MAX = 100;
const TAG_MAX = 100;
const TAGS_PER_ROW_MAX = 50;
const METADATA_VALUE_MAX = 1000;
const METADATA_MAX_BYTES = 16 * 1024;
/** Separates a row's tag names inside one staged column; rows with control characters never get here. */
export const TAG_SEPARATOR = '\u001f';

// Header names people use, compared without case, spaces or punctuation. The import wizard guesses
// the same way in the browser (web/src/admin/pages/subscribers/csvHead.ts); a test keeps the two equal.
export const KNOWN_HEADERS: Record<string, 'email' | 'first_name' | 'last_name' | 'tags'> = {
  email: 'email',
  emailaddress: 'email',
  mail: 'email',
  emailadresse: 'email',
  courriel: 'email',
  correo: 'email',
  correoelectronico: 'email',
  firstname: 'first_name',
  fname: 'first_name',
  givenname: 'first_name',
  forename: 'first_name',
  vorname: 'first_name',
  prenom: 'first_name',
  nombre: 'first_name',
  lastname: 'last_name',
  lname: 'last_name',
  surname: 'last_name',
  familyname: 'last_name',
  nachname: 'last_name',
  nom: 'last_name',
  apellido: 'last_name',
  tags: 'tags',
  tag: 'tags',
  topics: 'tags',
  lists: 'tags',
  groups: 'tags',
};
const headerKey = (name: string) =>
  name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');

/** Why a row was not imported: stable codes (the errors file and the API use them) with a sentence. */
export const ROW_ERRORS = {
  wrong_column_count: 'The row does not have as many columns as the header',
  malformed_row: 'The row is not valid CSV (a quote is not closed or is followed by text)',
  missing_email: 'The email is empty',
  invalid_email: 'The email is not a valid address',
  control_characters: 'The value contains control characters',
  too_long: 'The value is too long',
  invalid_tag: 'A tag name needs a letter or digit and at most 100 characters',
  too_many_tags: 'A row may name at most 50 tags',
  not_a_number: 'The value is not a number',
  not_a_boolean: 'The value is not true/false, yes/no or 1/0',
  not_a_date: 'The value is not a date',
  metadata_too_large: 'The metadata of the row is larger than 16 KB',
  duplicate_in_file: 'The email appears on an earlier row of the file',
} as const;
export type RowError = keyof typeof ROW_ERRORS;

/** Reads the first bytes of a file: BOM, then UTF-8 if they decode as such, otherwise Latin-1. */
export function detectEncoding(head: Buffer): { encoding: Encoding; bom: boolean } {
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return { encoding: 'utf-8', bom: true };
  // A multi-byte character may be cut at the end of the sample: decide on the complete lines only.
  const lastNewline = head.lastIndexOf(0x0a);
  const sample = lastNewline > 0 ? head.subarray(0, lastNewline) : head;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(sample);
    return { encoding: 'utf-8', bom: false };
  } catch {
    return { encoding: 'latin1', bom: false };
  }
}

/** The delimiter that appears most often outside quotes on the first line. */
export function detectDelimiter(firstLine: string): Delimiter {
  const counts = new Map<Delimiter, number>(DELIMITERS.map((d) => [d, 0]));
  let quoted = false;
  for (const char of firstLine) {
    if (char === '"') quoted = !quoted;
    else if (!quoted && counts.has(char as Delimiter)) counts.set(char as Delimiter, counts.get(char as Delimiter)! + 1);
  }
  let best: Delimiter = ',';
  for (const [delimiter, count] of counts) if (count > counts.get(best)!) best = delimiter;
  return best;
}

/** Splits one header line (no newlines inside quotes are expected in a header). */
export function splitHeader(line: string, delimiter: Delimiter): string[] {
  const fields: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < line.length; i += 1) {
    const char = line[i]!;
    if (quoted) {
      if (char === '"' && line[i + 1] === '"') {
        current += '"';
        i += 1;
      } else if (char === '"') quoted = false;
      else current += char;
    } else if (char === '"') quoted = true;
    else if (char === delimiter) {
      fields.push(current.trim());
      current = '';
    } else current += char;
  }
  fields.push(current.trim());
  return fields;
}

export interface MappingOptions {
  /** Header name → target ("email", "first_name", "last_name", "tags", "metadata.<key>", "ignore"). */
  mapping?: Record<string, string>;
  /** Type of each metadata key (string when not named). */
  metadata_types?: Record<string, MetadataType>;
}

/**
 * The target of each header column: the caller's mapping first, then the known header names; other
 * columns are ignored. Fails (with a sentence) when no column is the email, or two are the same field.
 */
export function mapColumns(header: string[], options: MappingOptions): { columns: Target[]; problem?: string } {
  const mapping = new Map(Object.entries(options.mapping ?? {}).map(([name, target]) => [name.trim().toLowerCase(), target]));
  const columns: Target[] = header.map((name) => {
    const wanted = mapping.get(name.toLowerCase());
    if (wanted === undefined) {
      const known = KNOWN_HEADERS[headerKey(name)];
      return known ? { field: known } : { field: 'ignore' };
    }
    if (wanted.startsWith('metadata.')) {
      const key = wanted.slice('metadata.'.length);
      return { field: 'metadata', key, type: options.metadata_types?.[key] ?? 'string' };
    }
    return { field: wanted as 'email' | 'first_name' | 'last_name' | 'tags' | 'ignore' };
  });
  for (const name of mapping.keys()) {
    if (!header.some((h) => h.toLowerCase() === name)) return { columns, problem: `The mapping names a column "${name}" the file does not have` };
  }
  const single = ['email', 'first_name', 'last_name', 'tags'] as const;
  for (const field of single) {
    if (columns.filter((c) => c.field === field).length > 1) return { columns, problem: `Two columns are mapped to ${field}` };
  }
  const keys = columns.flatMap((c) => (c.field === 'metadata' ? [c.key] : []));
  if (new Set(keys).size < keys.length) return { columns, problem: 'Two columns are mapped to the same metadata key' };
  if (!columns.some((c) => c.field === 'email')) return { columns, problem: 'No column holds the email: name one "email" or map it' };
  return { columns };
}

/** One row as staged: the mapped values, or the first problem found with the column it is in. */
export interface StagedRow {
  row: number;
  email: string | null;
  first_name: string | null;
  last_name: string | null;
  tags: string[];
  metadata: Record<string, unknown>;
  /** The metadata as JSON, null when there is none (made once, for the size check and the COPY line). */
  metadataJson?: string | null;
  error: { code: RowError; column: string } | null;
}

const NO_TAGS: string[] = [];

// Names and addresses never contain control characters; free-text metadata may hold tabs and newlines.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;
// eslint-disable-next-line no-control-regex -- as above
const CONTROL_IN_TEXT = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
const NUMBER = /^-?\d+(\.\d+)?$/;
const TRUE = new Set(['true', 'yes', 'y', '1']);
const FALSE = new Set(['false', 'no', 'n', '0']);

function typed(value: string, type: MetadataType): { value: unknown } | { error: RowError } {
  switch (type) {
    case 'number':
      return NUMBER.test(value) ? { value: Number(value) } : { error: 'not_a_number' };
    case 'boolean': {
      const lower = value.toLowerCase();
      return TRUE.has(lower) ? { value: true } : FALSE.has(lower) ? { value: false } : { error: 'not_a_boolean' };
    }
    case 'date': {
      const time = Date.parse(value);
      return Number.isNaN(time) ? { error: 'not_a_date' } : { value: new Date(time).toISOString() };
    }
    default:
      if (CONTROL_IN_TEXT.test(value)) return { error: 'control_characters' };
      return value.length > METADATA_VALUE_MAX ? { error: 'too_long' } : { value };
  }
}

/** Maps and checks one parsed record (empty cells mean "not given": they never clear a field). */
export function stageRow(fields: string[], row: number, detected: Pick<Detected, 'header' | 'columns'>): StagedRow {
  const staged: StagedRow = { row, email: null, first_name: null, last_name: null, tags: NO_TAGS, metadata: {}, metadataJson: null, error: null };
  const fail = (code: RowError, column: string): StagedRow => ({ ...staged, metadataJson: null, error: { code, column } });
  let hasMetadata = false;
  if (fields.length !== detected.header.length) return fail('wrong_column_count', '*');
  for (const [index, target] of detected.columns.entries()) {
    const column = detected.header[index]!;
    const value = fields[index]!.trim();
    if (target.field === 'ignore') continue;
    if (target.field === 'email') {
      if (value === '') return fail('missing_email', column);
      if (CONTROL.test(value)) return fail('control_characters', column);
      if (!isEmail(value)) return fail('invalid_email', column);
      staged.email = value;
      continue;
    }
    if (value === '') continue;
    if (target.field === 'first_name' || target.field === 'last_name') {
      if (CONTROL.test(value)) return fail('control_characters', column);
      if (value.length > NAME_MAX) return fail('too_long', column);
      staged[target.field] = value;
    } else if (target.field === 'tags') {
      const tags = readTags(value);
      if (typeof tags === 'string') return fail(tags, column);
      staged.tags = tags;
    } else if (target.field === 'metadata') {
      const result = typed(value, target.type);
      if ('error' in result) return fail(result.error, column);
      staged.metadata[target.key] = result.value;
      hasMetadata = true;
    }
  }
  if (hasMetadata) {
    staged.metadataJson = JSON.stringify(staged.metadata);
    // A character is at most 3 UTF-8 bytes (4 for a pair of 2 UTF-16 units): count bytes only when it could matter.
    if (staged.metadataJson.length * 3 > METADATA_MAX_BYTES && Buffer.byteLength(staged.metadataJson) > METADATA_MAX_BYTES)
      return fail('metadata_too_large', '*');
  }
  return staged;
}

// A file names few distinct tag cells ("even", "odd", "vip;news"): each is split and checked once
// (at most 10,000 short cells are remembered, about 2 MB).
const TAG_CELLS_CACHED = 10_000;
const TAG_CELL_CACHED_LENGTH = 200;
const tagCells = new Map<string, string[] | RowError>();

/** The distinct tag names of a tags cell, or why the cell is refused. */
function readTags(value: string): string[] | RowError {
  const cached = tagCells.get(value);
  if (cached !== undefined) return cached;
  let result: string[] | RowError;
  if (CONTROL.test(value)) result = 'control_characters';
  else {
    const names = [
      ...new Set(
        value
          .split(/[;,|]/)
          .map((t) => t.trim())
          .filter(Boolean),
      ),
    ];
    result = names.length > TAGS_PER_ROW_MAX ? 'too_many_tags' : names.some((name) => name.length > TAG_MAX || slugify(name) === '') ? 'invalid_tag' : names;
  }
  if (value.length <= TAG_CELL_CACHED_LENGTH) {
    if (tagCells.size >= TAG_CELLS_CACHED) tagCells.clear();
    tagCells.set(value, result);
  }
  return result;
}

// COPY text format: backslash escapes, \N for NULL, tab between columns, newline after the row.
const COPY_SPECIAL = /[\\\n\r\t]/;
const copyText = (value: string | null): string =>
  value === null
    ? '\\N'
    : !COPY_SPECIAL.test(value)
      ? value
      : value.replace(/[\\\n\r\t]/g, (c) => (c === '\\' ? '\\\\' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\t'));

/** The staged row as one line of COPY text, in the column order of the staging table. */
export function copyLine(row: StagedRow): string {
  const metadata = row.metadataJson !== undefined ? row.metadataJson : Object.keys(row.metadata).length > 0 ? JSON.stringify(row.metadata) : null;
  const tags = row.tags.length === 0 ? '\\N' : copyText(row.tags.length === 1 ? row.tags[0]! : row.tags.join(TAG_SEPARATOR));
  const error = row.error ? `${row.error.code}\t${copyText(row.error.column)}` : '\\N\t\\N';
  return `${row.row}\t${copyText(row.email)}\t${copyText(row.first_name)}\t${copyText(row.last_name)}\t${tags}\t${copyText(metadata)}\t${error}\n`;
}
