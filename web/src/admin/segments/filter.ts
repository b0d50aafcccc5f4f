import type { components } from '@subscribe-flow/sdk';

/**
 * The segment filter as the API takes it (nested AND/OR groups, at most 3 deep and 50 conditions), and
 * what the builder needs to edit it: which operators fit which field, what kind of value each takes,
 * and the checks the server makes, in the dashboard's words, so a person sees a problem before saving.
 * The builder edits this JSON itself: what it shows is exactly what is sent.
 */
export type SegmentFilter = components['schemas']['SegmentFilter'];
export type Scalar = string | number | boolean;
export type Op =
  | 'eq'
  | 'neq'
  | 'in'
  | 'not_in'
  | 'domain'
  | 'prefix'
  | 'contains'
  | 'before'
  | 'after'
  | 'between'
  | 'within_days'
  | 'gt'
  | 'gte'
  | 'lt'
  | 'lte'
  | 'exists'
  | 'not_exists'
  | 'any'
  | 'all'
  | 'none'
  | 'language';
export type MetadataType = 'string' | 'number' | 'boolean' | 'date';
export interface Condition {
  field: string;
  op: Op;
  type?: MetadataType;
  value?: Scalar | Scalar[];
}
export interface Group {
  match: 'all' | 'any';
  conditions: Node[];
}
export type Node = Condition | Group;

/** The server's bounds (server/src/modules/segments/filter.ts). */
export const MAX_CONDITIONS = 50;
export const MAX_DEPTH = 3;
export const MAX_VALUES = 100;
export const MAX_TEXT = 254;
const MAX_DAYS = 36_500;
const METADATA_KEY = /^[A-Za-z0-9_-]{1,64}$/;

export const isGroup = (node: Node): node is Group => 'match' in node;

export type FieldKind = 'status' | 'email' | 'source' | 'locale' | 'date' | 'tags' | 'engagement' | 'metadata';
export const FIELDS: readonly { field: string; label: string; kind: FieldKind }[] = [
  { field: 'status', label: 'Status', kind: 'status' },
  { field: 'email', label: 'Email address', kind: 'email' },
  { field: 'tags', label: 'Topics', kind: 'tags' },
  { field: 'source', label: 'Source', kind: 'source' },
  { field: 'locale', label: 'Language', kind: 'locale' },
  { field: 'created_at', label: 'Added', kind: 'date' },
  { field: 'confirmed_at', label: 'Confirmed', kind: 'date' },
  { field: 'received', label: 'Received a campaign', kind: 'engagement' },
  { field: 'opened', label: 'Opened a campaign', kind: 'engagement' },
  { field: 'clicked', label: 'Clicked in a campaign', kind: 'engagement' },
  { field: 'metadata.', label: 'Custom field', kind: 'metadata' },
];

export const STATUSES = ['active', 'pending', 'unsubscribed', 'bounced', 'complained'] as const;
export const METADATA_TYPES: readonly [MetadataType, string][] = [
  ['string', 'Text'],
  ['number', 'Number'],
  ['boolean', 'Yes / no'],
  ['date', 'Date'],
];

export function kindOf(field: string): FieldKind {
  if (field.startsWith('metadata.')) return 'metadata';
  return FIELDS.find((f) => f.field === field)?.kind ?? 'status';
}

/** What a value input looks like for an operator. */
export type ValueKind = 'none' | 'status' | 'statuses' | 'text' | 'texts' | 'number' | 'days' | 'date' | 'dates' | 'boolean' | 'tags' | 'campaigns';

const OP_LABELS: Record<Op, string> = {
  eq: 'is',
  neq: 'is not',
  in: 'is one of',
  not_in: 'is none of',
  domain: 'has the domain',
  prefix: 'starts with',
  contains: 'contains',
  before: 'is before',
  after: 'is on or after',
  between: 'is between',
  within_days: 'is in the last … days',
  gt: 'is more than',
  gte: 'is at least',
  lt: 'is less than',
  lte: 'is at most',
  exists: 'is set',
  not_exists: 'is not set',
  any: 'includes any of',
  all: 'includes all of',
  none: 'includes none of',
  language: 'is in the language',
};

