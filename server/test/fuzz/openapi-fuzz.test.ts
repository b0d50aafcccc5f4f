import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.ts';
import { createSubscriber, preferenceToken } from '../preferences/helpers.ts';

// Every operation of the OpenAPI document gets malformed path parameters, query strings and bodies (with
// valid credentials, so the requests get past authentication to validation and the handlers), and no
// answer may be a 5xx. Fixed seeds: the same requests on every run, and a failure names its request.

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  enum?: unknown[];
  format?: string;
  minLength?: number;
  minItems?: number;
  minimum?: number;
  $ref?: string;
  default?: unknown;
}
interface Parameter {
  in: 'path' | 'query' | 'header';
  name: string;
  required?: boolean;
  schema: JsonSchema;
}
interface Operation {
  operationId: string;
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
  security?: Record<string, unknown>[];
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, JsonSchema> };
  security?: Record<string, unknown>[];
}

const document = JSON.parse(readFileSync(new URL('../../openapi.json', import.meta.url), 'utf8')) as Document;
const REQUESTS_PER_OPERATION = 36;
const SEED = 20_261_207;
const PARALLEL = 6;

const resolve = (schema: JsonSchema): JsonSchema => (schema.$ref ? resolve(document.components.schemas[schema.$ref.split('/').pop()!]!) : schema);

let emailCount = 0;

/** A plausible valid value for a schema: the starting point each malformed request changes one thing of. */
function sample(raw: JsonSchema, depth = 0): unknown {
  const schema = resolve(raw);
  if (schema.default !== undefined) return schema.default;
  if (schema.enum) return schema.enum[0];
  if (schema.anyOf) return sample(schema.anyOf.find((s) => resolve(s).type !== 'null') ?? schema.anyOf[0]!, depth);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'object': {
      const value: Record<string, unknown> = {};
      if (depth < 4) for (const key of schema.required ?? []) value[key] = sample(schema.properties?.[key] ?? {}, depth + 1);
      return value;
    }
    case 'array':
      return depth < 4 && schema.items ? Array.from({ length: schema.minItems ?? 0 }, () => sample(schema.items!, depth + 1)) : [];
    case 'integer':
    case 'number':
      return schema.minimum ?? 1;
    case 'boolean':
      return true;
    case 'null':
      return null;
    case 'string': {
      // A new address each time, so a request is not answered "exists" (or rate limited) before its other fields matter.
      if (schema.format === 'email') return `fuzz-${(emailCount += 1)}@example.com`;
      if (schema.format === 'uuid') return randomUUID();
      if (schema.format === 'date-time') return new Date(0).toISOString();
      if (schema.format === 'uri') return 'https://example.com/';
      return 'x'.repeat(Math.max(1, schema.minLength ?? 1));
    }
    default:
      return {};
  }
}

// Text that has broken parsers, databases and templates before: NUL and other control characters, lone
// surrogates (valid in a JS string, invalid in UTF-8 and PostgreSQL), overlong input, markup, SQL.
const hostileText = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '\u0000',
      'a\u0000b',
      '\ud800',
      'x\udfff',
      '\ud83d',
      '\u0007',
      '\u001b[31m',
      '\u009b',
      '\u202e',
      '\ufeff',
      '\r\n',
      '\t',
      "'; drop table subscribers; --",
      '{{ 7 * 7 }}',
      '${7*7}',
      '<script>alert(1)</script>',
      '__proto__',
      'constructor',
      '../../etc/passwd',
      '%00',
      '%',
      '-1',
      '0',
      '1e309',
      'NaN',
      'null',
      'true',
      '🎉',
      'ß'.repeat(300),
      'x'.repeat(5000),
      '',
    ),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
);

// Ordinary-looking text with one character PostgreSQL or a mail header cannot take: passes every length
// and pattern check that does not look for it, so it reaches the handlers.
const poisonedText = fc
  .tuple(
    fc.constantFrom('Ada', 'news', 'a-b', 'Hello world', 'x'),
    fc.constantFrom('\u0000', '\ud800', '\udc00', '\u0001', '\u001f', '\u007f', '\u0085'),
    fc.boolean(),
  )
  .map(([text, poison, before]) => (before ? poison + text : text + poison));

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 8, arbitrary: poisonedText },
  { weight: 4, arbitrary: hostileText },
  fc.constantFrom(null, true, false, 0, -1, 1e308, -1e308, 2 ** 53 + 1, 0.5, [], {}, [null], { '': '' }, { __proto__: { polluted: true } }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.jsonValue({ maxDepth: 3 }),
  fc.dictionary(hostileText, hostileText, { maxKeys: 3 }),
  fc.array(hostileText, { maxLength: 5 }),
  fc.constant(Array.from({ length: 5000 }, (_, i) => `t${i}`)),
  // Deep nesting: 2,000 levels of arrays inside an object.
  fc.constant({ deep: JSON.parse('['.repeat(2000) + ']'.repeat(2000)) as unknown }),
);

