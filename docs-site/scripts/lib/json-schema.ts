/**
 * Reading JSON Schema (as found in OpenAPI 3.1 documents and TypeBox 1.x schemas) for documentation:
 * a short type label, constraints, a field table and an example value. Everything here is pure and
 * deterministic: the same schema always yields the same text.
 */

export type Schema = { [key: string]: unknown };

/** Resolves local `$ref`s (`#/components/schemas/Name`) against the document they came from. */
export type Resolver = (ref: string) => Schema | undefined;

export function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function createResolver(root: unknown): Resolver {
  return (ref) => {
    if (!ref.startsWith('#/')) return undefined;
    let node: unknown = root;
    for (const raw of ref.slice(2).split('/')) {
      const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
      if (!isSchema(node)) return undefined;
      node = node[key];
    }
    return isSchema(node) ? node : undefined;
  };
}

export const noRefs: Resolver = () => undefined;

/** The name a `$ref` points at, e.g. `Subscriber` for `#/components/schemas/Subscriber`. */
export function refName(ref: string, target?: Schema): string {
  const name = ref.split('/').pop() ?? ref;
  // @fastify/swagger names shared schemas def-0, def-1, …; their title is the readable name.
  if (/^def-\d+$/.test(name) && target && typeof target.title === 'string') return target.title;
  return name;
}

