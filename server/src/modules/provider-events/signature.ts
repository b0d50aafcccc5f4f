import { constantTimeEqual, hmacSha256 } from '../../lib/crypto.ts';

/** The three headers of a Standard Webhooks / Svix delivery. */
export interface SignatureHeaders {
  id: string | undefined;
  timestamp: string | undefined;
  signature: string | undefined;
}

export const TOLERANCE_SECONDS = 5 * 60;

/**
 * Standard Webhooks verification (the scheme Svix, and so Resend, signs with): HMAC-SHA256 over
 * `${id}.${timestamp}.${rawBody}` with the base64 key after "whsec_", compared in constant time against
 * each space-separated "v1,<base64>" entry (several during secret rotation). A timestamp more than five
 * minutes away from now is refused, so a captured delivery cannot be replayed later.
 */
export function verifySignature(secret: string, headers: SignatureHeaders, rawBody: string, nowMs: number = Date.now()): boolean {
  const { id, timestamp, signature } = headers;
  if (!id || !timestamp || !signature || id.length > 256 || signature.length > 4096) return false;
  if (!/^\d{1,12}$/.test(timestamp)) return false;
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > TOLERANCE_SECONDS) return false;
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64');
  if (key.length === 0) return false;
  const expected = hmacSha256(key, `${id}.${timestamp}.${rawBody}`).toString('base64');
  return signature.split(' ').some((entry) => {
    const [version, value] = entry.split(',', 2);
    return version === 'v1' && value !== undefined && constantTimeEqual(value, expected);
  });
}

/** Signs like the provider does; the tests and local tooling use it to post genuine deliveries. */
export function signPayload(secret: string, id: string, timestampSeconds: number, rawBody: string): string {
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64');
  return `v1,${hmacSha256(key, `${id}.${timestampSeconds}.${rawBody}`).toString('base64')}`;
}
