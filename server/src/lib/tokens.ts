import { createSecretKey } from 'node:crypto';
import { constantTimeEqual, hmacSha256 } from './crypto.ts';
import { AppError } from './errors.ts';

/**
 * Signed tokens for links in emails and public pages (preference center, one-click unsubscribe,
 * double-opt-in confirmation). A token is `base64url(JSON claims).base64url(HMAC-SHA256)`. The first
 * configured secret signs; every configured secret verifies, so secrets rotate without breaking links.
 * Claims name their purpose, so a token minted for one use is refused for another.
 */
export interface TokenClaims {
  /** What the token is for, e.g. "pref", "unsub", "confirm". */
  purpose: string;
  organizationId: string;
  subjectId: string;
  /** Seconds since the epoch; absent for tokens that do not expire (one-click unsubscribe). */
  expiresAt?: number;
  /** Optional extra context, e.g. the campaign an unsubscribe link came from. */
  extra?: Record<string, string>;
}

interface WireClaims {
  p: string;
  o: string;
  s: string;
  e?: number;
  x?: Record<string, string>;
}

export const invalidToken = (): AppError => new AppError(401, 'invalid_token', 'The link is not valid');
export const expiredToken = (): AppError => new AppError(401, 'token_expired', 'The link has expired');

export function createTokenSigner(secrets: readonly string[], now: () => number = Date.now) {
  if (secrets.length === 0) throw new Error('at least one token secret is required');
  // Imported once: turning a string into an HMAC key on every call was most of a verification's cost.
  const keys = secrets.map((secret) => createSecretKey(Buffer.from(secret)));
  const sign = (body: string, key: (typeof keys)[number]) => hmacSha256(key, body).toString('base64url');

  return {
    sign(claims: TokenClaims): string {
      const wire: WireClaims = { p: claims.purpose, o: claims.organizationId, s: claims.subjectId };
      if (claims.expiresAt !== undefined) wire.e = claims.expiresAt;
      if (claims.extra) wire.x = claims.extra;
      const body = Buffer.from(JSON.stringify(wire)).toString('base64url');
      return `${body}.${sign(body, keys[0]!)}`;
    },

    /** Returns the claims of a genuine, unexpired token for `purpose`; throws invalid_token / token_expired. */
    verify(token: string, purpose: string): TokenClaims {
      if (typeof token !== 'string' || token.length > 2048) throw invalidToken();
      const [body, signature, ...rest] = token.split('.');
      if (!body || !signature || rest.length > 0) throw invalidToken();
      if (!keys.some((key) => constantTimeEqual(sign(body, key), signature))) throw invalidToken();
      let wire: WireClaims;
      try {
        wire = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as WireClaims;
      } catch {
        throw invalidToken();
      }
      if (wire.p !== purpose || typeof wire.o !== 'string' || typeof wire.s !== 'string') throw invalidToken();
      if (wire.e !== undefined && wire.e * 1000 <= now()) throw expiredToken();
      return { purpose: wire.p, organizationId: wire.o, subjectId: wire.s, ...(wire.e !== undefined ? { expiresAt: wire.e } : {}), ...(wire.x ? { extra: wire.x } : {}) };
    },
  };
}

export type TokenSigner = ReturnType<typeof createTokenSigner>;

/**
 * The organization a token CLAIMS to belong to, without checking its signature: only for choosing
 * which organization's "send me a new link" form a broken link shows. Never grants anything: that form
 * emails a link only to an address already subscribed there, and answers the same either way.
 */
export function claimedOrganization(token: string): string | null {
  const body = typeof token === 'string' && token.length <= 2048 ? token.split('.')[0] : undefined;
  if (!body) return null;
  try {
    const wire = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Partial<WireClaims>;
    return typeof wire.o === 'string' && /^[0-9a-f-]{36}$/i.test(wire.o) ? wire.o : null;
  } catch {
    return null;
  }
}
