import type { Throttle } from '../../lib/throttle.ts';

/**
 * Counts the emails that public requests trigger for one address (links, confirmations) in fixed hourly
 * windows, so no one can flood a mailbox through our forms. Counting happens whether or not the address
 * is known, so a 429 reveals nothing about it.
 */
export function createAddressLimiter(throttle: Throttle, perHour: number) {
  return {
    hit: (bucket: string, organizationId: string, email: string): Promise<void> =>
      throttle.hit(`addr:${bucket}`, `${organizationId}:${email.trim()}`, perHour, 3600, 'emails requested for this address'),
  };
}

export type AddressLimiter = ReturnType<typeof createAddressLimiter>;
