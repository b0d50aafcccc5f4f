import type { Config } from '../../config/index.ts';
import type { TokenSigner } from '../../lib/tokens.ts';
import { trackingUrls, type TrackingContext } from './tracking.ts';

/** Purposes of the signed tokens the email engine mints (see lib/tokens.ts). */
export const UNSUBSCRIBE_PURPOSE = 'unsub';
export const PREFERENCE_PURPOSE = 'pref';
/** Links in previews: shaped like real ones, refused by every endpoint (no route verifies this purpose). */
export const PREVIEW_PURPOSE = 'preview';

// The preference token minted when a reader opens an email's link; the link itself never expires.
const PREFERENCE_REDIRECT_TTL_SECONDS = 24 * 3600;

const base = (url: string) => url.replace(/\/+$/, '');

/**
 * Links inside emails. Both the unsubscribe link and the preference link point at `/u/{token}` on the
 * API: a token that never expires and names organization and subscriber (and later the campaign).
 * POST there unsubscribes in one step (RFC 8058); GET only redirects to the preference center with a
 * fresh, short-lived preference token, so link scanners that fetch it change nothing and old emails
 * keep working.
 */
export function createEmailLinks(deps: { config: Pick<Config, 'PUBLIC_API_URL' | 'PREFERENCES_APP_URL'>; tokens: TokenSigner; now?: () => number }) {
  const { config, tokens } = deps;
  const now = deps.now ?? Date.now;
  return {
    unsubscribeToken(organizationId: string, subscriberId: string, campaignId?: string): string {
      return tokens.sign({ purpose: UNSUBSCRIBE_PURPOSE, organizationId, subjectId: subscriberId, ...(campaignId ? { extra: { c: campaignId } } : {}) });
    },

    unsubscribeUrl(organizationId: string, subscriberId: string, campaignId?: string): string {
      return `${base(config.PUBLIC_API_URL)}/u/${this.unsubscribeToken(organizationId, subscriberId, campaignId)}`;
    },

    /**
     * The unsubscribe link of a preview: it looks like a real one (so the layout is true to size), but
     * `/u/` refuses its purpose. A preview is a read; it must never hand its reader a working link that
     * unsubscribes someone or opens their preference center.
     */
    previewUrl(organizationId: string, subscriberId: string | null): string {
      return `${base(config.PUBLIC_API_URL)}/u/${tokens.sign({ purpose: PREVIEW_PURPOSE, organizationId, subjectId: subscriberId ?? 'sample' })}`;
    },

    /**
     * The preference center with a fresh preference token for the subscriber. It manages topics only:
     * whoever holds an email (forwarded or not) must not export or erase the person's data.
     */
    preferenceCenterUrl(organizationId: string, subscriberId: string): string {
      const token = tokens.sign({
        purpose: PREFERENCE_PURPOSE,
        organizationId,
        subjectId: subscriberId,
        expiresAt: Math.floor(now() / 1000) + PREFERENCE_REDIRECT_TTL_SECONDS,
      });
      return `${base(config.PREFERENCES_APP_URL)}/?token=${encodeURIComponent(token)}`;
    },

    /** The signed open pixel, link redirects and honeypot of one tracked email (tracking.ts). */
    tracking(context: TrackingContext) {
      return trackingUrls(tokens, config.PUBLIC_API_URL, context);
    },

    /** Links of our own (unsubscribe, preference center) that tracking leaves as they are. */
    isOwnLink(url: string): boolean {
      return url.startsWith(`${base(config.PUBLIC_API_URL)}/u/`) || url.startsWith(`${base(config.PREFERENCES_APP_URL)}/`);
    },

    /** RFC 8058 headers for marketing mail: the HTTPS one-click URL and the POST marker. */
    listUnsubscribeHeaders(unsubscribeUrl: string): Record<string, string> {
      return { 'List-Unsubscribe': `<${unsubscribeUrl}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' };
    },
  };
}

export type EmailLinks = ReturnType<typeof createEmailLinks>;
