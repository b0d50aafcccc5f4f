import { badRequest } from './errors.ts';
import { isUuid } from './ids.ts';

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

/**
 * Cursors are opaque to callers: base64url of the last row's id. Rows are listed newest first by their
 * UUIDv7 id, so "after the cursor" is simply `id < cursor`.
 */
export function encodeCursor(id: string): string {
  return Buffer.from(id, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!isUuid(id)) throw badRequest('invalid_cursor', 'The cursor is not valid', [{ field: 'cursor', message: 'not a cursor returned by this API' }]);
  return id;
}

/** Callers fetch `limit + 1` rows; the extra row tells whether there is a next page. */
export function toPage<T extends { id: string }>(rows: T[], limit: number): Page<T> {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, next_cursor: rows.length > limit && last ? encodeCursor(last.id) : null };
}
