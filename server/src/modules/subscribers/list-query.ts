import { sql, type ExpressionBuilder, type RawBuilder, type SelectQueryBuilder, type SqlBool } from 'kysely';
import { Type, type Static } from 'typebox';
import type { DB } from '../../db/types.ts';
import { badRequest } from '../../lib/errors.ts';
import { isUuid } from '../../lib/ids.ts';
import { StringEnum } from '../common.schemas.ts';
import { SUBSCRIBER_STATUSES, type SubscriberStatus } from './statuses.ts';

/**
 * The filters of the subscriber list, shared by the list, its total and the bulk actions over "all N
 * matching" (which store them as JSON and apply them again in the worker). Every value becomes a bind
 * parameter; tags are resolved inside the organization first.
 */
const STATUS_LIST = `^(${SUBSCRIBER_STATUSES.join('|')})(,(${SUBSCRIBER_STATUSES.join('|')})){0,4}$`;
const TAG_LIST = Type.String({
  minLength: 1,
  maxLength: 2100,
  pattern: '^[^,]{1,100}(,[^,]{1,100}){0,19}$',
  description: 'Comma-separated tag slugs or names (at most 20)',
});
export const SEARCH_MAX = 100;

export const ListFilterFields = {
  status: Type.Optional(
    Type.String({
      pattern: STATUS_LIST,
      maxLength: 80,
      description: 'One status, or several separated by commas (any of them): pending, active, unsubscribed, bounced, complained',
    }),
  ),
  tag: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 100,
      description: 'Only subscribers subscribed to this tag, given by slug or by name (case-insensitive); an unknown tag gives an empty list',
    }),
  ),
  tags_any: Type.Optional({ ...TAG_LIST, description: 'Subscribed to at least one of these tags (comma-separated slugs or names, at most 20)' }),
  tags_all: Type.Optional({ ...TAG_LIST, description: 'Subscribed to every one of these tags (an unknown tag gives an empty list)' }),
  tags_none: Type.Optional({ ...TAG_LIST, description: 'Subscribed to none of these tags' }),
  source: Type.Optional(Type.String({ minLength: 1, maxLength: 50, description: 'Where the subscriber came from, exactly (api, import, form, …)' })),
  created_after: Type.Optional(Type.String({ format: 'date-time', description: 'Created at or after this time' })),
  created_before: Type.Optional(Type.String({ format: 'date-time', description: 'Created before this time' })),
  q: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: SEARCH_MAX,
      description:
        'Part of the email address, first or last name, case-insensitive (e.g. "smith", "@example.com"). Terms of one or two characters are matched too, more slowly.',
    }),
  ),
};
export const ListFilterSchema = Type.Object(ListFilterFields, { additionalProperties: false });
export type ListFilterInput = Static<typeof ListFilterSchema>;

export const SORT_FIELDS = ['created_at', 'email', 'name', 'status'] as const;
export type SortField = (typeof SORT_FIELDS)[number];
export const SortFields = {
  sort: Type.Optional(StringEnum(SORT_FIELDS, { description: 'Sort column (default created_at)' })),
  order: Type.Optional(StringEnum(['asc', 'desc'] as const, { description: 'Default: desc for created_at, asc for the others' })),
};

const splitList = (value: string | undefined) =>
  value === undefined
    ? undefined
    : [
        ...new Set(
          value
            .split(',')
            .map((v) => v.trim())
            .filter(Boolean),
        ),
      ];

/** The filter as stored with a bulk action and compared by the worker: only the fields given. */
export function normalizeFilter(input: ListFilterInput): ListFilterInput {
  const out: ListFilterInput = {};
  for (const [key, value] of Object.entries(input) as [keyof ListFilterInput, string | undefined][]) {
    if (value === undefined) continue;
    const trimmed = key === 'q' ? value.trim() : value;
    if (trimmed !== '') out[key] = trimmed;
  }
  return out;
}