/** Follows `$ref` chains (bounded, so a cycle cannot hang the generator). */
export function deref(schema: Schema, resolve: Resolver): Schema {
  let current = schema;
  for (let i = 0; i < 16 && typeof current.$ref === 'string'; i++) {
    const next = resolve(current.$ref);
    if (!next) break;
    current = next;
  }
  return current;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function variants(schema: Schema): Schema[] | undefined {
  const list = schema.anyOf ?? schema.oneOf;
  return Array.isArray(list) ? list.filter(isSchema) : undefined;
}

function isNullSchema(schema: Schema): boolean {
  return schema.type === 'null' || (Array.isArray(schema.type) && schema.type.length === 1 && schema.type[0] === 'null');
}

/** Values a schema allows when it is an enumeration: `enum`, `const`, or a union of `const`s. */
export function allowedValues(schema: Schema, resolve: Resolver = noRefs): unknown[] | undefined {
  const s = deref(schema, resolve);
  if (Array.isArray(s.enum)) return s.enum;
  if ('const' in s) return [s.const];
  const options = variants(s);
  if (options && options.length > 0) {
    const values: unknown[] = [];
    for (const option of options.map((o) => deref(o, resolve))) {
      if (isNullSchema(option)) continue;
      if ('const' in option) values.push(option.const);
      else if (Array.isArray(option.enum)) values.push(...option.enum);
      else return undefined;
    }
    return values.length > 0 ? values : undefined;
  }
  return undefined;
}

export function isNullable(schema: Schema, resolve: Resolver = noRefs): boolean {
  const s = deref(schema, resolve);
  if (s.nullable === true) return true;
  if (Array.isArray(s.type) && s.type.includes('null')) return true;
  return (variants(s) ?? []).some((o) => isNullSchema(deref(o, resolve)));
}

/** A short, readable type: `string (email)`, `integer`, `array of Subscriber`, `"a" | "b"`, `string | null`. */
export function typeLabel(schema: Schema, resolve: Resolver = noRefs, depth = 0): string {
  if (depth > 4) return 'any';
  if (typeof schema.$ref === 'string') {
    const target = resolve(schema.$ref);
    const name = refName(schema.$ref, target);
    // Named objects read best by name; named scalars read best by what they are.
    if (!target || target.type === 'object' || target.properties) return name;
    return typeLabel(target, resolve, depth + 1);
  }
  const nullable = isNullable(schema, resolve);
  const suffix = nullable ? ' | null' : '';
  const values = allowedValues(schema, resolve);
  if (values) return `${values.map((v) => JSON.stringify(v)).join(' | ')}${suffix}`;
  const options = variants(schema)?.filter((o) => !isNullSchema(deref(o, resolve)));
  if (options && options.length > 0) {
    const labels = [...new Set(options.map((o) => typeLabel(o, resolve, depth + 1)))];
    return `${labels.join(' | ')}${suffix}`;
  }
  if (Array.isArray(schema.allOf)) {
    const parts = schema.allOf.filter(isSchema);
    if (parts.length === 1 && parts[0]) return `${typeLabel(parts[0], resolve, depth + 1)}${suffix}`;
    return `object${suffix}`;
  }
  const types = Array.isArray(schema.type) ? schema.type.filter((t) => t !== 'null') : [schema.type];
  const labels = types.map((type) => {
    if (type === 'array') {
      const items = isSchema(schema.items) ? typeLabel(schema.items, resolve, depth + 1) : 'any';
      return `array of ${items}`;
    }
    if (type === 'string' && typeof schema.format === 'string') return `string (${schema.format})`;
    if (typeof type === 'string') return type;
    if (schema.properties) return 'object';
    return 'any';
  });
  return `${labels.join(' | ')}${suffix}`;
}

/** For `X | null` written as `anyOf`, the `X`: its constraints are the ones to describe. */
function nonNullVariant(schema: Schema, resolve: Resolver): Schema {
  const options = variants(schema)
    ?.map((o) => deref(o, resolve))
    .filter((o) => !isNullSchema(o));
  return options && options.length === 1 && options[0] ? options[0] : schema;
}

/** Ends a sentence taken from a schema with a full stop, so facts appended after it read well. */
export function sentence(text: string): string {
  const trimmed = text.trim();
  return trimmed === '' || /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

/** Constraints worth telling a reader: ranges, lengths, patterns, item counts. */
export function constraints(schema: Schema, resolve: Resolver = noRefs): string[] {
  const s = nonNullVariant(deref(schema, resolve), resolve);
  const out: string[] = [];
  const num = (key: string) => (typeof s[key] === 'number' ? (s[key] as number) : undefined);
  const min = num('minimum');
  const max = num('maximum');
  if (min !== undefined && max !== undefined) out.push(`${min} to ${max}`);
  else if (min !== undefined) out.push(`at least ${min}`);
  else if (max !== undefined) out.push(`at most ${max}`);
  if (num('exclusiveMinimum') !== undefined) out.push(`greater than ${num('exclusiveMinimum')}`);
  if (num('exclusiveMaximum') !== undefined) out.push(`less than ${num('exclusiveMaximum')}`);
  const minLength = num('minLength');
  const maxLength = num('maxLength');
  if (minLength !== undefined && maxLength !== undefined) out.push(`${minLength} to ${maxLength} characters`);
  else if (minLength !== undefined) out.push(`at least ${minLength} characters`);
  else if (maxLength !== undefined) out.push(`at most ${maxLength} characters`);
  const minItems = num('minItems');
  const maxItems = num('maxItems');
  if (minItems !== undefined) out.push(`at least ${minItems} items`);
  if (maxItems !== undefined) out.push(`at most ${maxItems} items`);
  if (typeof s.pattern === 'string') out.push(`pattern \`${s.pattern}\``);
  return out;
}

export type Field = {
  name: string;
  type: string;
  required: boolean;
  description: string;
};

/**
 * The rows of a field table: every property, with nested objects (and arrays of objects) flattened into
 * dotted names such as `error.details[].field`. Named schemas are expanded once per path, so recursive
 * schemas stop instead of looping.
 */
export function fields(schema: Schema, resolve: Resolver = noRefs, prefix = '', seen: readonly string[] = [], depth = 0): Field[] {
  const s = deref(schema, resolve);
  const refHere = typeof schema.$ref === 'string' ? [schema.$ref] : [];
  const trail = [...seen, ...refHere];
  const props = objectProperties(s, resolve);
  if (!props || depth > 5) return [];
  const required = new Set(requiredList(s, resolve));
  const rows: Field[] = [];
  for (const [name, prop] of Object.entries(props)) {
    if (!isSchema(prop)) continue;
    const path = prefix ? `${prefix}.${name}` : name;
    const target = deref(prop, resolve);
    rows.push({
      name: path,
      type: typeLabel(prop, resolve),
      required: required.has(name),
      description: describe(prop, resolve),
    });
    const cyclic = typeof prop.$ref === 'string' && trail.includes(prop.$ref);
    if (cyclic) continue;
    if (objectProperties(target, resolve)) {
      rows.push(...fields(prop, resolve, path, trail, depth + 1));
    } else if (isSchema(target.items)) {
      const items = target.items;
      const itemsCyclic = typeof items.$ref === 'string' && trail.includes(items.$ref);
      if (!itemsCyclic && objectProperties(deref(items, resolve), resolve)) {
        rows.push(...fields(items, resolve, `${path}[]`, trail, depth + 1));
      }
    }
  }
  return rows;
}

/** Properties of an object schema, merging `allOf` parts. */
function objectProperties(schema: Schema, resolve: Resolver): Record<string, unknown> | undefined {
  const own = isSchema(schema.properties) ? schema.properties : undefined;
  const parts = Array.isArray(schema.allOf) ? schema.allOf.filter(isSchema).map((p) => deref(p, resolve)) : [];
  const merged = parts.reduce<Record<string, unknown> | undefined>((acc, part) => {
    const p = objectProperties(part, resolve);
    return p ? { ...(acc ?? {}), ...p } : acc;
  }, undefined);
  if (!own && !merged) return undefined;
  return { ...(merged ?? {}), ...(own ?? {}) };
}

function requiredList(schema: Schema, resolve: Resolver): string[] {
  const own = Array.isArray(schema.required) ? schema.required.filter((r): r is string => typeof r === 'string') : [];
  const parts = Array.isArray(schema.allOf) ? schema.allOf.filter(isSchema).map((p) => deref(p, resolve)) : [];
  return [...own, ...parts.flatMap((p) => requiredList(p, resolve))];
}

/** Description plus the facts a reader needs: default, constraints, read-only. */
export function describe(schema: Schema, resolve: Resolver = noRefs): string {
  const s = deref(schema, resolve);
  const parts: string[] = [];
  const text = str(schema.description) ?? (typeof schema.$ref === 'string' ? undefined : str(s.description));
  if (text) parts.push(sentence(text));
  const limits = constraints(schema, resolve);
  if (limits.length > 0) parts.push(`${capitalise(limits.join(', '))}.`);
  if ('default' in s && s.default !== undefined) parts.push(`Default: \`${JSON.stringify(s.default)}\`.`);
  if (s.readOnly === true) parts.push('Read-only.');
  if (s.deprecated === true) parts.push('Deprecated.');
  return parts.join(' ');
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

const FORMAT_EXAMPLES: Record<string, unknown> = {
  email: 'ada@example.com',
  uuid: '01990c4e-7c1e-7b3a-9c2d-3e4f5a6b7c8d',
  'date-time': '2026-01-15T09:30:00.000Z',
  date: '2026-01-15',
  uri: 'https://example.com/path',
  url: 'https://example.com/path',
  hostname: 'example.com',
  ipv4: '203.0.113.7',
};

/** Examples for common field names, so generated examples read like real requests. */
const NAME_EXAMPLES: Record<string, string> = {
  first_name: 'Ada',
  last_name: 'Lovelace',
  name: 'Product updates',
  slug: 'product-updates',
  description: 'News about the product, at most monthly.',
  category: 'news',
  source: 'api',
  body: 'Asked to hear about the beta.',
  message: 'A human-readable explanation.',
};

/** A plausible example value: the schema's own example if it has one, otherwise one built from its type. */
export function exampleValue(schema: Schema, resolve: Resolver = noRefs, name = '', depth = 0, seen: readonly string[] = []): unknown {
  if (typeof schema.$ref === 'string') {
    if (seen.includes(schema.$ref) || depth > 6) return {};
    const target = resolve(schema.$ref);
    return target ? exampleValue(target, resolve, name, depth + 1, [...seen, schema.$ref]) : {};
  }
  if (Array.isArray(schema.examples) && schema.examples.length > 0) return schema.examples[0];
  if ('example' in schema) return schema.example;
  if ('default' in schema && schema.default !== '') return schema.default;
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  const options = variants(schema)?.filter((o) => !isNullSchema(deref(o, resolve)));
  if (options && options[0]) return exampleValue(options[0], resolve, name, depth + 1, seen);
  if (Array.isArray(schema.allOf)) {
    const parts = schema.allOf.filter(isSchema).map((p) => exampleValue(p, resolve, name, depth + 1, seen));
    return Object.assign({}, ...parts.filter(isSchema));
  }
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  switch (type) {
    case 'string': {
      const format = str(schema.format);
      if (format && format in FORMAT_EXAMPLES) return FORMAT_EXAMPLES[format];
      if (/email/i.test(name)) return FORMAT_EXAMPLES.email;
      if (/(^|_)url$/i.test(name)) return FORMAT_EXAMPLES.url;
      return NAME_EXAMPLES[name] ?? 'string';
    }
    case 'integer':
    case 'number':
      return typeof schema.minimum === 'number' ? schema.minimum : 1;
    case 'boolean':
      return true;
    case 'null':
      return null;
    case 'array':
      return isSchema(schema.items) ? [exampleValue(schema.items, resolve, name, depth + 1, seen)] : [];
    default: {
      const props = objectProperties(schema, resolve);
      if (!props || depth > 6) return {};
      const out: Record<string, unknown> = {};
      for (const [key, prop] of Object.entries(props)) {
        if (isSchema(prop)) out[key] = exampleValue(prop, resolve, key, depth + 1, seen);
      }
      return out;
    }
  }
}
