import type { CodedErrorDetail } from './errors.ts';

/** A validator's complaint about one value, as Ajv and TypeBox both report it. */
export interface SchemaError {
  keyword: string;
  instancePath: string;
  params?: unknown;
}

const plural = (n: unknown, word: string) => `${String(n)} ${word}${n === 1 ? '' : 's'}`;
const FORMAT_NAMES: Record<string, string> = {
  email: 'an email address', uuid: 'a UUID', 'date-time': 'an ISO 8601 date and time', date: 'an ISO 8601 date', uri: 'a URL', url: 'a URL', hostname: 'a host name',
};
const article = (type: string) => (/^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`);

/**
 * Stable codes for what validators report. Programs branch on `code`; `message` is for people and never
 * repeats the validator's internal wording ("must be equal to constant", "schema is false"). The bound
 * (`bound` for lengths and counts, `minimum`, `maximum`) or the `format` comes along, so an app can say it in its own words
 * and language without parsing the message.
 */
type Described = { code: string; message: string; bound?: unknown; minimum?: unknown; maximum?: unknown; format?: string };

function describeOne(error: SchemaError): Described {
  const p = (error.params ?? {}) as Record<string, unknown>;
  const limit = p.limit;
  switch (error.keyword) {
    case 'required': return { code: 'required', message: 'is required' };
    case 'additionalProperties': return { code: 'not_allowed', message: 'is not a known field' };
    // A `false` schema (Ajv: "false schema", TypeBox: "boolean") is what forbids an unknown property.
    case 'false schema': case 'boolean': return { code: 'not_allowed', message: 'is not a known field' };
    case 'not': return { code: 'not_allowed', message: 'is not allowed here' };
    case 'maxLength': return { code: 'too_long', message: `must be at most ${plural(limit, 'character')}`, bound: limit };
    case 'minLength': return { code: 'too_short', message: limit === 1 ? 'must not be empty' : `must be at least ${plural(limit, 'character')}`, bound: limit };
    case 'maxItems': return { code: 'too_many', message: `must have at most ${plural(limit, 'item')}`, bound: limit };
    case 'minItems': return { code: 'too_few', message: `must have at least ${plural(limit, 'item')}`, bound: limit };
    case 'maxProperties': return { code: 'too_many', message: `must have at most ${plural(limit, 'field')}`, bound: limit };
    case 'minProperties': return { code: 'too_few', message: `must have at least ${plural(limit, 'field')}`, bound: limit };
    case 'maximum': return { code: 'out_of_range', message: `must be at most ${String(limit)}`, maximum: limit };
    case 'minimum': return { code: 'out_of_range', message: `must be at least ${String(limit)}`, minimum: limit };
    case 'exclusiveMaximum': return { code: 'out_of_range', message: `must be less than ${String(limit)}` };
    case 'exclusiveMinimum': return { code: 'out_of_range', message: `must be greater than ${String(limit)}` };
    case 'format': return { code: 'invalid_format', message: `must be ${FORMAT_NAMES[String(p.format)] ?? 'in the documented format'}`, format: String(p.format) };
    case 'pattern': return { code: 'invalid_format', message: 'is not in the documented format' };
    case 'uniqueItems': return { code: 'duplicate', message: 'must not contain the same item twice' };
    case 'type': return { code: 'invalid_type', message: `must be ${article(String(p.type))}` };
    default: return { code: 'invalid', message: 'is not valid' };
  }
}

/**
 * One detail per field. A union (a nullable field, a choice of literals) fails each branch: the branch
 * errors are merged into one message ("must be one of: …", "must be a string or null"), and a specific
 * complaint (too long, wrong format) wins over "wrong type for the other branch".
 */
function describeField(errors: SchemaError[]): Described {
  const specific = errors.find((e) => !['type', 'const', 'enum'].includes(e.keyword));
  if (specific) return describeOne(specific);
  const allowed = errors.flatMap((e) => {
    const p = (e.params ?? {}) as { allowedValue?: unknown; allowedValues?: unknown[]; const?: unknown; values?: unknown[] };
    if (e.keyword === 'const') return [p.allowedValue ?? p.const];
    if (e.keyword === 'enum') return p.allowedValues ?? p.values ?? [];
    return [];
  });
  const types = errors.filter((e) => e.keyword === 'type').map((e) => String(((e.params ?? {}) as { type?: unknown }).type));
  if (allowed.length > 0) {
    const choices = [...allowed.map((v) => JSON.stringify(v)), ...types.filter((t) => t === 'null')];
    return { code: 'invalid_value', message: `must be one of: ${[...new Set(choices)].join(', ')}` };
  }
  if (types.length > 0) return { code: 'invalid_type', message: `must be ${[...new Set(types)].map(article).join(' or ').replace(/a null/g, 'null')}` };
  return describeOne(errors[0]!);
}

/** The dotted path a schema error is about: the value's path, plus the missing or unknown property. */
function fieldOf(error: SchemaError, fallback: string): string {
  const segments = error.instancePath.split('/').filter(Boolean).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const p = (error.params ?? {}) as { missingProperty?: string; additionalProperty?: string; requiredProperties?: string[]; additionalProperties?: string[] };
  const extra = p.missingProperty ?? p.additionalProperty ?? p.requiredProperties?.[0] ?? p.additionalProperties?.[0];
  if (extra !== undefined) segments.push(extra);
  return segments.join('.') || fallback;
}

/**
 * Turns validator errors (Ajv's or TypeBox's) into `details` entries of the documented shape: `field`
 * (dotted path), `code` (stable), `message` (for people), and `location` when given.
 */
export function validationDetails(errors: readonly SchemaError[], location?: string): CodedErrorDetail[] {
  const byField = new Map<string, SchemaError[]>();
  for (const error of errors) {
    // The branch errors carry the information; the combinator's own error repeats it.
    if (['anyOf', 'oneOf', 'allOf', 'if'].includes(error.keyword)) continue;
    const field = fieldOf(error, location ?? 'item');
    byField.set(field, [...(byField.get(field) ?? []), error]);
  }
  return [...byField].map(([field, fieldErrors]) => ({ field, ...describeField(fieldErrors), ...(location ? { location } : {}) }));
}
