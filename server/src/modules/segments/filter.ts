import { sql, type RawBuilder, type SqlBool } from 'kysely';
import { Type, type Static } from 'typebox';
import { unprocessable, type ErrorDetail } from '../../lib/errors.ts';
import { isUuid } from '../../lib/ids.ts';
import { normalizeLocale } from '../../lib/locale.ts';
import { StringEnum } from '../common.schemas.ts';

/**
 * A segment filter: nested AND/OR groups (at most 3 deep, at most 50 conditions in all) over subscriber
 * fields. It compiles only to parameterised SQL: field names and operators come from the fixed tables
 * below, every value is a bind parameter, and a metadata key is a parameter too (`metadata -> $1`).
 * The compiled predicate refers to the subscriber row as `s`; the caller adds the organization filter.
 */
export const MAX_CONDITIONS = 50;
export const MAX_DEPTH = 3;
const MAX_VALUES = 100;

const SUBSCRIBER_STATUSES = ['pending', 'active', 'unsubscribed', 'bounced', 'complained'] as const;
const OPERATORS = [
  'eq',
  'neq',
  'in',
  'not_in',
  'domain',
  'prefix',
  'contains',
  'before',
  'after',
  'between',
  'within_days',
  'gt',
  'gte',
  'lt',
  'lte',
  'exists',
  'not_exists',
  'any',
  'all',
  'none',
  'language',
] as const;
type Operator = (typeof OPERATORS)[number];
const METADATA_TYPES = ['string', 'number', 'boolean', 'date'] as const;

const Scalar = Type.Union([Type.String({ maxLength: 254 }), Type.Number(), Type.Boolean()]);
const Condition = Type.Object(
  {
    field: Type.String({
      pattern: '^(status|email|source|locale|created_at|confirmed_at|tags|received|opened|clicked|metadata\\.[A-Za-z0-9_-]{1,64})$',
      description:
        'status, email, source, locale, created_at, confirmed_at, tags, received, opened, clicked (engagement: human opens and clicks) or metadata.<key>',
    }),
    op: StringEnum(OPERATORS),
    type: Type.Optional(StringEnum(METADATA_TYPES, { description: 'The value type of a metadata field (default string)' })),
    value: Type.Optional(Type.Union([Scalar, Type.Array(Scalar, { maxItems: MAX_VALUES })])),
  },
  { additionalProperties: false },
);

const group = <T extends ReturnType<typeof Type.Object> | ReturnType<typeof Type.Union>>(item: T) =>
  Type.Object(
    {
      match: StringEnum(['all', 'any'] as const, { description: 'all = AND, any = OR' }),
      conditions: Type.Array(item, { minItems: 1, maxItems: MAX_CONDITIONS }),
    },
    { additionalProperties: false },
  );

// Three levels spelled out: JSON Schema validation bounds the depth before any code walks the tree.
const Level3 = group(Condition);
const Level2 = group(Type.Union([Condition, Level3]));
export const SegmentFilter = Type.Object(
  {
    match: StringEnum(['all', 'any'] as const, { description: 'all = AND, any = OR' }),
    conditions: Type.Array(Type.Union([Condition, Level2]), { maxItems: MAX_CONDITIONS }),
  },
  { $id: 'SegmentFilter', additionalProperties: false, description: 'Nested AND/OR groups (≤ 3 deep, ≤ 50 conditions) over subscriber fields' },
);

export type SegmentFilter = Static<typeof SegmentFilter>;
type ConditionT = Static<typeof Condition>;
type Node = ConditionT | { match: 'all' | 'any'; conditions: Node[] };

const isGroup = (node: Node): node is { match: 'all' | 'any'; conditions: Node[] } => 'match' in node;

/** Every tag reference (id or slug) in the filter, for one lookup before compiling. */
export function tagRefs(filter: SegmentFilter): string[] {
  const refs = new Set<string>();
  const walk = (node: Node) => {
    if (isGroup(node)) node.conditions.forEach(walk);
    else if (node.field === 'tags') for (const value of asList(node.value)) refs.add(String(value));
  };
  walk(filter as Node);
  return [...refs];
}

const asList = (value: ConditionT['value']): (string | number | boolean)[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

class FilterError extends Error {
  readonly path: string;
  constructor(path: string, message: string) {
    super(message);
    this.path = path;
  }
}

const fail = (path: string, message: string): never => {
  throw new FilterError(path, message);
};

function strings(path: string, value: ConditionT['value'], { min = 1 } = {}): string[] {
  const list = asList(value);
  if (list.length < min || list.some((v) => typeof v !== 'string' || v.length === 0)) fail(`${path}.value`, 'must be a non-empty string or list of strings');
  return list as string[];
}

function oneString(path: string, value: ConditionT['value']): string {
  if (typeof value !== 'string' || value.length === 0) fail(`${path}.value`, 'must be a non-empty string');
  return value as string;
}

function oneNumber(path: string, value: ConditionT['value'], max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || Math.abs(value) > max) fail(`${path}.value`, `must be a number up to ${max}`);
  return value as number;
}

