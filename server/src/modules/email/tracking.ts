import type { TokenSigner } from '../../lib/tokens.ts';

/** Purposes of the signed tokens in tracked links (see lib/tokens.ts): open pixel, link, honeypot link. */
export const OPEN_PURPOSE = 'to';
export const CLICK_PURPOSE = 'tc';
export const TRAP_PURPOSE = 'th';

/** Longest link a campaign's email may have tracked; a longer one is left as it is. */
export const MAX_TRACKED_URL_LENGTH = 1400;
// Tokens the signer accepts (lib/tokens.ts) and the router passes (app.ts) are at most this long.
const MAX_TOKEN_LENGTH = 2048;

/** What one tracked email's links say about it: signed into every pixel and link token. */
export interface TrackingContext {
  organizationId: string;
  campaignId: string;
  /** The email_messages id; null in privacy mode (only aggregates are kept, nobody is identified). */
  messageId: string | null;
  /** When the email was made (epoch ms): opens and clicks seconds later are machines. */
  sentAt: number;
}

const base = (url: string) => url.replace(/\/+$/, '');

/** A link the redirect may send a reader to: absolute http(s), no credentials, not too long. */
export function trackableUrl(raw: string): boolean {
  if (raw.length > MAX_TRACKED_URL_LENGTH) return false;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return false;
  }
  return (url.protocol === 'https:' || url.protocol === 'http:') && url.username === '' && url.password === '';
}

/** The signed URLs of one email: its pixel, each of its links, its honeypot. */
export function trackingUrls(tokens: TokenSigner, publicApiUrl: string, context: TrackingContext) {
  const extra: Record<string, string> = { c: context.campaignId, t: String(Math.floor(context.sentAt / 1000)) };
  const subjectId = context.messageId ?? '-';
  const sign = (purpose: string, more: Record<string, string> = {}) =>
    tokens.sign({ purpose, organizationId: context.organizationId, subjectId, extra: { ...extra, ...more } });
  const root = base(publicApiUrl);
  return {
    pixel: () => `${root}/t/o/${sign(OPEN_PURPOSE)}`,
    /** The tracked form of a link; null when its token would be too long to verify (the link stays as it is). */
    link: (url: string): string | null => {
      const token = sign(CLICK_PURPOSE, { u: url });
      return token.length <= MAX_TOKEN_LENGTH ? `${root}/t/c/${token}` : null;
    },
    trap: () => `${root}/t/h/${sign(TRAP_PURPOSE)}`,
  };
}

const decodeEntities = (value: string) =>
  value.replace(/&(amp|quot|#39|#x27|lt|gt);/g, (_, name: string) => ({ amp: '&', quot: '"', '#39': "'", '#x27': "'", lt: '<', gt: '>' })[name]!);

const NOTRACK = /data-notrack/i;
const ANCHOR = /<a\b([^>]*?)\shref\s*=\s*(["'])([^"']*)\2([^>]*)>/gi;

/**
 * Rewrites a rendered email for tracking: every absolute http(s) link (except those `keep` refuses:
 * the unsubscribe and preference links, links marked `data-notrack`) goes through a signed redirect,
 * and an open pixel and a hidden honeypot link (no person sees or follows it, scanners do) are added
 * at the end of the body. Pure: the same input gives the same output.
 */
export function rewriteForTracking(
  html: string,
  urls: { pixel: string; trap: string; link: (url: string) => string | null },
  keep: (url: string) => boolean,
): string {
  const rewritten = html.replace(ANCHOR, (whole, before: string, quote: string, href: string, after: string) => {
    if (/\bdata-notrack\b/i.test(before + after)) return whole;
    const target = decodeEntities(href.trim());
    if (keep(target) || !trackableUrl(target)) return whole;
    const tracked = urls.link(target);
    return tracked ? `<a${before} href=${quote}${tracked}${quote}${after}>` : whole;
  });
  const extras =
    `<a href="${urls.trap}" style="display:none!important;font-size:0;line-height:0;max-height:0;overflow:hidden" aria-hidden="true" tabindex="-1"></a>` +
    `<img src="${urls.pixel}" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0" />`;
  const close = rewritten.search(/<\/body>/i);
  return close === -1 ? rewritten + extras : rewritten.slice(0, close) + extras + rewritten.slice(close);
}

/** The addresses of the links the author marked `data-notrack` in an email's HTML (left as they are). */
export function untrackedLinks(html: string): Set<string> {
  const found = new Set<string>();
  // Most emails mark no link: one scan for the word instead of matching every anchor.
  if (!NOTRACK.test(html)) return found;
  for (const [, before, , href, after] of html.matchAll(ANCHOR)) {
    if (/\bdata-notrack\b/i.test(`${before!}${after!}`)) found.add(decodeEntities(href!.trim()));
  }
  return found;
}

// An address in plain text runs to the next blank, quote or angle bracket; what trails it is trimmed below.
const TEXT_URL = /\bhttps?:\/\/[^\s<>"'`]+/gi;

/** Drops the punctuation a sentence or a "Label (https://…)" wraps around an address from its end. */
function trimTrailing(url: string): string {
  let end = url.length;
  for (;;) {
    const last = url[end - 1];
    if (last && '.,;:!?'.includes(last)) end -= 1;
    else if (last === ')' || last === ']') {
      const open = last === ')' ? '(' : '[';
      const body = url.slice(0, end);
      // A closing bracket belongs to the address only when the address opened it (Wikipedia-style paths).
      if (body.split(open).length - 1 < body.split(last).length - 1) end -= 1;
      else break;
    } else break;
  }
  return url.slice(0, end);
}

/**
 * The plain-text part of a tracked email: every absolute http(s) address in it that `keep` does not
 * refuse goes through the same signed redirect as in the HTML part (the token is deterministic, so the
 * same address gets the same link id in both parts), so a reader of the text part cannot bypass tracking
 * and their click counts on the same link. No pixel or honeypot: plain text shows neither.
 */
export function rewriteTextForTracking(text: string, link: (url: string) => string | null, keep: (url: string) => boolean): string {
  return text.replace(TEXT_URL, (found) => {
    const url = trimTrailing(found);
    if (keep(url) || !trackableUrl(url)) return found;
    const tracked = link(url);
    return tracked ? tracked + found.slice(url.length) : found;
  });
}
