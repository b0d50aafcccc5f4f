import { createResolver, deref, exampleValue, fields, isSchema, sentence, typeLabel } from './json-schema.ts';
import type { Resolver, Schema } from './json-schema.ts';
import { cell, cellCode, code, document, fence, frontmatter, headingId, prose, slugify, table } from './markdown.ts';

/**
 * Renders the API reference from an OpenAPI 3.1 document: an overview page plus one page per tag listing
 * every operation with its authentication, scopes, parameters, request body, responses, errors and a curl
 * example. The output only depends on the document, so regenerating from the same file is byte-identical.
 */

export const API_DIR = 'reference/api';

const METHODS = ['get', 'post', 'put', 'patch', 'delete', 'head', 'options', 'trace'] as const;
const UNTAGGED = 'other';

type Parameter = { name: string; in: string; required: boolean; description: string; schema: Schema; example: unknown };

export type Operation = {
  method: string;
  path: string;
  operationId: string | undefined;
  summary: string;
  description: string;
  tag: string;
  deprecated: boolean;
  parameters: Parameter[];
  requestBody: Schema | undefined;
  responses: [string, Schema][];
  security: Record<string, string[]>[];
  scopes: string[];
  /** The least organization role a dashboard session needs (`x-required-role`), if the operation names one. */
  role: string | undefined;
  /** Only for platform operators (`x-platform-admin: true`). */
  platformAdmin: boolean;
  idempotent: boolean;
};

type Doc = Schema;

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function securityList(value: unknown): Record<string, string[]>[] | undefined {
  if (!Array.isArray(value)) return undefined;
  return value.filter(isSchema).map((req) => Object.fromEntries(Object.entries(req).map(([k, v]) => [k, strings(v)])));
}

function readParameter(raw: unknown, resolve: Resolver): Parameter | undefined {
  if (!isSchema(raw)) return undefined;
  const p = deref(raw, resolve);
  const name = str(p.name);
  const location = str(p.in);
  if (!name || !location) return undefined;
  const schema = isSchema(p.schema) ? p.schema : {};
  let example: unknown = p.example;
  if (example === undefined && isSchema(p.examples)) {
    const first = Object.values(p.examples).find(isSchema);
    if (first) example = deref(first, resolve).value;
  }
  return {
    name,
    in: location,
    required: p.required === true || location === 'path',
    description: str(p.description) ?? '',
    schema,
    example,
  };
}

/** Every operation in document order (paths as listed, methods in the conventional order). */
export function collectOperations(doc: Doc): Operation[] {
  const resolve = createResolver(doc);
  const paths = isSchema(doc.paths) ? doc.paths : {};
  const rootSecurity = securityList(doc.security) ?? [];
  const operations: Operation[] = [];
  for (const [path, rawItem] of Object.entries(paths)) {
    if (!isSchema(rawItem)) continue;
    const item = deref(rawItem, resolve);
    const shared = (Array.isArray(item.parameters) ? item.parameters : []).map((p) => readParameter(p, resolve));
    for (const method of METHODS) {
      const op = item[method];
      if (!isSchema(op)) continue;
      const own = (Array.isArray(op.parameters) ? op.parameters : []).map((p) => readParameter(p, resolve));
      // Operation-level parameters override path-level ones with the same name and location.
      const byKey = new Map<string, Parameter>();
      for (const p of [...shared, ...own]) if (p) byKey.set(`${p.in}:${p.name}`, p);
      const security = securityList(op.security) ?? rootSecurity;
      const scopes = [
        ...new Set([
          ...security.flatMap((req) => Object.values(req).flat()),
          ...strings(op['x-scopes']),
          ...strings(op['x-required-scopes']),
          ...strings(op['x-required-scope']),
        ]),
      ];
      const responses = isSchema(op.responses)
        ? Object.entries(op.responses)
            .filter((e): e is [string, Schema] => isSchema(e[1]))
            .map(([status, r]) => [status, deref(r, resolve)] as [string, Schema])
        : [];
      operations.push({
        method: method.toUpperCase(),
        path,
        operationId: str(op.operationId),
        summary: str(op.summary) ?? '',
        description: str(op.description) ?? '',
        tag: strings(op.tags)[0] ?? UNTAGGED,
        deprecated: op.deprecated === true,
        parameters: [...byKey.values()],
        requestBody: isSchema(op.requestBody) ? deref(op.requestBody, resolve) : undefined,
        responses,
        security,
        scopes,
        role: str(op['x-required-role']),
        platformAdmin: op['x-platform-admin'] === true,
        // Either flagged by the server (`x-idempotent: true`) or visible as a declared header.
        idempotent: op['x-idempotent'] === true || [...byKey.values()].some((p) => p.in === 'header' && /^idempotency-key$/i.test(p.name)),
      });
    }
  }
  return operations;
}

