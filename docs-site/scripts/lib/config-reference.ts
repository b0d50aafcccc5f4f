import { allowedValues, constraints, isSchema, typeLabel } from './json-schema.ts';
import type { Schema } from './json-schema.ts';
import { cell, cellCode, code, document, fence, frontmatter, headingId, prose, table } from './markdown.ts';

/**
 * Renders the configuration reference from the server's config schema: a TypeBox (JSON Schema) object whose
 * property names are environment variable names, each with a `description` and optionally a `default`.
 * A variable is required when it is in `required` and has no default (the server fills defaults first).
 */

export const CONFIG_PAGE = 'reference/configuration.md';

export type ConfigVariable = {
  name: string;
  group: string;
  type: string;
  description: string;
  required: boolean;
  defaultValue: unknown;
  hasDefault: boolean;
  allowed: unknown[] | undefined;
  limits: string[];
};

/**
 * How variables are grouped, first rule that applies: the property's own `x-group`; a well-known prefix
 * below; `*_URL`/`*_ORIGINS` (public URLs); `*_PER_MINUTE` and the like (rate limits); a prefix shared by
 * two or more variables, title-cased; otherwise "General". Groups appear in the order of their first
 * variable in the schema.
 */
const GROUP_TITLES: Record<string, string> = {
  DATABASE: 'PostgreSQL',
  POSTGRES: 'PostgreSQL',
  REDIS: 'Redis',
  EMAIL: 'Email',
  SMTP: 'Email: SMTP',
  RESEND: 'Email: Resend',
  MAIL: 'Email',
  STRIPE: 'Billing: Stripe',
  BILLING: 'Billing',
  SENTRY: 'Observability',
  METRICS: 'Observability',
  OTEL: 'Observability',
  RATE: 'Rate limits',
  TRUST: 'Proxies and client IPs',
  CORS: 'Public URLs and CORS',
  WEBHOOK: 'Webhooks',
  WEBHOOKS: 'Webhooks',
  SESSION: 'Sessions and sign-in',
  MAGIC: 'Sessions and sign-in',
  TOKEN: 'Secrets',
  IDEMPOTENCY: 'Requests',
  BODY: 'Requests',
};
const GENERAL = 'General';

export function readVariables(schema: unknown): ConfigVariable[] {
  if (!isSchema(schema) || !isSchema(schema.properties)) {
    throw new Error('configSchema must be an object schema with `properties` (a TypeBox Type.Object)');
  }
  const required = new Set(Array.isArray(schema.required) ? schema.required : []);
  const entries = Object.entries(schema.properties).filter((e): e is [string, Schema] => isSchema(e[1]));
  const prefixCounts = new Map<string, number>();
  for (const [name] of entries) prefixCounts.set(prefixOf(name), (prefixCounts.get(prefixOf(name)) ?? 0) + 1);

  return entries.map(([name, prop]) => {
    const hasDefault = 'default' in prop && prop.default !== undefined;
    const explicitGroup = typeof prop['x-group'] === 'string' ? prop['x-group'] : undefined;
    const prefix = prefixOf(name);
    const group =
      explicitGroup ??
      GROUP_TITLES[prefix] ??
      (/_(URL|ORIGIN|ORIGINS)$/.test(name) ? GROUP_TITLES.CORS : undefined) ??
      (/_PER_(SECOND|MINUTE|HOUR|DAY)$/.test(name) ? GROUP_TITLES.RATE : undefined) ??
      ((prefixCounts.get(prefix) ?? 0) >= 2 ? titleCase(prefix) : GENERAL);
    return {
      name,
      group,
      type: typeLabel(prop),
      description: typeof prop.description === 'string' ? prop.description : '',
      required: required.has(name) && !hasDefault,
      defaultValue: prop.default,
      hasDefault,
      allowed: allowedValues(prop),
      limits: constraints(prop),
    };
  });
}

function prefixOf(name: string): string {
  return name.split('_')[0] ?? name;
}

function titleCase(word: string): string {
  return word.charAt(0) + word.slice(1).toLowerCase();
}

/** How a default reads in prose: strings as written in an `.env` file. */
function formatDefault(value: unknown): string {
  if (value === '') return '(empty)';
  return code(typeof value === 'string' ? value : JSON.stringify(value));
}

function envValue(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function renderConfigReference(schema: unknown, source: string): string {
  const variables = readVariables(schema);
  const groups = new Map<string, ConfigVariable[]>();
  for (const variable of variables) {
    const list = groups.get(variable.group) ?? [];
    list.push(variable);
    groups.set(variable.group, list);
  }
  const requiredOnes = variables.filter((v) => v.required);

  const summary = table(
    ['Variable', 'Required', 'Default'],
    variables.map((v) => [`[${cellCode(v.name)}](#${headingId(v.name)})`, v.required ? 'yes' : 'no', v.hasDefault ? cell(formatDefault(v.defaultValue)) : '—']),
  );

  const sections = [...groups.entries()].map(([group, list]) => [`## ${group}`, ...list.map(renderVariable)].join('\n\n'));

  const envLines = [
    '# Required: the server does not start without these.',
    ...requiredOnes.map((v) => `${v.name}=`),
    '',
    '# Optional: the values shown are the defaults.',
    ...variables.filter((v) => !v.required).map((v) => `# ${v.name}=${v.hasDefault ? envValue(v.defaultValue) : ''}`),
  ];

  return document([
    frontmatter({
      title: 'Configuration reference',
      description: 'Every environment variable the Subscribe Flow server reads, with its type, default and meaning.',
      editUrl: false,
      tableOfContents: { minHeadingLevel: 2, maxHeadingLevel: 2 },
    }),
    `<!-- Generated by docs-site/scripts/generate.ts from ${source}. Do not edit by hand. -->`,
    [
      'The server is configured only through environment variables. The API, worker, cron and migrate processes',
      'all read the same set, validate it once at start and stop with a message naming any variable that is',
      'missing or malformed. Unknown variables are ignored.',
    ].join('\n'),
    `This page is generated from ${code(source)}; to change it, change the schema there.`,
    `${variables.length} variables, ${requiredOnes.length} of them required.`,
    summary,
    ...sections,
    '## Example `.env`',
    fence('sh', envLines.join('\n')),
  ]);
}

function renderVariable(v: ConfigVariable): string {
  const facts = [`- **Type:** ${v.allowed ? 'one of the values below' : prose(v.type)}`];
  facts.push(`- **Required:** ${v.required ? 'yes' : 'no'}`);
  if (v.hasDefault) facts.push(`- **Default:** ${formatDefault(v.defaultValue)}`);
  if (v.allowed) facts.push(`- **Allowed values:** ${v.allowed.map((a) => code(envValue(a))).join(', ')}`);
  if (v.limits.length > 0) facts.push(`- **Constraints:** ${prose(v.limits.join(', '))}`);
  return [`### ${code(v.name)}`, v.description ? prose(v.description) : '_No description._', facts.join('\n')].join('\n\n');
}
