import { Value } from 'typebox/value';
import { Type, type Static } from 'typebox';
import { parsePlans, type Plan } from './plans.ts';
import { configSchema } from './schema.ts';

export { FREE_PLAN, LEGACY_PLAN, LIMIT_KINDS, type LimitKind, type Plan } from './plans.ts';

type Raw = Static<typeof configSchema>;

export interface Config extends Omit<Raw, 'TOKEN_SECRET' | 'CORS_ORIGINS' | 'TRUST_PROXY'> {
  TOKEN_SECRETS: readonly string[];
  CORS_ORIGINS: readonly string[];
  TRUST_PROXY: boolean | number | string[];
  /** Billing is on when both Stripe keys are set; off, every plan limit is unlimited and billing routes do not exist. */
  BILLING_ENABLED: boolean;
  /** BILLING_PLANS parsed over the default plans. */
  PLANS: readonly Plan[];
}

export class ConfigError extends Error {}

/**
 * Parses the environment once, at start. Unknown variables are ignored; a missing or malformed one
 * stops the process with a message naming it.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Readonly<Config> {
  return parse(configSchema, env) as Readonly<Config>;
}

/**
 * For one-shot processes that need only some variables (the migrator needs no signing secret): checks
 * just those, with the same rules and defaults.
 */
export function loadPartialConfig<K extends keyof Raw>(keys: readonly K[], env: Record<string, string | undefined> = process.env): Readonly<Pick<Raw, K>> {
  return parse(Type.Pick(configSchema, keys as unknown as string[]) as unknown as typeof configSchema, env) as unknown as Pick<Raw, K>;
}

function parse(schema: typeof configSchema, env: Record<string, string | undefined>): Readonly<Config> | Readonly<Partial<Raw>> {
  const input: Record<string, unknown> = {};
  for (const key of Object.keys(schema.properties)) {
    const value = env[key];
    if (value !== undefined && value !== '') input[key] = value;
  }
  const withDefaults = Value.Default(schema, input);
  const converted = Value.Convert(schema, withDefaults);
  const problems = [...Value.Errors(schema, converted)];
  if (problems.length > 0) {
    const lines = problems.map((problem) => {
      const missing = (problem.params as { requiredProperties?: string[] }).requiredProperties?.[0];
      const name = problem.instancePath.replace(/^\//, '') || String(missing ?? '');
      // "must have required properties X" reads like a schema internal; say what to do instead.
      return !problem.instancePath && missing
        ? `  ${name}: is not set (put it in the environment or in .env; see .env.example)`
        : `  ${name}: ${problem.message}`;
    });
    throw new ConfigError(`Invalid configuration:\n${[...new Set(lines)].join('\n')}`);
  }
  const raw = converted as Raw;
  if (!('TOKEN_SECRET' in schema.properties)) return Object.freeze(raw);
  const secrets = raw.TOKEN_SECRET.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const shortSecret = secrets.find((s) => s.length < 32);
  if (shortSecret !== undefined) throw new ConfigError('Invalid configuration:\n  TOKEN_SECRET: every secret must be at least 32 characters');
  const realProblems = realProviderProblems(raw);
  if (realProblems.length > 0) throw new ConfigError(`Invalid configuration:\n${realProblems.join('\n')}`);
  const billingProblems = billingConfigProblems(raw);
  if (billingProblems.length > 0) throw new ConfigError(`Invalid configuration:\n${billingProblems.join('\n')}`);
  const { TOKEN_SECRET: _secret, ...rest } = raw;
  return Object.freeze({
    ...rest,
    TOKEN_SECRETS: Object.freeze(secrets),
    CORS_ORIGINS: Object.freeze(
      raw.CORS_ORIGINS.split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
    TRUST_PROXY: parseTrustProxy(raw.TRUST_PROXY),
    BILLING_ENABLED: Boolean(raw.STRIPE_SECRET_KEY && raw.STRIPE_WEBHOOK_SECRET),
    PLANS: parsePlans(raw.BILLING_PLANS),
  });
}

// Domains that never receive mail from the internet (RFC 2606, RFC 6761, mDNS) and bare host names.
const LOCAL_DOMAIN = /(^|\.)(localhost|local|localdomain|internal|test|invalid|example)$|^[^.]+$|^\[?[\d.:]+\]?$/i;

/**
 * With a real provider, mail reaches real people: every link in it must be https on a public host, and
 * the senders must be on a real domain. The localhost defaults that make `npm start` work would put
 * http://localhost links in List-Unsubscribe and preference links, so they are refused here, by name.
 */
function realProviderProblems(raw: Raw): string[] {
  if (raw.EMAIL_PROVIDER === 'dev') return [];
  const problems: string[] = [];
  const why = `required when EMAIL_PROVIDER is "${raw.EMAIL_PROVIDER}"`;
  for (const name of ['PUBLIC_API_URL', 'PREFERENCES_APP_URL', 'ADMIN_APP_URL'] as const) {
    let url: URL | undefined;
    try {
      url = new URL(raw[name]);
    } catch {
      url = undefined;
    }
    if (!url || url.protocol !== 'https:' || LOCAL_DOMAIN.test(url.hostname))
      problems.push(`  ${name}: must be a public https:// URL (${why}); it is "${raw[name]}"`);
  }
  for (const name of ['EMAIL_DEFAULT_FROM', 'AUTH_EMAIL_FROM'] as const) {
    const domain = /@([^>\s@]+)>?\s*$/.exec(raw[name])?.[1] ?? '';
    if (!domain || LOCAL_DOMAIN.test(domain)) problems.push(`  ${name}: must be an address on a real sending domain (${why}); it is "${raw[name]}"`);
  }
  return problems;
}

/** Billing needs both Stripe keys (one alone is a half-done setup, not "off"), and plans that parse. */
function billingConfigProblems(raw: Raw): string[] {
  const problems: string[] = [];
  if (Boolean(raw.STRIPE_SECRET_KEY) !== Boolean(raw.STRIPE_WEBHOOK_SECRET)) {
    const missing = raw.STRIPE_SECRET_KEY ? 'STRIPE_WEBHOOK_SECRET' : 'STRIPE_SECRET_KEY';
    problems.push(`  ${missing}: is not set, but billing needs both STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET (or neither, to leave billing off)`);
  }
  try {
    const plans = parsePlans(raw.BILLING_PLANS);
    if (!plans.some((p) => p.id === raw.BILLING_EXISTING_ORGANIZATIONS_PLAN))
      problems.push(
        `  BILLING_EXISTING_ORGANIZATIONS_PLAN: names no plan ("${raw.BILLING_EXISTING_ORGANIZATIONS_PLAN}"); plans: ${plans.map((p) => p.id).join(', ')}`,
      );
  } catch (error) {
    problems.push(`  ${(error as Error).message}`);
  }
  return problems;
}

function parseTrustProxy(value: string): boolean | number | string[] {
  if (value === 'true') return true;
  if (value === 'false' || value === '') return false;
  if (/^\d+$/.test(value)) return Number(value);
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