type TagPage = { name: string; title: string; description: string; file: string; slug: string; operations: Operation[] };

function tagTitle(name: string, declared: Schema | undefined): string {
  const display = declared ? str(declared['x-displayName']) : undefined;
  if (display) return display;
  if (name === UNTAGGED) return 'Other';
  const words = name
    .replace(/[-_]+/g, ' ')
    .trim()
    .split(/\s+/)
    .map((word) => ACRONYMS[word.toLowerCase()] ?? word)
    .join(' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * What a tag's page is about, for tags the document declares without a description. The document's own
 * description always wins, so these only fill gaps; a tag that is renamed or removed simply stops using
 * its entry.
 */
const TAG_DESCRIPTIONS: Record<string, string> = {
  'preference-center': "A subscriber's own page, authorized by the signed link token; and minting links for it",
  settings: 'Preference-center settings, sending domains and the sender address of the organization',
  public: 'Website signup forms and double opt-in confirmation',
  email: 'The dev mailbox, where email goes when no provider is configured',
  templates: 'MJML and Liquid email templates',
  emails: 'Sending one email from a template, and its status',
  stats: 'Counts for the dashboard overview',
  hooks: 'Delivery events from the email provider',
  unsubscribe: 'One-click unsubscribe links (RFC 8058)',
};

const ACRONYMS: Record<string, string> = { api: 'API', id: 'ID', ids: 'IDs', url: 'URL', csv: 'CSV', gdpr: 'GDPR', dns: 'DNS' };

function tagPages(doc: Doc, operations: Operation[]): TagPage[] {
  const declared = (Array.isArray(doc.tags) ? doc.tags : []).filter(isSchema);
  const order: string[] = [];
  for (const t of declared) if (typeof t.name === 'string' && !order.includes(t.name)) order.push(t.name);
  for (const op of operations) if (op.tag !== UNTAGGED && !order.includes(op.tag)) order.push(op.tag);
  if (operations.some((op) => op.tag === UNTAGGED)) order.push(UNTAGGED);
  const used = new Set<string>(['index']);
  const pages: TagPage[] = [];
  for (const name of order) {
    const ops = operations.filter((op) => op.tag === name);
    if (ops.length === 0) continue;
    const info = declared.find((t) => t.name === name);
    let slug = slugify(name) || UNTAGGED;
    while (used.has(slug)) slug = `${slug}-tag`;
    used.add(slug);
    pages.push({
      name,
      title: tagTitle(name, info),
      description: (info ? str(info.description) : undefined) || (TAG_DESCRIPTIONS[name] ?? ''),
      file: `${API_DIR}/${slug}.md`,
      slug,
      operations: ops,
    });
  }
  return pages;
}

/** Heading ids as Astro assigns them, including the `-1`, `-2` suffixes for repeats on one page. */
class Slugger {
  private seen = new Map<string, number>();
  slug(text: string): string {
    const base = headingId(text);
    const count = this.seen.get(base) ?? 0;
    this.seen.set(base, count + 1);
    return count === 0 ? base : `${base}-${count}`;
  }
}

function operationTitle(op: Operation): string {
  return op.summary || op.operationId || `${op.method} ${op.path}`;
}

// ---------------------------------------------------------------------------------------------------------
// Authentication

function schemes(doc: Doc): Record<string, Schema> {
  const components = isSchema(doc.components) ? doc.components : {};
  const all = isSchema(components.securitySchemes) ? components.securitySchemes : {};
  return Object.fromEntries(Object.entries(all).filter((e): e is [string, Schema] => isSchema(e[1])));
}

function schemeLabel(name: string, scheme: Schema | undefined): string {
  if (!scheme) return code(name);
  const type = str(scheme.type);
  const where = str(scheme.name) ?? '';
  if (type === 'http' && str(scheme.scheme)?.toLowerCase() === 'bearer') return `${code('Authorization: Bearer …')} header`;
  if (type === 'http' && str(scheme.scheme)?.toLowerCase() === 'basic') return 'HTTP basic authentication';
  if (type === 'apiKey' && scheme.in === 'header') return `${code(where)} header`;
  if (type === 'apiKey' && scheme.in === 'cookie') return `${code(where)} cookie`;
  if (type === 'apiKey' && scheme.in === 'query') return `${code(`?${where}=`)} query parameter`;
  return code(name);
}

function authText(doc: Doc, op: Operation): string {
  const nonEmpty = op.security.filter((req) => Object.keys(req).length > 0);
  if (nonEmpty.length === 0) return 'None (public)';
  const all = schemes(doc);
  const optional = nonEmpty.length < op.security.length ? ' (optional)' : '';
  const alternatives = nonEmpty.map((req) =>
    Object.keys(req)
      .map((name) => schemeLabel(name, all[name]))
      .join(' and '),
  );
  return `${alternatives.join(' or ')}${optional}`;
}

type CurlAuth = { headers: string[]; query: [string, string][]; cookie: string | undefined };

function envName(name: string): string {
  const upper = name.replace(/[^A-Za-z0-9]+/g, '_').toUpperCase();
  return upper.startsWith('SF_') ? `$${upper}` : `$SF_${upper}`;
}

/** The credentials a curl example sends: the first alternative, preferring API keys over sessions. */
function curlAuth(doc: Doc, op: Operation): CurlAuth {
  const result: CurlAuth = { headers: [], query: [], cookie: undefined };
  const all = schemes(doc);
  const rank = (req: Record<string, string[]>) => {
    const kinds = Object.keys(req).map((n) => all[n]);
    if (kinds.some((s) => s?.type === 'http')) return 0;
    if (kinds.some((s) => s?.in === 'header')) return 1;
    if (kinds.some((s) => s?.in === 'query')) return 2;
    return 3;
  };
  const candidates = op.security.filter((req) => Object.keys(req).length > 0);
  if (candidates.length === 0 || op.security.some((req) => Object.keys(req).length === 0)) return result;
  const chosen = [...candidates].sort((a, b) => rank(a) - rank(b))[0] ?? {};
  for (const name of Object.keys(chosen)) {
    const scheme = all[name];
    const param = str(scheme?.name) ?? name;
    if (scheme?.type === 'http' && str(scheme.scheme)?.toLowerCase() === 'bearer') {
      result.headers.push(`Authorization: Bearer $SF_API_KEY`);
    } else if (scheme?.type === 'http') {
      result.headers.push(`Authorization: Basic $SF_BASIC_AUTH`);
    } else if (scheme?.in === 'header') {
      result.headers.push(`${param}: ${/api.?key/i.test(param) ? '$SF_API_KEY' : envName(param)}`);
    } else if (scheme?.in === 'query') {
      result.query.push([param, envName(param)]);
    } else if (scheme?.in === 'cookie') {
      result.cookie = `${param}=${envName(param)}`;
    }
  }
  return result;
}

// ---------------------------------------------------------------------------------------------------------
// Bodies and examples

function pickContent(content: unknown): [string, Schema] | undefined {
  if (!isSchema(content)) return undefined;
  const entries = Object.entries(content).filter((e): e is [string, Schema] => isSchema(e[1]));
  return entries.find(([type]) => type === 'application/json') ?? entries.find(([type]) => type.endsWith('+json')) ?? entries[0];
}

function mediaExample(media: Schema, resolve: Resolver): unknown {
  if ('example' in media) return media.example;
  if (isSchema(media.examples)) {
    const first = Object.values(media.examples).find(isSchema);
    if (first) {
      const resolved = deref(first, resolve);
      if ('value' in resolved) return resolved.value;
    }
  }
  return isSchema(media.schema) ? exampleValue(media.schema, resolve) : undefined;
}

function paramExample(p: Parameter, resolve: Resolver): string {
  const value = p.example !== undefined ? p.example : exampleValue(p.schema, resolve, p.name);
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function shellSingleQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

function formBody(example: unknown): string {
  if (!isSchema(example)) return '';
  return Object.entries(example)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(typeof v === 'string' ? v : JSON.stringify(v))}`)
    .join('&');
}

function curlExample(doc: Doc, op: Operation, resolve: Resolver): string {
  const auth = curlAuth(doc, op);
  let path = op.path;
  for (const p of op.parameters.filter((x) => x.in === 'path')) {
    path = path.replaceAll(`{${p.name}}`, encodeURIComponent(paramExample(p, resolve)));
  }
  const query: string[] = [];
  const authQueryNames = new Set(auth.query.map(([name]) => name));
  for (const p of op.parameters.filter((x) => x.in === 'query' && x.required)) {
    if (authQueryNames.has(p.name)) continue;
    query.push(`${encodeURIComponent(p.name)}=${encodeURIComponent(paramExample(p, resolve))}`);
  }
  for (const [name, value] of auth.query) query.push(`${encodeURIComponent(name)}=${value}`);
  const url = `$SF_API_URL${path}${query.length > 0 ? `?${query.join('&')}` : ''}`;

  const lines = [op.method === 'GET' ? `curl "${url}"` : `curl -X ${op.method} "${url}"`];
  for (const header of auth.headers) lines.push(`-H "${header}"`);
  if (auth.cookie) lines.push(`--cookie "${auth.cookie}"`);
  for (const p of op.parameters.filter((x) => x.in === 'header' && x.required && !/^idempotency-key$/i.test(x.name))) {
    lines.push(`-H "${p.name}: ${paramExample(p, resolve)}"`);
  }
  if (op.idempotent) lines.push(`-H "Idempotency-Key: $(uuidgen)"`);
  const media = op.requestBody ? pickContent(op.requestBody.content) : undefined;
  if (media) {
    const [type, body] = media;
    const example = mediaExample(body, resolve);
    if (type === 'application/json' || type.endsWith('+json')) {
      lines.push(`-H "Content-Type: ${type}"`);
      lines.push(`-d ${shellSingleQuote(JSON.stringify(example ?? {}, null, 2))}`);
    } else if (type === 'application/x-www-form-urlencoded') {
      lines.push(`-d ${shellSingleQuote(formBody(example))}`);
    } else if (type === 'multipart/form-data') {
      const schema = isSchema(body.schema) ? deref(body.schema, resolve) : {};
      const props = isSchema(schema.properties) ? schema.properties : {};
      for (const [name, prop] of Object.entries(props)) {
        const binary = isSchema(prop) && (prop.format === 'binary' || typeof prop.contentMediaType === 'string');
        lines.push(binary ? `-F "${name}=@${name}.csv"` : `-F "${name}=…"`);
      }
    } else {
      lines.push(`-H "Content-Type: ${type}"`, `--data-binary @body`);
    }
  }
  return lines.join(' \\\n  ');
}

// ---------------------------------------------------------------------------------------------------------
// Rendering

function isSuccess(status: string): boolean {
  return /^2/.test(status);
}

const STATUS_MEANINGS: Record<string, string> = {
  '200': 'OK.',
  '201': 'Created.',
  '202': 'Accepted; the work continues in the background.',
  '204': 'Done; no body.',
  '400': 'The request is malformed.',
  '401': 'Missing, invalid or revoked credentials.',
  '402': 'A plan limit is reached.',
  '403': 'The credentials lack the required scope or role.',
  '404': 'Not found in this organization.',
  '409': 'Conflicts with the current state.',
  '413': 'The request body is too large.',
  '415': 'Unsupported content type.',
  '422': 'Validation failed; `details` names the fields.',
  '429': 'Rate limited; retry after `Retry-After` seconds.',
  '500': 'Unexpected server error.',
  '503': 'Not ready or temporarily unavailable.',
};

/**
 * A response's description, unless it is a placeholder: @fastify/swagger writes "Default Response" when a
 * route gives none and copies the body schema's description otherwise, neither of which says what the
 * status means. Those fall back to the usual meaning of the status code.
 */
function responseDescription(status: string, response: Schema, resolve: Resolver): string {
  const text = str(response.description)?.trim() ?? '';
  const media = pickContent(response.content);
  const schema = media && isSchema(media[1].schema) ? deref(media[1].schema, resolve) : undefined;
  const copied = schema && typeof schema.description === 'string' && schema.description.trim() === text;
  if (text && text !== 'Default Response' && !copied) return text;
  return STATUS_MEANINGS[status] ?? (text || '');
}

function errorCodes(response: Schema, resolve: Resolver): string[] {
  const codes = new Set<string>(strings(response['x-error-codes']));
  const media = pickContent(response.content);
  if (media) {
    const [, body] = media;
    const example = 'example' in body ? body.example : undefined;
    const fromExample = isSchema(example) && isSchema(example.error) ? str(example.error.code) : undefined;
    if (fromExample) codes.add(fromExample);
    if (isSchema(body.examples)) {
      for (const raw of Object.values(body.examples)) {
        if (!isSchema(raw)) continue;
        const value = deref(raw, resolve).value;
        const c = isSchema(value) && isSchema(value.error) ? str(value.error.code) : undefined;
        if (c) codes.add(c);
      }
    }
    const schema = isSchema(body.schema) ? deref(body.schema, resolve) : undefined;
    const errorProp = schema && isSchema(schema.properties) && isSchema(schema.properties.error) ? deref(schema.properties.error, resolve) : undefined;
    const codeProp = errorProp && isSchema(errorProp.properties) && isSchema(errorProp.properties.code) ? deref(errorProp.properties.code, resolve) : undefined;
    if (codeProp && Array.isArray(codeProp.enum)) for (const c of codeProp.enum) if (typeof c === 'string') codes.add(c);
    if (codeProp && typeof codeProp.const === 'string') codes.add(codeProp.const);
  }
  return [...codes];
}

/** The error envelope `{ error: { code, message, … } }`, however the document spells it. */
function isErrorEnvelope(schema: Schema, resolve: Resolver): boolean {
  const s = deref(schema, resolve);
  const error = isSchema(s.properties) && isSchema(s.properties.error) ? deref(s.properties.error, resolve) : undefined;
  return Boolean(error && isSchema(error.properties) && 'code' in error.properties && 'message' in error.properties);
}

function bodyLabel(response: Schema, resolve: Resolver): string {
  const media = pickContent(response.content);
  if (!media) return '—';
  const [type, body] = media;
  let label = 'any';
  if (isSchema(body.schema)) {
    const target = deref(body.schema, resolve);
    if (isErrorEnvelope(body.schema, resolve)) label = 'Error';
    else if (typeof body.schema.$ref !== 'string' && typeof target.title === 'string') label = target.title;
    else label = typeLabel(body.schema, resolve);
  }
  return type === 'application/json' ? label : `${label} (${type})`;
}

function fieldTable(schema: Schema, resolve: Resolver): string | undefined {
  const rows = fields(schema, resolve);
  if (rows.length === 0) return undefined;
  return table(
    ['Field', 'Type', 'Required', 'Description'],
    rows.map((f) => [cellCode(f.name), cell(f.type), f.required ? 'yes' : 'no', cell(f.description)]),
  );
}

function renderOperation(doc: Doc, op: Operation, resolve: Resolver, slugger: Slugger): string {
  const title = operationTitle(op);
  slugger.slug(title);
  const blocks: string[] = [`## ${prose(title)}`];
  blocks.push(`${code(`${op.method} ${op.path}`)}${op.deprecated ? ' — **deprecated**' : ''}`);
  if (op.description) blocks.push(prose(op.description));

  const facts: string[] = [];
  if (op.operationId) facts.push(`- **Operation ID:** ${code(op.operationId)}`);
  facts.push(`- **Authentication:** ${prose(authText(doc, op))}`);
  if (op.scopes.length > 0) facts.push(`- **API key scopes:** ${op.scopes.map(code).join(', ')}`);
  if (op.platformAdmin) facts.push('- **Who:** platform operators only (a dashboard session of a user with `is_platform_admin`)');
  else if (op.role) facts.push(`- **Dashboard role:** at least ${code(op.role)} in the organization`);
  if (op.idempotent) {
    facts.push('- **Idempotent retries:** send an `Idempotency-Key` header; a retry with the same key replays the first response.');
  }
  blocks.push(facts.join('\n'));

  if (op.parameters.length > 0) {
    slugger.slug('Parameters');
    blocks.push('### Parameters');
    blocks.push(
      table(
        ['Name', 'In', 'Type', 'Required', 'Description'],
        op.parameters.map((p) => {
          const desc = [sentence(p.description), describeParam(p, resolve)].filter(Boolean).join(' ');
          return [cellCode(p.name), p.in, cell(typeLabel(p.schema, resolve)), p.required ? 'yes' : 'no', cell(desc)];
        }),
      ),
    );
  }

  if (op.requestBody) {
    slugger.slug('Request body');
    blocks.push('### Request body');
    const media = pickContent(op.requestBody.content);
    const required = op.requestBody.required === true ? 'required' : 'optional';
    if (media) {
      const [type, body] = media;
      const schema = isSchema(body.schema) ? body.schema : {};
      const description = str(op.requestBody.description);
      blocks.push(`${code(type)}, ${required}. Type: ${prose(typeLabel(schema, resolve))}.${description ? ` ${prose(description)}` : ''}`);
      const rows = fieldTable(schema, resolve);
      if (rows) blocks.push(rows);
    } else {
      blocks.push(`No schema declared (${required}).`);
    }
  }

  slugger.slug('Responses');
  blocks.push('### Responses');
  blocks.push(
    table(
      ['Status', 'Description', 'Body'],
      op.responses.map(([status, response]) => {
        const codes = isSuccess(status) ? [] : errorCodes(response, resolve);
        const desc = [responseDescription(status, response, resolve), codes.length > 0 ? `Codes: ${codes.map(code).join(', ')}.` : '']
          .filter(Boolean)
          .join(' ');
        return [status, cell(desc), cell(bodyLabel(response, resolve))];
      }),
    ),
  );
  const success = op.responses.find(([status, r]) => isSuccess(status) && pickContent(r.content));
  const successMedia = success ? pickContent(success[1].content) : undefined;
  if (success && successMedia && isSchema(successMedia[1].schema)) {
    const rows = fieldTable(successMedia[1].schema, resolve);
    if (rows) blocks.push(`Fields of the ${code(success[0])} response:`, rows);
  }
  if (op.responses.some(([status]) => !isSuccess(status))) {
    blocks.push(`Error responses share the [error format](/${API_DIR}/#errors).`);
  }

  slugger.slug('Example');
  blocks.push('### Example');
  blocks.push(fence('sh', curlExample(doc, op, resolve)));
  if (success && successMedia) {
    const example = mediaExample(successMedia[1], resolve);
    if (example !== undefined) blocks.push(`Response ${code(success[0])}:`, fence('json', JSON.stringify(example, null, 2)));
  }
  return blocks.join('\n\n');
}

function describeParam(p: Parameter, resolve: Resolver): string {
  const parts: string[] = [];
  const s = deref(p.schema, resolve);
  if (!p.description && typeof s.description === 'string') parts.push(sentence(s.description));
  if ('default' in s && s.default !== undefined) parts.push(`Default: \`${JSON.stringify(s.default)}\`.`);
  const min = typeof s.minimum === 'number' ? s.minimum : undefined;
  const max = typeof s.maximum === 'number' ? s.maximum : undefined;
  if (min !== undefined && max !== undefined) parts.push(`${min} to ${max}.`);
  if (typeof s.maxLength === 'number') parts.push(`At most ${s.maxLength} characters.`);
  return parts.join(' ');
}

function generatedNote(source: string): string {
  return `<!-- Generated by docs-site/scripts/generate.ts from ${source}. Do not edit by hand. -->`;
}

function renderTagPage(doc: Doc, page: TagPage, order: number, source: string): string {
  const resolve = createResolver(doc);
  const slugger = new Slugger();
  const count = page.operations.length;
  return document([
    frontmatter({
      title: page.title,
      description: page.description || `${page.title}: ${count} operation${count === 1 ? '' : 's'} of the Subscribe Flow API.`,
      editUrl: false,
      sidebar: { order },
      tableOfContents: { minHeadingLevel: 2, maxHeadingLevel: 2 },
    }),
    generatedNote(source),
    page.description ? prose(page.description) : undefined,
    `Generated from the OpenAPI document; see the [overview](/${API_DIR}/) for authentication, errors and pagination.`,
    ...page.operations.map((op) => renderOperation(doc, op, resolve, slugger)),
  ]);
}

/** The anchor of every operation on its tag page, replaying the page's headings in order. */
function operationAnchors(page: TagPage): string[] {
  const slugger = new Slugger();
  return page.operations.map((op) => {
    const anchor = slugger.slug(operationTitle(op));
    for (const heading of ['Parameters', 'Request body', 'Responses', 'Example']) {
      if (heading === 'Parameters' && op.parameters.length === 0) continue;
      if (heading === 'Request body' && !op.requestBody) continue;
      slugger.slug(heading);
    }
    return anchor;
  });
}

/** The body schema of the first error response in document order that has the error envelope's shape. */
function firstErrorEnvelope(pages: TagPage[], resolve: Resolver): Schema | undefined {
  for (const op of pages.flatMap((p) => p.operations)) {
    for (const [status, response] of op.responses) {
      if (isSuccess(status)) continue;
      const media = pickContent(response.content);
      const schema = media && isSchema(media[1].schema) ? media[1].schema : undefined;
      if (schema && isErrorEnvelope(schema, resolve)) return schema;
    }
  }
  return undefined;
}

function renderIndex(doc: Doc, pages: TagPage[], source: string): string {
  const resolve = createResolver(doc);
  const info = isSchema(doc.info) ? doc.info : {};
  const all = schemes(doc);
  const components = isSchema(doc.components) ? doc.components : {};
  const schemas = isSchema(components.schemas) ? components.schemas : {};
  const errorSchema = isSchema(schemas.Error) ? schemas.Error : isSchema(schemas.ErrorResponse) ? schemas.ErrorResponse : firstErrorEnvelope(pages, resolve);
  const total = pages.reduce((n, p) => n + p.operations.length, 0);

  const authRows = Object.entries(all).map(([name, scheme]) => [cellCode(name), cell(schemeLabel(name, scheme)), cell(str(scheme.description) ?? '')]);
  const errorExample = {
    error: {
      code: 'validation_error',
      message: 'The request is not valid',
      request_id: '3f1c2a9e-5b7d-4c8e-9f0a-1b2c3d4e5f60',
      details: [{ message: 'must match format "email"', field: 'email', location: 'body' }],
    },
  };
  const pageRows = pages.map((p) => [`[${cell(p.title)}](/${API_DIR}/${p.slug}/)`, String(p.operations.length), cell(p.description)]);
  const opRows = pages.flatMap((p) => {
    const anchors = operationAnchors(p);
    return p.operations.map((op, i) => [
      cellCode(op.method),
      cellCode(op.path),
      `[${cell(operationTitle(op))}](/${API_DIR}/${p.slug}/#${anchors[i]})`,
      op.operationId ? cellCode(op.operationId) : '—',
    ]);
  });

  return document([
    frontmatter({
      title: 'API reference',
      description: 'Every operation of the Subscribe Flow REST API, generated from its OpenAPI document.',
      editUrl: false,
      sidebar: { label: 'Overview', order: 0 },
    }),
    generatedNote(source),
    [
      `This reference is generated from the server's OpenAPI document (${code(str(info.title) ?? 'API')},`,
      `version ${code(str(info.version) ?? 'unknown')}): ${total} operations on ${pages.length} pages. A running`,
      `server also serves the document at ${code('/openapi.json')} and an interactive explorer at ${code('/docs')}.`,
    ].join('\n'),
    str(info.description) ? prose(str(info.description) ?? '') : undefined,
    [
      'The examples use two shell variables; set them once:',
      '',
      fence(
        'sh',
        'export SF_API_URL=http://localhost:3000   # your API origin, no trailing slash\nexport SF_API_KEY=sf_test_...               # an API key with the scopes the call needs',
      ),
    ].join('\n'),
    '## Authentication',
    [
      'Calls from your own backend use an API key, sent as `Authorization: Bearer sf_live_…` or in the',
      '`X-API-Key` header. Each key belongs to one organization and carries scopes; a call without the scope',
      'an operation lists is refused with `403 insufficient_scope`. The admin dashboard uses the `sf_session`',
      'cookie instead: it picks the organization with the `X-Organization-Id` header (optional when the user',
      'belongs to one organization), needs the role an operation lists, and its state-changing requests must',
      'come from an allowed `Origin` with the header `X-Requested-With: subscribe-flow`. Operations marked',
      "public need no credentials; those of the preference center take the subscriber's signed link token",
      'instead. The document declares these schemes:',
    ].join('\n'),
    authRows.length > 0 ? table(['Scheme', 'Sent as', 'Description'], authRows) : '_The document declares no security schemes._',
    '## Errors',
    [
      'Every error has the same JSON shape. `code` is stable and meant for programs; `message` is for people;',
      '`details`, when present, lists the problems one by one (for validation errors, one per field);',
      "`request_id` identifies the request in the server's logs and is also sent as the `x-request-id` header",
      "of every response. Another organization's resource answers `404`, exactly like one that does not exist.",
    ].join('\n'),
    fence('json', JSON.stringify(errorExample, null, 2)),
    errorSchema ? fieldTable(errorSchema, resolve) : undefined,
    table(
      ['Status', 'Meaning'],
      [
        ['400', 'The request is malformed (for example, invalid JSON).'],
        ['401', 'Missing, invalid, expired or revoked credentials.'],
        ['402', "A plan limit is reached (`plan_limit_exceeded`); today that is the organization's monthly email limit."],
        ['403', 'The credentials lack the scope or role the operation needs.'],
        ['404', 'No such resource in this organization.'],
        ['409', 'Conflict, for example an email address that already exists, or a request with the same `Idempotency-Key` still running.'],
        ['422', 'Validation failed; `details` names each field. Also an `Idempotency-Key` reused with a different body.'],
        ['429', 'Rate limited; wait for the number of seconds in `Retry-After`.'],
        ['5xx', 'Server trouble; safe to retry with the same `Idempotency-Key`.'],
      ],
    ),
    '## Conventions',
    [
      '- **JSON everywhere**, field names in `snake_case`, timestamps in ISO 8601 UTC, ids are UUIDs.',
      '- **Pagination:** lists take `limit` (at most 100) and `cursor`, and answer `{ "items": [...], "next_cursor": "…" }`;',
      '  pass `next_cursor` back as `cursor` until it is `null`.',
      '- **Idempotency:** operations marked *Idempotent retries* accept an `Idempotency-Key` header. Retrying with',
      "  the same key and body within 24 hours (the server's `IDEMPOTENCY_TTL_SECONDS`) returns the first response",
      '  instead of doing the work twice, with the header `idempotency-replayed: true`.',
      '- **Rate limits:** per API key or signed-in user, and per client IP for calls without credentials.',
      '  Responses carry `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`; a `429` carries `Retry-After`.',
    ].join('\n'),
    '## Resources',
    pageRows.length > 0 ? table(['Page', 'Operations', 'About'], pageRows) : '_No operations._',
    '## All operations',
    opRows.length > 0 ? table(['Method', 'Path', 'Summary', 'Operation ID'], opRows) : '_No operations._',
  ]);
}

/** Every generated page, keyed by its path under `src/content/docs/`. */
export function renderApiReference(doc: unknown, source: string): Map<string, string> {
  if (!isSchema(doc) || typeof doc.openapi !== 'string' || !isSchema(doc.paths)) {
    throw new Error(`${source} is not an OpenAPI document (expected "openapi" and "paths")`);
  }
  const operations = collectOperations(doc);
  const pages = tagPages(doc, operations);
  const files = new Map<string, string>();
  files.set(`${API_DIR}/index.md`, renderIndex(doc, pages, source));
  pages.forEach((page, i) => files.set(page.file, renderTagPage(doc, page, i + 1, source)));
  return files;
}

/** What the reference says while the server has not produced its OpenAPI document yet. */
export function renderMissingApiReference(source: string, command: string): Map<string, string> {
  return new Map([
    [
      `${API_DIR}/index.md`,
      document([
        frontmatter({ title: 'API reference', description: 'The Subscribe Flow REST API.', editUrl: false, sidebar: { label: 'Overview', order: 0 } }),
        generatedNote(source),
        `This reference is generated from ${code(source)}, which was not present when these docs were built.`,
        `Produce it with ${code(command)}, then run ${code('npm run generate -w docs-site')}. Until then, a running`,
        `server serves the same document at ${code('/openapi.json')} and an interactive explorer at ${code('/docs')}.`,
      ]),
    ],
  ]);
}
