/**
 * Who an organization's email is from. A verified sending domain makes the organization its own sender:
 * its configured from address when that address is on a verified domain, else no-reply at the first
 * verified domain. Without one, mail goes out from the platform's default address under the
 * organization's name. When no domain check is possible (dev mailbox, plain SMTP), the configured address
 * is trusted as it is.
 */
export interface SenderSettings {
  name: string;
  email_from_name: string | null;
  email_from_address: string | null;
}

/** "Name <a@b>" or "a@b" → its address. */
export function mailboxAddress(mailbox: string): string {
  return (/<([^<>\s]+)>\s*$/.exec(mailbox)?.[1] ?? mailbox).trim();
}

export const domainOf = (address: string): string => address.slice(address.lastIndexOf('@') + 1).toLowerCase();

/** A display name as a quoted string with no line breaks, so it cannot add header lines. */
export function formatMailbox(name: string, address: string): string {
  const clean = name.replace(/[\r\n\t]+/g, ' ').replace(/["\\]/g, '\\$&').trim();
  return clean ? `"${clean}" <${address}>` : address;
}

export function resolveSender(settings: SenderSettings, options: { defaultFrom: string; verifiedDomains: readonly string[] | null }): string {
  const name = settings.email_from_name ?? settings.name;
  const configured = settings.email_from_address;
  const verified = options.verifiedDomains;
  if (configured && (verified === null || verified.includes(domainOf(configured)))) return formatMailbox(name, configured);
  if (verified && verified.length > 0) return formatMailbox(name, `no-reply@${verified[0]}`);
  return formatMailbox(name, mailboxAddress(options.defaultFrom));
}