/** The operators that make sense for a field (and a metadata type), each with its value input. */
export function operators(field: string, type: MetadataType = 'string'): { op: Op; label: string; value: ValueKind }[] {
  const list = (pairs: [Op, ValueKind][], labels: Partial<Record<Op, string>> = {}) =>
    pairs.map(([op, value]) => ({ op, value, label: labels[op] ?? OP_LABELS[op] }));
  switch (kindOf(field)) {
    case 'status':
      return list([
        ['eq', 'status'],
        ['neq', 'status'],
        ['in', 'statuses'],
        ['not_in', 'statuses'],
      ]);
    case 'source':
      return list([
        ['eq', 'text'],
        ['neq', 'text'],
        ['in', 'texts'],
        ['not_in', 'texts'],
      ]);
    case 'locale':
      return list([
        ['language', 'texts'],
        ['eq', 'text'],
        ['neq', 'text'],
        ['in', 'texts'],
        ['not_in', 'texts'],
        ['exists', 'none'],
        ['not_exists', 'none'],
      ]);
    case 'email':
      return list([
        ['domain', 'text'],
        ['prefix', 'text'],
        ['contains', 'text'],
        ['eq', 'text'],
      ]);
    case 'date':
      return list([
        ['after', 'date'],
        ['before', 'date'],
        ['between', 'dates'],
        ['within_days', 'days'],
        ...(field === 'confirmed_at'
          ? ([
              ['exists', 'none'],
              ['not_exists', 'none'],
            ] as [Op, ValueKind][])
          : []),
      ]);
    case 'tags':
      return list(
        [
          ['any', 'tags'],
          ['all', 'tags'],
          ['none', 'tags'],
        ],
        { any: 'subscribed to any of', all: 'subscribed to all of', none: 'subscribed to none of' },
      );
    case 'engagement':
      return list(
        [
          ['within_days', 'days'],
          ['exists', 'none'],
          ['not_exists', 'none'],
          ['in', 'campaigns'],
          ['not_in', 'campaigns'],
        ],
        { within_days: 'in the last … days', exists: 'ever', not_exists: 'never', in: 'in one of', not_in: 'in none of' },
      );
    case 'metadata':
      if (type === 'boolean')
        return list([
          ['eq', 'boolean'],
          ['exists', 'none'],
          ['not_exists', 'none'],
        ]);
      if (type === 'number')
        return list([
          ['eq', 'number'],
          ['neq', 'number'],
          ['gt', 'number'],
          ['gte', 'number'],
          ['lt', 'number'],
          ['lte', 'number'],
          ['exists', 'none'],
          ['not_exists', 'none'],
        ]);
      if (type === 'date')
        return list([
          ['after', 'date'],
          ['before', 'date'],
          ['exists', 'none'],
          ['not_exists', 'none'],
        ]);
      return list([
        ['eq', 'text'],
        ['neq', 'text'],
        ['in', 'texts'],
        ['prefix', 'text'],
        ['contains', 'text'],
        ['exists', 'none'],
        ['not_exists', 'none'],
      ]);
  }
}

export function valueKind(condition: Condition): ValueKind {
  return operators(condition.field, condition.type).find((o) => o.op === condition.op)?.value ?? 'none';
}

/** The starting value of an input kind (a value the person then fills in). */
export function emptyValue(kind: ValueKind): Scalar | Scalar[] | undefined {
  switch (kind) {
    case 'none':
      return undefined;
    case 'status':
      return 'active';
    case 'statuses':
    case 'texts':
    case 'tags':
    case 'campaigns':
      return [];
    case 'dates':
      return ['', ''];
    case 'boolean':
      return true;
    case 'days':
      return 30;
    case 'number':
      return 0;
    default:
      return '';
  }
}

/** A condition with `changes` applied; an operator or value that no longer fits is replaced. */
export function changeCondition(condition: Condition, changes: Partial<Condition>): Condition {
  const next: Condition = { ...condition, ...changes };
  if (kindOf(next.field) === 'metadata') next.type = next.type ?? 'string';
  else delete next.type;
  const ops = operators(next.field, next.type);
  // Another kind of field starts from its first operator; an operator that does not fit is replaced.
  const fieldChanged = changes.field !== undefined && kindOf(changes.field) !== kindOf(condition.field);
  if ((fieldChanged && changes.op === undefined) || !ops.some((o) => o.op === next.op)) next.op = ops[0]!.op;
  const before = valueKind(condition);
  const after = valueKind(next);
  if (!('value' in changes) && (before !== after || fieldChanged || changes.type !== undefined)) {
    const value = emptyValue(after);
    if (value === undefined) delete next.value;
    else next.value = value;
  }
  return next;
}

export const newCondition = (): Condition => ({ field: 'status', op: 'eq', value: 'active' });
export const newGroup = (match: 'all' | 'any' = 'any'): Group => ({ match, conditions: [newCondition()] });
export const emptyFilter = (): SegmentFilter => ({ match: 'all', conditions: [] });