export const filterTagRefs = (filter: ListFilterInput): string[] => [
  ...new Set(
    [filter.tag, ...(splitList(filter.tags_any) ?? []), ...(splitList(filter.tags_all) ?? []), ...(splitList(filter.tags_none) ?? [])].filter(
      (v): v is string => !!v,
    ),
  ),
];

/** Tag reference (slug, or lower-cased name) → id, for the organization's tags the filter names. */
export type TagLookup = (ref: string) => string | undefined;

/** Escapes LIKE's wildcards and its escape character, so a term is matched literally. */
export const escapeLike = (term: string) => term.replace(/[\\%_]/g, (c) => `\\${c}`);

// The expression the name trigram index and the name sort index are built on (see the migration).
export const NAME_KEY = sql<string>`lower(coalesce(subscribers.first_name, '') || ' ' || coalesce(subscribers.last_name, ''))`;

type SubscriberQuery<O> = SelectQueryBuilder<DB, 'subscribers', O>;
const hasTag = (eb: ExpressionBuilder<DB, 'subscribers'>, tagIds: string[]) =>
  eb.exists(
    eb
      .selectFrom('subscriber_tags as st')
      .select(sql`1`.as('one'))
      .whereRef('st.subscriber_id', '=', 'subscribers.id')
      .where('st.status', '=', 'subscribed')
      .where(tagIds.length === 1 ? sql<SqlBool>`st.tag_id = ${tagIds[0]}` : sql<SqlBool>`st.tag_id = any(${tagIds}::uuid[])`),
  );

/**
 * AND-s the filter onto a query over the organization's subscribers. Returns undefined when the filter
 * cannot match anyone (a required tag does not exist), so callers answer without a query.
 */
export function applyFilter<O>(query: SubscriberQuery<O>, filter: ListFilterInput, lookup: TagLookup): SubscriberQuery<O> | undefined {
  let q = query;
  const statuses = splitList(filter.status) as SubscriberStatus[] | undefined;
  if (statuses?.length === 1) q = q.where('subscribers.status', '=', statuses[0]!);
  else if (statuses && statuses.length > 1) q = q.where('subscribers.status', 'in', statuses);
  if (filter.source) q = q.where('subscribers.source', '=', filter.source);
  if (filter.created_after) q = q.where('subscribers.created_at', '>=', new Date(filter.created_after));
  if (filter.created_before) q = q.where('subscribers.created_at', '<', new Date(filter.created_before));
  const term = filter.q?.trim().toLowerCase();
  if (term) {
    const pattern = `%${escapeLike(term)}%`;
    // Two trigram indexes, one per expression: PostgreSQL ORs their bitmaps. Terms shorter than three
    // characters have no trigram; they are matched by the same LIKE (correct, slower) under the
    // list's statement timeout.
    // A whole address ("ada@gmail.com") would make the index read the posting lists of the domain's
    // trigrams, which nearly every row holds; the index is given the part up to the "@" and the whole
    // term is checked on the rows it finds (strpos: literal, no wildcards).
    const at = term.indexOf('@');
    const email =
      at >= 3 && at < term.length - 1
        ? sql<SqlBool>`(lower(subscribers.email) like ${`%${escapeLike(term.slice(0, at + 1))}%`} and strpos(lower(subscribers.email), ${term}) > 0)`
        : sql<SqlBool>`lower(subscribers.email) like ${pattern}`;
    q = q.where(sql<SqlBool>`(${email} or ${NAME_KEY} like ${pattern})`);
  }
  const resolve = (refs: string[] | undefined) => (refs ?? []).map((r) => lookup(r));
  const all = [...(filter.tag ? [filter.tag] : []), ...(splitList(filter.tags_all) ?? [])];
  const allIds = resolve(all);
  if (allIds.some((id) => id === undefined)) return undefined;
  for (const id of new Set(allIds as string[])) q = q.where((eb) => hasTag(eb, [id]));
  const anyRefs = splitList(filter.tags_any);
  if (anyRefs?.length) {
    const anyIds = resolve(anyRefs).filter((id): id is string => !!id);
    if (anyIds.length === 0) return undefined;
    q = q.where((eb) => hasTag(eb, anyIds));
  }
  const noneIds = resolve(splitList(filter.tags_none)).filter((id): id is string => !!id);
  if (noneIds.length) q = q.where((eb) => eb.not(hasTag(eb, noneIds)));
  return q;
}

