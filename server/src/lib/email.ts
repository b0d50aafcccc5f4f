/** Emails are compared case-insensitively and stored trimmed; the local part keeps its case for display. */
export const normalizeEmail = (email: string): string => email.trim();

/** Masks an address for logs: "jane.doe@example.com" → "j***@example.com". */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at <= 0) return '***';
  return `${email[0]}***${email.slice(at)}`;
}

// Anything shaped like an address in free text, also percent-encoded in a URL (%40). A match starts only
// where a run of address characters starts (the lookbehind): without it, a long run with no address in
// it (a signed token in a URL) was scanned again from each of its characters, time quadratic in its length.
const ADDRESS_IN_TEXT = /(?<![A-Za-z0-9._%+-])([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*(@|%40)([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})/gi;

/**
 * Masks every address inside a text the way maskEmail does. For text the code does not write itself
 * (error messages of SMTP servers and providers, request URLs) before it reaches a log line.
 */
export function maskEmailsIn(text: string): string {
  // Most texts (request URLs above all) hold no address at all: no need to run the pattern.
  if (!text.includes('@') && !/%40/i.test(text)) return text;
  return text.replace(ADDRESS_IN_TEXT, '$1***$2$3');
}

// Deliberately simpler than RFC 5322: one @, a dotted domain, no spaces or control characters. What the
// providers accept is narrower than the RFC anyway.
const EMAIL = /^[^\s@"(),:;<>[\\\]]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;
export function isEmail(value: string): boolean {
  return value.length <= 254 && EMAIL.test(value) && value.split('@')[0]!.length <= 64;
}
