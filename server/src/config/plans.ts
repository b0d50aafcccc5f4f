/**
 * Plans are configuration, not code: each plan's limits and its Stripe price. The defaults below are
 * what the BILLING_PLANS variable is merged over, plan by plan. A limit of null is unlimited.
 */
export const LIMIT_KINDS = ['subscribers', 'emails_per_month', 'webhook_endpoints', 'custom_domains'] as const;
export type LimitKind = (typeof LIMIT_KINDS)[number];

export interface Plan {
  /** Key stored on the organization ("free", "starter", …). */
  id: string;
  name: string;
  stripe_price_id: string | null;
  limits: Readonly<Record<LimitKind, number | null>>;
}

/** The plan every organization has without a paid subscription; it must exist. */
export const FREE_PLAN = 'free';

/**
 * The plan organizations that existed before billing was first turned on are given by default
 * (BILLING_EXISTING_ORGANIZATIONS_PLAN): unlimited unless configured otherwise, never sold, not offered.
 */
export const LEGACY_PLAN = 'legacy';

export const DEFAULT_PLANS: Readonly<Record<string, Omit<Plan, 'id'>>> = {
  free: { name: 'Free', stripe_price_id: null, limits: { subscribers: 1_000, emails_per_month: 4_000, webhook_endpoints: 0, custom_domains: 0 } },
  starter: { name: 'Starter', stripe_price_id: null, limits: { subscribers: 5_000, emails_per_month: 50_000, webhook_endpoints: 3, custom_domains: 0 } },
  professional: {
    name: 'Professional',
    stripe_price_id: null,
    limits: { subscribers: 50_000, emails_per_month: 500_000, webhook_endpoints: null, custom_domains: null },
  },
  legacy: { name: 'Legacy', stripe_price_id: null, limits: { subscribers: null, emails_per_month: null, webhook_endpoints: null, custom_domains: null } },
};

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Parses BILLING_PLANS over the defaults; throws a message naming what is wrong. */
export function parsePlans(json: string): readonly Plan[] {
  let input: unknown = {};
  if (json.trim()) {
    try {
      input = JSON.parse(json);
    } catch {
      throw new Error('BILLING_PLANS: is not valid JSON');
    }
  }
  if (!isRecord(input)) throw new Error('BILLING_PLANS: must be a JSON object keyed by plan name');
  const ids = [...new Set([...Object.keys(DEFAULT_PLANS), ...Object.keys(input)])];
  const plans: Plan[] = [];
  for (const id of ids) {
    if (!/^[a-z][a-z0-9_-]{0,31}$/.test(id)) throw new Error(`BILLING_PLANS: plan name "${id}" must be lowercase letters, digits, - or _ (at most 32)`);
    const base = DEFAULT_PLANS[id];
    const given = input[id] ?? {};
    if (!isRecord(given)) throw new Error(`BILLING_PLANS: plan "${id}" must be an object`);
    const name = given.name ?? base?.name ?? id;
    if (typeof name !== 'string' || name.length === 0 || name.length > 60) throw new Error(`BILLING_PLANS: ${id}.name must be a text of 1 to 60 characters`);
    const price = given.stripe_price_id ?? base?.stripe_price_id ?? null;
    if (price !== null && (typeof price !== 'string' || !/^price_[A-Za-z0-9_]{1,200}$/.test(price)))
      throw new Error(`BILLING_PLANS: ${id}.stripe_price_id must look like price_…`);
    if ((id === FREE_PLAN || id === LEGACY_PLAN) && price !== null) throw new Error(`BILLING_PLANS: the ${id} plan cannot have a Stripe price`);
    const limits = {} as Record<LimitKind, number | null>;
    for (const kind of LIMIT_KINDS) {
      const value = kind in given ? given[kind] : base ? base.limits[kind] : null;
      if (value !== null && (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 2_000_000_000)) {
        throw new Error(`BILLING_PLANS: ${id}.${kind} must be a whole number from 0 or null (unlimited)`);
      }
      limits[kind] = value;
    }
    plans.push(Object.freeze({ id, name, stripe_price_id: price, limits: Object.freeze(limits) }));
  }
  const prices = plans.map((p) => p.stripe_price_id).filter(Boolean);
  if (new Set(prices).size !== prices.length) throw new Error('BILLING_PLANS: two plans have the same Stripe price');
  return Object.freeze(plans);
}