/** Percent-encodes any JS string, lone surrogates included (as the bytes WTF-8 would give them). */
function encode(text: string): string {
  let out = '';
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (code >= 0xd800 && code <= 0xdfff) {
      out += [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join('');
    } else {
      out += encodeURIComponent(char);
    }
  }
  return out;
}

/**
 * A valid-looking value of `schema` with `value` planted at one documented place chosen by `pick`: a
 * property of an object (optional ones included), an item of an array, a key of a free-form record.
 */
function plant(raw: JsonSchema, value: unknown, pick: number, depth = 0): unknown {
  const schema = resolve(raw.anyOf ? (raw.anyOf.find((s) => resolve(s).type !== 'null') ?? raw) : raw);
  if (depth > 3 || pick % 5 === 0) return value;
  if (schema.type === 'array' && schema.items) return [plant(schema.items, value, Math.floor(pick / 5), depth + 1)];
  if (schema.type === 'object') {
    const base = sample(schema) as Record<string, unknown>;
    const keys = Object.keys(schema.properties ?? {});
    if (keys.length === 0) return { ...base, [`key_${pick % 7}`]: value };
    const key = keys[pick % keys.length]!;
    return { ...base, [key]: plant(schema.properties![key]!, value, Math.floor(pick / keys.length), depth + 1) };
  }
  return value;
}

function dropRequired(raw: JsonSchema, pick: number): unknown {
  const schema = resolve(raw);
  const base = sample(schema);
  if (typeof base !== 'object' || base === null || Array.isArray(base) || !schema.required?.length) return base;
  const copy = { ...(base as Record<string, unknown>) };
  delete copy[schema.required[pick % schema.required.length]!];
  return copy;
}

interface FuzzRequest {
  url: string;
  body?: unknown;
  rawBody?: string;
}

/**
 * Requests for one operation, each malformed in one part only (a path parameter, the query string or the
 * body) so that the others, valid, let it reach the code that handles that part. `fixed` holds real
 * values for parameters (an existing subscriber, tag, organization slug, preference token).
 */
function requestsFor(path: string, operation: Operation, fixed: Record<string, string>): fc.Arbitrary<FuzzRequest> {
  const parameters = operation.parameters ?? [];
  const pathParams = parameters.filter((p) => p.in === 'path');
  const queryParams = parameters.filter((p) => p.in === 'query');
  const jsonBody = operation.requestBody?.content['application/json']?.schema;
  const validQuery = () => Object.fromEntries(queryParams.filter((p) => p.required).map((p) => [p.name, fixed[p.name] ?? String(sample(p.schema))]));
  const validPath = (name: string) =>
    encodeURIComponent(fixed[`${path.split('/')[3]}.${name}`] ?? fixed[name] ?? String(sample(pathParams.find((p) => p.name === name)!.schema)));

  const pathValues = fc.record(
    Object.fromEntries(
      pathParams.map((p) => [
        p.name,
        fc.oneof(
          { weight: 1, arbitrary: fc.constant(encode(String(sample(p.schema)))) },
          {
            weight: 2,
            arbitrary: fc
              .oneof(
                poisonedText,
                hostileText.filter((t) => t.length > 0),
              )
              .map(encode),
          },
          { weight: 1, arbitrary: fc.constantFrom('%ED%A0%80', '%C0%80', '%FF', '%E2%82', '..%2F..', '%2e%2e', 'a%00b') },
        ),
      ]),
    ),
  );
  const queryValues = fc.oneof(
    fc.constant(new Map<string, string[]>()),
    fc
      .tuple(fc.nat(), fc.oneof(poisonedText.map(encode), hostileText.map(encode), fc.constantFrom('%ED%A0%80', '%C0%80', '%FF', '%E2%82')), fc.boolean())
      .map(([pick, value, twice]) => {
        const names = [...queryParams.map((p) => p.name), 'unknown'];
        const name = names[pick % names.length]!;
        return new Map([[name, twice ? [value, value] : [value]]]);
      }),
  );
  const body = jsonBody
    ? fc.oneof(
        { weight: 6, arbitrary: fc.tuple(fc.nat(), hostileValue).map(([pick, value]) => ({ body: plant(jsonBody, value, pick + 1) })) },
        { weight: 1, arbitrary: fc.tuple(hostileText, hostileValue).map(([key, value]) => ({ body: { ...(sample(jsonBody) as object), [key]: value } })) },
        {
          weight: 1,
          arbitrary: fc.oneof(
            hostileValue.map((value) => ({ body: value })),
            fc.nat().map((pick) => ({ body: dropRequired(jsonBody, pick) })),
          ),
        },
        {
          weight: 1,
          arbitrary: fc
            .constantFrom('{', '{"a":', '[1,2', '"\\ud800"', '{"email":"\\u0000"}', '{"__proto__":{"x":1}}', 'null', '', '\u0000')
            .map((rawBody) => ({ rawBody })),
        },
      )
    : fc.constant({});

  const parts: ('path' | 'query' | 'body')[] = [
    ...(pathParams.length ? ['path' as const] : []),
    'query',
    ...(jsonBody ? ['body' as const, 'body' as const, 'body' as const] : []),
  ];
  return fc.tuple(fc.constantFrom(...parts), pathValues, queryValues, body).map(([part, params, queryMutation, payload]) => {
    let url = path.replace(/\{(\w+)\}/g, (_, name: string) => (part === 'path' ? (params[name] as string) : validPath(name)));
    let search = new URLSearchParams(validQuery()).toString();
    if (part === 'query') for (const [name, values] of queryMutation) for (const value of values) search += `${search ? '&' : ''}${name}=${value}`;
    if (search) url += `?${search}`;
    return { url, ...(part === 'body' ? payload : jsonBody ? { body: sample(jsonBody) } : {}) };
  });
}

