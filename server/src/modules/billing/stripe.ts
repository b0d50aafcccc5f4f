import Stripe from 'stripe';
import type { Config } from '../../config/index.ts';

export type StripeClient = Stripe;

/**
 * The Stripe SDK pointed at STRIPE_API_URL (Stripe itself unless a stand-in is configured). Requests time
 * out after 20 s and are retried twice by the SDK with idempotency keys, so a retried create is not doubled.
 */
export function createStripeClient(config: Pick<Config, 'STRIPE_SECRET_KEY' | 'STRIPE_API_URL'>): Stripe {
  const url = new URL(config.STRIPE_API_URL);
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  return new Stripe(config.STRIPE_SECRET_KEY!, {
    host: url.hostname,
    port: url.port || (protocol === 'http' ? 80 : 443),
    protocol,
    timeout: 20_000,
    maxNetworkRetries: 2,
    telemetry: false,
    appInfo: { name: 'Subscribe Flow' },
  });
}

/** The subscription's id wherever the object of an event carries it (API versions moved it around). */
export function subscriptionIdOf(object: Record<string, unknown>): string | null {
  if (object.object === 'subscription') return typeof object.id === 'string' ? object.id : null;
  const direct = object.subscription;
  if (typeof direct === 'string') return direct;
  if (direct && typeof direct === 'object' && typeof (direct as { id?: unknown }).id === 'string') return (direct as { id: string }).id;
  const parent = object.parent as { subscription_details?: { subscription?: unknown } } | null | undefined;
  const nested = parent?.subscription_details?.subscription;
  if (typeof nested === 'string') return nested;
  if (nested && typeof nested === 'object' && typeof (nested as { id?: unknown }).id === 'string') return (nested as { id: string }).id;
  return null;
}

/** The customer's id of an event's object. */
export function customerIdOf(object: Record<string, unknown>): string | null {
  if (object.object === 'customer') return typeof object.id === 'string' ? object.id : null;
  const customer = object.customer;
  if (typeof customer === 'string') return customer;
  if (customer && typeof customer === 'object' && typeof (customer as { id?: unknown }).id === 'string') return (customer as { id: string }).id;
  return null;
}