/** How many conditions (not groups) the filter holds. */
export function countConditions(node: Node | SegmentFilter): number {
  return isGroup(node as Node) ? (node as Group).conditions.reduce((n, child) => n + countConditions(child), 0) : 1;
}

/** A path to a node: the indexes from the root, e.g. [1, 0] = the first item of the second item. */
export type Path = number[];
export const pathKey = (path: Path): string => path.map((i) => `conditions.${i}`).join('.');

export function nodeAt(root: Group, path: Path): Node {
  let node: Node = root;
  for (const index of path) node = (node as Group).conditions[index]!;
  return node;
}

/** A copy of `root` with the node at `path` replaced by `replace(node)`; `null` removes it. */
export function updateAt(root: Group, path: Path, replace: (node: Node) => Node | null): Group {
  if (path.length === 0) return replace(root) as Group;
  const [head, ...rest] = path as [number, ...number[]];
  const child = root.conditions[head]!;
  const next = rest.length === 0 ? replace(child) : updateAt(child as Group, rest, replace);
  const conditions = next === null ? root.conditions.filter((_, i) => i !== head) : root.conditions.map((c, i) => (i === head ? next : c));
  return { ...root, conditions };
}

// ---------------------------------------------------------------------------------------------------
// The checks the server makes, worded for people (English, and German where a page speaks it).

export type Locale = 'en' | 'de';
type Words = {
  tooMany: (max: number) => string;
  tooDeep: (max: number) => string;
  emptyGroup: string;
  fill: string;
  chooseOne: string;
  tooManyValues: (max: number) => string;
  tooLong: (max: number) => string;
  metadataKey: string;
  number: string;
  days: (max: number) => string;
  date: string;
  range: string;
  domain: string;
  locale: string;
};

export const WORDS: Record<Locale, Words> = {
  en: {
    tooMany: (max) => `A segment holds at most ${max} conditions. Remove some, or combine values in one condition.`,
    tooDeep: (max) => `Groups nest at most ${max} levels deep.`,
    emptyGroup: 'A group needs at least one condition. Add one or remove the group.',
    fill: 'Fill this in.',
    chooseOne: 'Choose at least one.',
    tooManyValues: (max) => `Use at most ${max} values.`,
    tooLong: (max) => `Use at most ${max} characters.`,
    metadataKey: 'Name the field with up to 64 letters, digits, "_" or "-".',
    number: 'Enter a number.',
    days: (max) => `Enter a whole number of days from 1 to ${max}.`,
    date: 'Enter a date.',
    range: 'Enter both dates, the first before the second.',
    domain: 'Enter the domain only, like example.com.',
    locale: 'Enter language codes such as de, de-AT or pt-BR.',
  },
  de: {
    tooMany: (max) => `Ein Segment hat höchstens ${max} Bedingungen. Entfernen Sie einige oder fassen Sie Werte in einer Bedingung zusammen.`,
    tooDeep: (max) => `Gruppen lassen sich höchstens ${max} Ebenen tief verschachteln.`,
    emptyGroup: 'Eine Gruppe braucht mindestens eine Bedingung. Fügen Sie eine hinzu oder entfernen Sie die Gruppe.',
    fill: 'Bitte ausfüllen.',
    chooseOne: 'Bitte mindestens eines auswählen.',
    tooManyValues: (max) => `Höchstens ${max} Werte.`,
    tooLong: (max) => `Höchstens ${max} Zeichen.`,
    metadataKey: 'Benennen Sie das Feld mit bis zu 64 Buchstaben, Ziffern, „_“ oder „-“.',
    number: 'Bitte eine Zahl eingeben.',
    days: (max) => `Bitte eine ganze Zahl von Tagen zwischen 1 und ${max} eingeben.`,
    date: 'Bitte ein Datum eingeben.',
    range: 'Bitte beide Daten eingeben, das erste vor dem zweiten.',
    domain: 'Nur die Domain eingeben, z. B. example.com.',
    locale: 'Sprachcodes wie de, de-AT oder pt-BR eingeben.',
  },
};

const isDate = (value: unknown): value is string => typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) && Number.isFinite(Date.parse(value));

// The server's shape of a language tag (server/src/lib/locale.ts).
const LOCALE = /^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8}){0,3}$/;

