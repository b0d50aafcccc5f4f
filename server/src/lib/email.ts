/** Emails are compared case-insensitively and stored trimmed; the local part keeps its case for display. */
export const normalizeEmail = (email: string): string => email.trim();

/** Masks an address for logs: "jane.doe@example.com" → "j***@example.com". */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at <= 0) return '***';
  return `${email[0]}***${email.slice(at)}`;
}