let ctx: TestContext;
let credentials: { key: string; session: Record<string, string> };
let fixtures: Record<string, string>;

beforeAll(async () => {
  ctx = await createTestContext({
    RATE_LIMIT_API_KEY_PER_MINUTE: '1000000',
    RATE_LIMIT_IP_PER_MINUTE: '1000000',
    RATE_LIMIT_PUBLIC_FORM_PER_MINUTE: '1000000',
    RATE_LIMIT_PREFERENCE_TOKEN_PER_MINUTE: '1000000',
  });
  const org = await ctx.createOrganization('Fuzz');
  const session = await ctx.createSession(org.id, 'owner', { platformAdmin: true });
  const subscriberId = await createSubscriber(ctx, org.key, { email: 'fuzzed@example.com', tags: ['news'] });
  const tag = (await ctx.app.inject({ method: 'GET', url: '/api/v1/tags/by-name/news', headers: { authorization: `Bearer ${org.key}` } })).json();
  credentials = { key: org.key, session: session.headers };
  // Real values for parameters, by "resource.parameter" or by parameter name.
  fixtures = {
    'subscribers.id': subscriberId,
    'tags.id': tag.id,
    tag_id: tag.id,
    slug: 'news',
    name: 'news',
    org_slug: org.slug,
    token: await preferenceToken(ctx, org.key, subscriberId),
  };
});
afterAll(() => ctx.close());

describe('the API under malformed input', () => {
  it('answers every malformed path, query and body of every documented operation without a 5xx', async () => {
    const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({ path, method: method.toUpperCase(), operation })),
    );
    // Deletions (of the fixtures, among others) after everything else; signing out, which ends the
    // session the other operations use, last of all.
    const rank = (o: { method: string; operation: Operation }) => (o.operation.operationId === 'logout' ? 2 : o.method === 'DELETE' ? 1 : 0);
    operations.sort((a, b) => rank(a) - rank(b));
    expect(operations.length).toBeGreaterThan(80);

    const failures: string[] = [];
    let sent = 0;
    for (const [index, { path, method, operation }] of operations.entries()) {
      const schemes = (operation.security ?? document.security ?? []).flatMap((s) => Object.keys(s));
      const headers: Record<string, string> = schemes.includes('bearerAuth')
        ? { authorization: `Bearer ${credentials.key}` }
        : schemes.includes('sessionCookie')
          ? { ...credentials.session }
          : {};
      const requests = fc.sample(requestsFor(path, operation, fixtures), { seed: SEED + index, numRuns: REQUESTS_PER_OPERATION });
      // A few requests at a time: the answers are awaited on I/O (PostgreSQL, Redis) far more than on CPU.
      for (let start = 0; start < requests.length; start += PARALLEL) {
        await Promise.all(
          requests.slice(start, start + PARALLEL).map(async (request) => {
            const res = await ctx.app.inject({
              method: method as 'GET',
              url: request.url,
              headers: { ...headers, ...(request.body !== undefined || request.rawBody !== undefined ? { 'content-type': 'application/json' } : {}) },
              ...(request.rawBody !== undefined ? { payload: request.rawBody } : request.body !== undefined ? { payload: JSON.stringify(request.body) } : {}),
            });
            sent += 1;
            if (res.statusCode >= 500) {
              failures.push(
                `${operation.operationId} ${method} ${request.url.slice(0, 200)} body=${(request.rawBody ?? JSON.stringify(request.body) ?? '').slice(0, 200)} → ${res.statusCode} ${res.body.slice(0, 200)}`,
              );
            }
          }),
        );
      }
    }
    expect(sent).toBeGreaterThan(2500);
    expect(failures, `${failures.length} of ${sent} answers were 5xx:\n${failures.slice(0, 40).join('\n')}`).toEqual([]);
  }, 120_000);
});