function conditionProblem(condition: Condition, words: Words): string | null {
  if (kindOf(condition.field) === 'metadata' && !METADATA_KEY.test(condition.field.slice('metadata.'.length))) return words.metadataKey;
  const value = condition.value;
  const list = Array.isArray(value) ? value : [];
  if (kindOf(condition.field) === 'locale' && valueKind(condition) !== 'none') {
    const values = Array.isArray(value) ? value : [value];
    if (values.some((v) => String(v ?? '').trim() !== '' && !LOCALE.test(String(v).trim()))) return words.locale;
  }
  switch (valueKind(condition)) {
    case 'none':
    case 'status':
    case 'boolean':
      return null;
    case 'text':
      if (typeof value !== 'string' || value.trim() === '') return words.fill;
      if (value.length > MAX_TEXT) return words.tooLong(MAX_TEXT);
      if (condition.op === 'domain' && value.includes('@')) return words.domain;
      return null;
    case 'texts':
      if (list.length === 0) return words.fill;
      if (list.length > MAX_VALUES) return words.tooManyValues(MAX_VALUES);
      return list.some((v) => String(v).length > MAX_TEXT) ? words.tooLong(MAX_TEXT) : null;
    case 'statuses':
    case 'tags':
    case 'campaigns':
      if (list.length === 0) return words.chooseOne;
      return list.length > MAX_VALUES ? words.tooManyValues(MAX_VALUES) : null;
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? null : words.number;
    case 'days':
      return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_DAYS ? null : words.days(MAX_DAYS);
    case 'date':
      return isDate(value) ? null : words.date;
    case 'dates':
      return list.length === 2 && isDate(list[0]) && isDate(list[1]) && String(list[0]) < String(list[1]) ? null : words.range;
  }
}

/**
 * Every problem in the filter, keyed by the node's path ("" for the whole filter, "conditions.1" for
 * the second item, …), in the same dotted form the API uses after "filter.".
 */
export function filterProblems(filter: SegmentFilter, locale: Locale = 'en'): Record<string, string> {
  const words = WORDS[locale];
  const problems: Record<string, string> = {};
  const total = countConditions(filter as Group);
  if (total > MAX_CONDITIONS) problems[''] = words.tooMany(MAX_CONDITIONS);
  const walk = (node: Node, path: Path, depth: number) => {
    const key = pathKey(path);
    if (isGroup(node)) {
      if (depth > MAX_DEPTH) problems[key] = words.tooDeep(MAX_DEPTH);
      else if (depth > 1 && node.conditions.length === 0) problems[key] = words.emptyGroup;
      node.conditions.forEach((child, index) => walk(child, [...path, index], depth + 1));
      return;
    }
    const problem = conditionProblem(node, words);
    if (problem) problems[key] = problem;
  };
  walk(filter as Group, [], 1);
  return problems;
}

/**
 * The filter as the API takes it: text values trimmed, a comma-separated list split into its values.
 * The builder's state is already in the API's shape; this only tidies what a person typed.
 */
export function toApiFilter(filter: SegmentFilter): SegmentFilter {
  const tidy = (node: Node): Node => {
    if (isGroup(node)) return { match: node.match, conditions: node.conditions.map(tidy) };
    const out: Condition = { field: node.field, op: node.op };
    if (node.type) out.type = node.type;
    if (node.value !== undefined) {
      const kind = valueKind(node);
      if (kind === 'text' && typeof node.value === 'string') out.value = node.value.trim();
      else if (kind === 'texts' && Array.isArray(node.value)) out.value = node.value.map((v) => String(v).trim()).filter(Boolean);
      else out.value = node.value;
    }
    return out;
  };
  return tidy(filter as Group) as SegmentFilter;
}

/** A condition's value as one line of text ("a, b" for a list), for a text input. */
export const listText = (value: Condition['value']): string => (Array.isArray(value) ? value.join(', ') : value === undefined ? '' : String(value));
export const splitList = (text: string): string[] => text.split(',').map((part) => part.trimStart());

/**
 * The server's messages for a filter it refused ("filter.conditions.0.value" → "must be …") keyed like
 * `filterProblems`, so they show beside the condition they name.
 */
export function serverProblems(details: readonly { field?: string; message: string }[], prefix = 'filter'): Record<string, string> {
  const problems: Record<string, string> = {};
  for (const detail of details) {
    if (!detail.field || !(detail.field === prefix || detail.field.startsWith(`${prefix}.`))) continue;
    const rest = detail.field.slice(prefix.length).replace(/^\./, '');
    // "conditions.0.value" belongs to the condition "conditions.0".
    const key = rest.replace(/\.(field|op|type|value|match)$/, '').replace(/\.value\.\d+$/, '');
    problems[key] ??= detail.message;
  }
  return problems;
}
