import { randomToken, sha256Hex } from '../../lib/crypto.ts';
import { createTokenSigner, invalidToken, type TokenClaims, type TokenSigner } from '../../lib/tokens.ts';

export const PREFERENCE_TOKEN_TTL_SECONDS = 7 * 86_400;
export const CONFIRM_TOKEN_TTL_SECONDS = 7 * 86_400;
export const UNDO_TOKEN_TTL_SECONDS = 15 * 60;
export const PREVIEW_TOKEN_TTL_SECONDS = 15 * 60;
const PREFERENCE_PREVIEW_PURPOSE = 'pc-preview';
/** Tags a confirmation link may carry; the token, and so the link, stays well under the 2 KB limit. */
export const MAX_CONFIRM_TAGS = 20;

export type ConfirmSource = 'form' | 'preference_center';

/**
 * What a preference link may do. Links that reach a person through mail that can be forwarded (the
 * footer's one-click link, links minted through the API, the one after confirming) manage topics only;
 * exporting or erasing the person's data needs a `data` link, which is emailed to the address when it
 * asks for one (request-link), so only whoever reads that mailbox now can use it.
 */
export type PreferenceAccess = 'topics' | 'data';

/** A correctly signed preference link: its claims, and whether it has expired. */
export interface PreferenceLink {
  claims: TokenClaims;
  expired: boolean;
}

/**
 * The signed links of the public flows, all through the shared signer (rotatable secrets) with their own
 * purposes: "pref" opens the preference center, "confirm" confirms a double opt-in, "undo" takes back an
 * unsubscribe-all for a few minutes. Every token is bound to one organization and one subscriber.
 */
export function createLinks(deps: { tokens: TokenSigner; secrets: readonly string[]; preferencesAppUrl: string; now?: () => number }) {
  const { tokens } = deps;
  const now = deps.now ?? Date.now;
  // Verifies signatures but ignores expiry: tells a genuine expired link (whose organization we may then
  // name, so the page can offer a fresh one) from a forged one. Never used to grant access.
  const ignoringExpiry = createTokenSigner(deps.secrets, () => 0);
  const base = deps.preferencesAppUrl.replace(/\/+$/, '');
  const expiry = (ttlSeconds: number) => Math.floor(now() / 1000) + ttlSeconds;

  /** The claims of a correctly signed preference token, expired or not; null when forged. */
  function genuinePreference(token: string): TokenClaims | null {
    try {
      return ignoringExpiry.verify(token, 'pref');
    } catch {
      return null;
    }
  }

  return {
    preference(organizationId: string, subscriberId: string, ttlSeconds = PREFERENCE_TOKEN_TTL_SECONDS, access: PreferenceAccess = 'topics') {
      const expiresAt = expiry(ttlSeconds);
      const token = tokens.sign({
        purpose: 'pref',
        organizationId,
        subjectId: subscriberId,
        expiresAt,
        ...(access === 'data' ? { extra: { a: 'data' } } : {}),
      });
      return { token, url: `${base}/?token=${token}`, expires_at: new Date(expiresAt * 1000) };
    },

    /**
     * One signature check for both questions a request asks of its link: whose is it (for its rate
     * limit, even when expired) and may it be used. Null when forged.
     */
    inspectPreference(token: string): PreferenceLink | null {
      const claims = genuinePreference(token);
      if (!claims) return null;
      return { claims, expired: claims.expiresAt !== undefined && claims.expiresAt * 1000 <= now() };
    },

    genuinePreference,

    /** What a verified preference link may do; a link without the claim (every older one) manages topics only. */
    accessOf: (claims: TokenClaims): PreferenceAccess => (claims.extra?.a === 'data' ? 'data' : 'topics'),

    /** The claims of a correctly signed confirmation token, expired or not; null when forged. */
    genuineConfirmation(token: string): TokenClaims | null {
      try {
        return ignoringExpiry.verify(token, 'confirm');
      } catch {
        return null;
      }
    },

    confirmation(organizationId: string, subscriberId: string, options: { source: ConfirmSource; tagIds: string[] }) {
      // A random nonce, so two links for the same request are two links, each usable once; the issue
      // time in milliseconds, so an unsubscribe made after the link was sent is told apart.
      const extra: Record<string, string> = { src: options.source, n: randomToken(9), i: String(now()) };
      if (options.tagIds.length > 0) extra.t = options.tagIds.slice(0, MAX_CONFIRM_TAGS).join(',');
      const token = tokens.sign({ purpose: 'confirm', organizationId, subjectId: subscriberId, expiresAt: expiry(CONFIRM_TOKEN_TTL_SECONDS), extra });
      return { token, url: `${base}/confirm?token=${token}` };
    },

    /**
     * A confirmation link's claims, plus what makes it single use: `linkId` (a hash of the signed claims,
     * the same whichever secret signed them) and when it was issued.
     */
    verifyConfirmation(token: string) {
      const claims = tokens.verify(token, 'confirm');
      const source: ConfirmSource = claims.extra?.src === 'preference_center' ? 'preference_center' : 'form';
      const tagIds = claims.extra?.t ? claims.extra.t.split(',').filter(Boolean).slice(0, MAX_CONFIRM_TAGS) : [];
      const linkId = sha256Hex(token.split('.')[0]!);
      // Links from before the issue time was carried: their expiry tells it to the second.
      const issuedAt = new Date(Number(claims.extra?.i) || ((claims.expiresAt ?? 0) - CONFIRM_TOKEN_TTL_SECONDS) * 1000);
      return { claims, source, tagIds, linkId, issuedAt };
    },

    /**
     * An admin's preview of the preference center: purpose "pc-preview" (not the email previews'
     * "preview", whose links must open nothing), bound to the organization only (its
     * subject is the organization itself, no subscriber), valid for minutes. No route that changes
     * anything accepts this purpose, so a preview link can show the page but never change consent.
     */
    preview(organizationId: string) {
      const expiresAt = expiry(PREVIEW_TOKEN_TTL_SECONDS);
      const token = tokens.sign({ purpose: PREFERENCE_PREVIEW_PURPOSE, organizationId, subjectId: organizationId, expiresAt });
      return { token, url: `${base}/?token=${token}`, expires_at: new Date(expiresAt * 1000) };
    },

    /** The organization a valid, unexpired preview token shows; null for anything else. */
    verifyPreview(token: string): string | null {
      try {
        return tokens.verify(token, PREFERENCE_PREVIEW_PURPOSE).organizationId;
      } catch {
        return null;
      }
    },

    undo(organizationId: string, subscriberId: string, batchId: string) {
      const expiresAt = expiry(UNDO_TOKEN_TTL_SECONDS);
      const token = tokens.sign({ purpose: 'undo', organizationId, subjectId: subscriberId, expiresAt, extra: { b: batchId } });
      return { token, expires_at: new Date(expiresAt * 1000) };
    },

    /** The batch an undo token takes back; it must belong to the same subscriber as the page's link. */
    verifyUndo(token: string, owner: TokenClaims): string {
      const claims = tokens.verify(token, 'undo');
      if (claims.organizationId !== owner.organizationId || claims.subjectId !== owner.subjectId || !claims.extra?.b) throw invalidToken();
      return claims.extra.b;
    },
  };
}

export type Links = ReturnType<typeof createLinks>;
