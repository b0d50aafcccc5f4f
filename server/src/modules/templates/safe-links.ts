/**
 * Attributes that load or navigate to a URL. A value starting with one of the schemes below runs code
 * (javascript:, vbscript:) or renders attacker-chosen content under the email's trust (data:), so it is
 * replaced by "#". Images may still be `data:` URLs in `src`.
 */
const URL_ATTRIBUTE = /(\s(?:href|src|action|formaction|background|poster|xlink:href)\s*=\s*)(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/gi;
const NAVIGATING = /^(?:javascript|vbscript|data):/;
const EXECUTING = /^(?:javascript|vbscript):/;
const HTTP = /^https?:/i;

const NAMED: Record<string, string> = { colon: ':', tab: '\t', newline: '\n', amp: '&', lpar: '(', rpar: ')', sol: '/' };

/** One pass of HTML character-reference decoding, as a browser does for an attribute value. */
function decodeReferences(value: string): string {
  return value.replace(/&(?:#x([0-9a-f]{1,6})|#([0-9]{1,7})|([a-z]{2,8}));?/gi, (whole, hex?: string, dec?: string, name?: string) => {
    if (hex || dec) {
      const code = hex ? Number.parseInt(hex, 16) : Number(dec);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : '';
    }
    return NAMED[name!.toLowerCase()] ?? whole;
  });
}

/** The scheme a browser would see: references decoded, whitespace and control characters dropped. */
const schemeOf = (value: string): string =>
  decodeReferences(value)
    .replace(/[\p{Cc}\s]+/gu, '')
    .toLowerCase();

/** Replaces script and data URLs in links of rendered HTML with "#"; everything else is left as it is. */
export function neutralizeUnsafeLinks(html: string): string {
  return html.replace(URL_ATTRIBUTE, (whole, prefix: string, double?: string, single?: string, bare?: string) => {
    const value = double ?? single ?? bare ?? '';
    // Most links start with http(s): a scheme no decoding can turn into a script one (the cheap common case).
    if (HTTP.test(value)) return whole;
    const isSource = /^\s(?:src|poster|background)\b/i.test(prefix);
    const scheme = schemeOf(value);
    return (isSource ? EXECUTING : NAVIGATING).test(scheme) ? `${prefix}"#"` : whole;
  });
}
