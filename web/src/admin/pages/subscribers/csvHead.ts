/**
 * What the wizard shows before anything is uploaded: the first rows of the chosen file, read in the
 * browser from its first bytes, with the delimiter and encoding guessed the way the server detects them
 * (UTF-8 with or without BOM, otherwise Latin-1; the delimiter most frequent outside quotes on the
 * header line). The server detects again on upload, and the dry run reports what it found.
 *
 * This overlaps the server's csv.ts (header names, delimiter and encoding detection) on purpose: the
 * web apps reach the server only over HTTP (an import rule), the server's build and image hold only
 * server/src, and the two work on different inputs (a Blob's first bytes here, a Buffer there). A
 * test on the server side (test/imports/csv-head-parity.test.ts) reads both and fails when they
 * disagree on a header name, a delimiter or an encoding.
 */

export type Delimiter = ',' | ';' | '\t';
export type Encoding = 'utf-8' | 'latin1';
export type Target = 'email' | 'first_name' | 'last_name' | 'tags' | 'metadata' | 'ignore';

export interface CsvHead {
  delimiter: Delimiter;
  encoding: Encoding;
  bom: boolean;
  header: string[];
  /** Up to `maxRows` data rows after the header. */
  rows: string[][];
}

export const HEAD_BYTES = 64 * 1024;
const DELIMITERS: Delimiter[] = [',', ';', '\t'];

export const DELIMITER_NAMES: Record<string, string> = { ',': 'comma', ';': 'semicolon', '\t': 'tab' };
export const ENCODING_NAMES: Record<string, string> = { 'utf-8': 'UTF-8', latin1: 'Latin-1 (Windows)' };

/** Header names people use, compared without case, spaces, accents or punctuation (as the server does). */
export const KNOWN_HEADERS: Record<string, Target> = {
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

/** Where a column goes when the person does not choose: a known header name, otherwise a metadata key. */
export function guessTarget(name: string): Target {
  return KNOWN_HEADERS[headerKey(name)] ?? 'metadata';
}

/** A metadata key the API accepts, made from a header name ("Plan type" → "plan_type"). */
export function metadataKeyOf(name: string): string {
  const key = name
    .replace(/ß/g, 'ss')
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 100);
  return key || 'field';
}

export const METADATA_KEY = /^[A-Za-z0-9_-]{1,100}$/;

function decode(bytes: Uint8Array): { text: string; encoding: Encoding; bom: boolean } {
  const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  const body = bom ? bytes.subarray(3) : bytes;
  // The slice may end inside a multi-byte character: check only up to the last line break.
  let end = body.lastIndexOf(0x0a);
  if (end < 0) end = body.length;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(body.subarray(0, end));
    return { text: new TextDecoder('utf-8').decode(body), encoding: 'utf-8', bom };
  } catch {
    return { text: new TextDecoder('latin1').decode(body), encoding: 'latin1', bom: false };
  }
}

function detectDelimiter(firstLine: string): Delimiter {
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

/** Splits text into records (quoted fields may hold delimiters, quotes and line breaks). */
function parse(text: string, delimiter: Delimiter, maxRecords: number): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length && records.length < maxRecords; i += 1) {
    const char = text[i]!;
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === delimiter) {
      record.push(field);
      field = '';
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && text[i + 1] === '\n') i += 1;
      record.push(field);
      if (record.length > 1 || record[0] !== '') records.push(record);
      record = [];
      field = '';
    } else field += char;
  }
  if (records.length < maxRecords && (field !== '' || record.length > 0) && !quoted) {
    record.push(field);
    records.push(record);
  }
  return records;
}

/** Reads the start of a file in the browser. */
export async function readHead(file: Blob, maxRows = 5): Promise<CsvHead> {
  const bytes = new Uint8Array(await file.slice(0, HEAD_BYTES).arrayBuffer());
  const { text, encoding, bom } = decode(bytes);
  const firstLine = text.split(/\r?\n/, 1)[0] ?? '';
  const delimiter = detectDelimiter(firstLine);
  // When the slice cuts the file, its last line is incomplete: leave it out.
  const complete = file.size > HEAD_BYTES ? text.slice(0, Math.max(text.lastIndexOf('\n'), 0)) : text;
  const [header = [], ...rows] = parse(complete, delimiter, maxRows + 1);
  return { delimiter, encoding, bom, header: header.map((h) => h.trim()), rows };
}