function instant(path: string, value: unknown): string {
  const time = typeof value === 'string' && /^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value) ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(time)) fail(`${path}.value`, 'must be an ISO 8601 date or date-time');
  return new Date(time).toISOString();
}

const likePrefix = (value: string) => `${value.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
const likeContains = (value: string) => `%${likePrefix(value)}`;

const unsupported = (path: string, field: string, op: string): never => fail(`${path}.op`, `"${op}" does not apply to ${field}`);

/** `status`, `source`: one text column compared with one value or a list. */
function textColumn(path: string, column: RawBuilder<unknown>, op: Operator, value: ConditionT['value'], allowed?: readonly string[]): RawBuilder<SqlBool> {
  if (!['eq', 'neq', 'in', 'not_in'].includes(op)) return unsupported(path, 'this field', op);
  const values = strings(path, value);
  if (allowed && values.some((v) => !allowed.includes(v))) fail(`${path}.value`, `must be one of ${allowed.join(', ')}`);
  switch (op) {
    case 'eq':
      return sql<SqlBool>`${column} = ${oneString(path, value)}`;
    case 'neq':
      return sql<SqlBool>`${column} <> ${oneString(path, value)}`;
    case 'in':
      return sql<SqlBool>`${column} = any(${values}::text[])`;
    case 'not_in':
      return sql<SqlBool>`not (${column} = any(${values}::text[]))`;
    default:
      return unsupported(path, 'this field', op);
  }
}

function timeColumn(path: string, column: RawBuilder<unknown>, op: Operator, value: ConditionT['value'], nullable: boolean): RawBuilder<SqlBool> {
  switch (op) {
    case 'before':
      return sql<SqlBool>`${column} < ${instant(path, value)}::timestamptz`;
    case 'after':
      return sql<SqlBool>`${column} >= ${instant(path, value)}::timestamptz`;
    case 'between': {
      const list = asList(value);
      if (list.length !== 2) fail(`${path}.value`, 'must be [from, to]');
      return sql<SqlBool>`${column} >= ${instant(path, list[0])}::timestamptz and ${column} < ${instant(path, list[1])}::timestamptz`;
    }
    case 'within_days':
      return sql<SqlBool>`${column} >= now() - make_interval(days => ${oneNumber(path, value, 36_500)}::int)`;
    case 'exists':
      return nullable ? sql<SqlBool>`${column} is not null` : sql<SqlBool>`true`;
    case 'not_exists':
      return nullable ? sql<SqlBool>`${column} is null` : sql<SqlBool>`false`;
    default:
      return unsupported(path, 'a date', op);
  }
}

function emailCondition(path: string, op: Operator, value: ConditionT['value']): RawBuilder<SqlBool> {
  switch (op) {
    case 'eq':
      return sql<SqlBool>`lower(s.email) = ${oneString(path, value).toLowerCase()}`;
    case 'domain':
      return sql<SqlBool>`lower(s.email) like ${`%@${oneString(path, value)
        .toLowerCase()
        .replace(/[\\%_]/g, (c) => `\\${c}`)}`}`;
    case 'prefix':
      return sql<SqlBool>`lower(s.email) like ${likePrefix(oneString(path, value))}`;
    case 'contains':
      return sql<SqlBool>`lower(s.email) like ${likeContains(oneString(path, value))}`;
    default:
      return unsupported(path, 'email', op);
  }
}

/**
 * `locale`: eq / neq / in / not_in compare whole language tags ("de-AT"); `language` matches a language
 * with any region or script ("de" matches de, de-AT, de-CH); exists / not_exists: a locale is set or not.
 * Values are spelled canonically first, so "de_at" finds de-AT. A subscriber without a locale matches
 * neither eq nor neq (use not_exists).
 */
function localeCondition(path: string, op: Operator, value: ConditionT['value']): RawBuilder<SqlBool> {
  const locales = () =>
    strings(path, value).map((v) => normalizeLocale(v) ?? fail(`${path}.value`, `"${v.slice(0, 40)}" is not a language tag such as de or de-AT`));
  switch (op) {
    case 'eq':
      return sql<SqlBool>`s.locale = ${locales()[0]}`;
    case 'neq':
      return sql<SqlBool>`s.locale <> ${locales()[0]}`;
    case 'in':
      return sql<SqlBool>`s.locale = any(${locales()}::text[])`;
    case 'not_in':
      return sql<SqlBool>`s.locale <> all(${locales()}::text[])`;
    case 'language': {
      const languages = locales().map((locale) => locale.split('-')[0]!);
      return sql<SqlBool>`split_part(s.locale, '-', 1) = any(${languages}::text[])`;
    }
    case 'exists':
      return sql<SqlBool>`s.locale is not null`;
    case 'not_exists':
      return sql<SqlBool>`s.locale is null`;
    default:
      return unsupported(path, 'locale', op);
  }
}

function tagCondition(path: string, op: Operator, value: ConditionT['value'], tagIds: ReadonlyMap<string, string>): RawBuilder<SqlBool> {
  const ids = [...new Set(strings(path, value).map((ref) => tagIds.get(ref) ?? fail(`${path}.value`, `no tag "${ref}"`)))];
  // Only an active subscription to the topic counts: an unsubscribed topic is as good as no tag.
  const subscribed = (predicate: RawBuilder<unknown>) =>
    sql`select 1 from subscriber_tags st where st.subscriber_id = s.id and st.organization_id = s.organization_id and st.status = 'subscribed' and ${predicate}`;
  switch (op) {
    case 'any':
      return sql<SqlBool>`exists (${subscribed(sql`st.tag_id = any(${ids}::uuid[])`)})`;
    case 'none':
      return sql<SqlBool>`not exists (${subscribed(sql`st.tag_id = any(${ids}::uuid[])`)})`;
    case 'all':
      return sql<SqlBool>`(select count(*) from subscriber_tags st where st.subscriber_id = s.id and st.organization_id = s.organization_id and st.status = 'subscribed' and st.tag_id = any(${ids}::uuid[])) = ${ids.length}`;
    default:
      return unsupported(path, 'tags', op);
  }
}

function metadataCondition(path: string, key: string, type: (typeof METADATA_TYPES)[number], op: Operator, value: ConditionT['value']): RawBuilder<SqlBool> {
  const json = sql`s.metadata -> ${key}::text`;
  const text = sql`s.metadata ->> ${key}::text`;
  if (op === 'exists') return sql<SqlBool>`jsonb_typeof(${json}) = ${type === 'date' ? 'string' : type}`;
  if (op === 'not_exists') return sql<SqlBool>`coalesce(jsonb_typeof(${json}) <> ${type === 'date' ? 'string' : type}, true)`;
  if (type === 'boolean') {
    if (op !== 'eq' || typeof value !== 'boolean') return fail(`${path}`, 'a boolean takes eq with true or false');
    return sql<SqlBool>`${json} = ${JSON.stringify(value)}::jsonb`;
  }
  if (type === 'number') {
    // Only numbers compare: the cast runs on rows whose value is a JSON number, so text never breaks it.
    const number = sql`case when jsonb_typeof(${json}) = 'number' then (${text})::numeric end`;
    const comparisons: Partial<Record<Operator, string>> = { eq: '=', neq: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=' };
    const symbol = comparisons[op] ?? unsupported(path, 'a number', op);
    return sql<SqlBool>`${number} ${sql.raw(symbol)} ${oneNumber(path, value)}::numeric`;
  }
  const string = sql`case when jsonb_typeof(${json}) = 'string' then ${text} end`;
  if (type === 'date') {
    // Dates in metadata are ISO 8601 strings, compared as text in their UTC form.
    if (op === 'before') return sql<SqlBool>`${string} < ${instant(path, value)}`;
    if (op === 'after') return sql<SqlBool>`${string} >= ${instant(path, value)}`;
    return unsupported(path, 'a date', op);
  }
  switch (op) {
    case 'eq':
      return sql<SqlBool>`${string} = ${oneString(path, value)}`;
    case 'neq':
      return sql<SqlBool>`${string} <> ${oneString(path, value)}`;
    case 'in':
      return sql<SqlBool>`${string} = any(${strings(path, value)}::text[])`;
    case 'prefix':
      return sql<SqlBool>`lower(${string}) like ${likePrefix(oneString(path, value))}`;
    case 'contains':
      return sql<SqlBool>`lower(${string}) like ${likeContains(oneString(path, value))}`;
    default:
      return unsupported(path, 'a string', op);
  }
}

/**
 * `received`, `opened`, `clicked`: a campaign's email sent to the subscriber, or a human open or click
 * of it (machines, such as mail proxies and link scanners, never count). `in` / `not_in` name campaign
 * ids; `within_days` is any campaign in the last N days; `exists` / `not_exists` any campaign ever
 * (opens and clicks: within the retention of raw events).
 */
function engagementCondition(path: string, field: 'received' | 'opened' | 'clicked', op: Operator, value: ConditionT['value']): RawBuilder<SqlBool> {
  const from =
    field === 'received'
      ? (predicate: RawBuilder<unknown>) =>
          sql`select 1 from email_messages m where m.subscriber_id = s.id and m.organization_id = s.organization_id and m.campaign_id is not null and m.sent_at is not null and ${predicate}`
      : (predicate: RawBuilder<unknown>) =>
          sql`select 1 from engagement_events e where e.organization_id = s.organization_id and e.subscriber_id = s.id and e.kind = ${field === 'opened' ? 'open' : 'click'} and not e.machine and ${predicate}`;
  const alias = field === 'received' ? 'm' : 'e';
  const campaign = sql.ref(`${alias}.campaign_id`);
  const at = sql.ref(field === 'received' ? 'm.sent_at' : 'e.occurred_at');
  const campaigns = () => {
    const ids = strings(path, value);
    if (ids.some((id) => !isUuid(id))) fail(`${path}.value`, 'must be campaign ids');
    return ids;
  };
  switch (op) {
    case 'eq':
    case 'in':
      return sql<SqlBool>`exists (${from(sql`${campaign} = any(${campaigns()}::uuid[])`)})`;
    case 'neq':
    case 'not_in':
      return sql<SqlBool>`not exists (${from(sql`${campaign} = any(${campaigns()}::uuid[])`)})`;
    case 'within_days':
      return sql<SqlBool>`exists (${from(sql`${at} >= now() - make_interval(days => ${oneNumber(path, value, 36_500)}::int)`)})`;
    case 'exists':
      return sql<SqlBool>`exists (${from(sql`true`)})`;
    case 'not_exists':
      return sql<SqlBool>`not exists (${from(sql`true`)})`;
    default:
      return unsupported(path, field, op);
  }
}

function compileCondition(path: string, condition: ConditionT, tagIds: ReadonlyMap<string, string>): RawBuilder<SqlBool> {
  const { field, op, value } = condition;
  if (field.startsWith('metadata.')) return metadataCondition(path, field.slice('metadata.'.length), condition.type ?? 'string', op, value);
  if (condition.type) fail(`${path}.type`, 'only metadata fields take a type');
  switch (field) {
    case 'status':
      return textColumn(path, sql`s.status`, op, value, SUBSCRIBER_STATUSES);
    case 'source':
      return textColumn(path, sql`s.source`, op, value);
    case 'locale':
      return localeCondition(path, op, value);
    case 'email':
      return emailCondition(path, op, value);
    case 'created_at':
      return timeColumn(path, sql`s.created_at`, op, value, false);
    case 'confirmed_at':
      return timeColumn(path, sql`s.confirmed_at`, op, value, true);
    case 'tags':
      return tagCondition(path, op, value, tagIds);
    case 'received':
    case 'opened':
    case 'clicked':
      return engagementCondition(path, field, op, value);
    default:
      return fail(`${path}.field`, 'unknown field');
  }
}

/**
 * Compiles a validated filter into one boolean SQL expression over `s` (subscribers). `tagIds` maps
 * each tag reference of the filter (id or slug) to the organization's tag id. Throws 422 naming the
 * first condition that does not make sense (an operator for another type, a value of the wrong kind).
 * An empty filter matches every subscriber.
 */
export function compileFilter(filter: SegmentFilter, tagIds: ReadonlyMap<string, string>): RawBuilder<SqlBool> {
  let count = 0;
  const walk = (node: Node, path: string, depth: number): RawBuilder<SqlBool> => {
    if (!isGroup(node)) {
      count += 1;
      if (count > MAX_CONDITIONS) fail(path, `a filter holds at most ${MAX_CONDITIONS} conditions`);
      return compileCondition(path, node, tagIds);
    }
    if (depth > MAX_DEPTH) fail(path, `groups nest at most ${MAX_DEPTH} deep`);
    if (node.conditions.length === 0) return sql<SqlBool>`${node.match === 'all'}::boolean`;
    const parts = node.conditions.map((child, index) => walk(child, `${path}.conditions.${index}`, depth + 1));
    return sql<SqlBool>`(${sql.join(parts, sql.raw(node.match === 'all' ? ' and ' : ' or '))})`;
  };
  try {
    return walk(filter as Node, 'filter', 1);
  } catch (error) {
    if (!(error instanceof FilterError)) throw error;
    const detail: ErrorDetail = { field: error.path, message: error.message };
    throw unprocessable('invalid_filter', 'The segment filter is not valid', [detail]);
  }
}

/** Splits tag references into ids and slugs, for the one lookup that resolves them. */
export function splitTagRefs(refs: readonly string[]): { ids: string[]; slugs: string[] } {
  return { ids: refs.filter(isUuid), slugs: refs.filter((ref) => !isUuid(ref)) };
}