/** Whether a filter narrows the list at all (an empty filter is "every subscriber"). */
export const isFiltered = (filter: ListFilterInput) => Object.values(normalizeFilter(filter)).length > 0;

// ---- Sorting and keyset cursors -------------------------------------------------------------------

export interface Sort {
  field: SortField;
  order: 'asc' | 'desc';
}

export const resolveSort = (sort?: SortField, order?: 'asc' | 'desc'): Sort => ({
  field: sort ?? 'created_at',
  order: order ?? (sort === undefined || sort === 'created_at' ? 'desc' : 'asc'),
});

/**
 * The sort key of each column. created_at sorts by the id: ids are UUIDv7 of the creation time, so the
 * order is the same and the primary index serves it. Email is unique per organization (lower-cased), so
 * it needs no tie-breaker; name and status use the id as one, in the same direction, so one row
 * comparison `(key, id) > (value, id)` is the keyset condition and one index serves each direction.
 */
const sortKey = (field: SortField): RawBuilder<string> | undefined =>
  field === 'email' ? sql<string>`lower(subscribers.email)` : field === 'name' ? NAME_KEY : field === 'status' ? sql<string>`subscribers.status` : undefined;

/** The sort key as a column of the page's rows (named `sort_key`), for the next cursor. */
export const sortKeyColumn = (field: SortField) => {
  const key = sortKey(field);
  return key ? key.as('sort_key') : sql<null>`null`.as('sort_key');
};

export interface Position {
  id: string;
  value?: string;
}

/**
 * Cursors are opaque: for the default order (newest first) base64url of the last id, as before; for
 * another sort base64url of JSON [field, order, value, id], so a cursor cannot be reused under a
 * different sort by mistake.
 */
export function encodePosition(sort: Sort, position: Position): string {
  if (sort.field === 'created_at' && sort.order === 'desc') return Buffer.from(position.id, 'utf8').toString('base64url');
  return Buffer.from(JSON.stringify([sort.field, sort.order, position.value ?? null, position.id]), 'utf8').toString('base64url');
}

export function decodePosition(sort: Sort, cursor: string | undefined): Position | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  const invalid = () =>
    badRequest('invalid_cursor', 'The cursor is not valid', [
      { field: 'cursor', code: 'invalid_value', message: 'not a cursor returned by this API for this sort order' },
    ]);
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (sort.field === 'created_at' && sort.order === 'desc') {
    if (!isUuid(text)) throw invalid();
    return { id: text };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalid();
  }
  if (!Array.isArray(parsed) || parsed.length !== 4) throw invalid();
  const [field, order, value, id] = parsed as unknown[];
  if (field !== sort.field || order !== sort.order || typeof id !== 'string' || !isUuid(id)) throw invalid();
  if (sort.field !== 'created_at' && (typeof value !== 'string' || value.length > 1000)) throw invalid();
  return { id, value: typeof value === 'string' ? value : undefined };
}

/** Orders the query by the sort and continues after `after` (keyset pagination). */
export function applySort<O>(query: SubscriberQuery<O>, sort: Sort, after: Position | undefined): SubscriberQuery<O> {
  const key = sortKey(sort.field);
  const cmp = sort.order === 'asc' ? sql.raw('>') : sql.raw('<');
  let q = query;
  if (after) {
    if (!key) q = q.where(sql<SqlBool>`subscribers.id ${cmp} ${after.id}`);
    else if (sort.field === 'email') q = q.where(sql<SqlBool>`${key} ${cmp} ${after.value}`);
    else q = q.where(sql<SqlBool>`(${key}, subscribers.id) ${cmp} (${after.value}, ${after.id}::uuid)`);
  }
  if (key) q = q.orderBy(key, sort.order);
  if (sort.field !== 'email') q = q.orderBy('subscribers.id', sort.order);
  return q;
}
