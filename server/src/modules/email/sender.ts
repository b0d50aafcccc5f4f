/**
 * Who an organization's email is from. A verified sending domain makes the organization its own sender:
 * its configured from address when that address is on a verified domain, else no-reply at the first
 * verified domain. Without one, mail goes out from the platform's default address under the
 * organization's name. When no domain check is possible (dev mailbox, plain SMTP), nothing proves that an
 * organization owns a domain, so the only domain allowed is the operator's own: that of
 * EMAIL_DEFAULT_FROM. Any other configured address is refused on save and ignored when sending.
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

/**
 * Characters a display name may not hold: line breaks (new header lines), and quotes, angle brackets, @
 * and backslashes, with which a name such as `Bank "Security" <security@bank.example>` shows a reader an
 * address that is not the sender's.
 */
export const FROM_NAME_FORBIDDEN = /[\p{Cc}"<>@\\]/u;
/** The same rule as a JSON Schema pattern, for request bodies: at least one visible character, none forbidden. */
export const FROM_NAME_PATTERN = '^[^\\u0000-\\u001f\\u007f"<>@\\\\]*[^\\u0000-\\u0020\\u007f"<>@\\\\][^\\u0000-\\u001f\\u007f"<>@\\\\]*$';

/** A display name as a quoted string of harmless characters only, so it neither adds header lines nor spoofs an address. */
export function formatMailbox(name: string, address: string): string {
  const clean = name.replace(new RegExp(FROM_NAME_FORBIDDEN.source, 'gu'), ' ').replace(/\s+/g, ' ').trim();
  return clean ? `"${clean}" <${address}>` : address;
}

/**
 * The domains an organization may send from: its verified ones, or, when the provider cannot verify
 * domains (`verifiedDomains` null), only the domain of the platform's default sender.
 */
export function allowedSenderDomains(options: { defaultFrom: string; verifiedDomains: readonly string[] | null }): readonly string[] {
  return options.verifiedDomains ?? [domainOf(mailboxAddress(options.defaultFrom))];
}

export function resolveSender(settings: SenderSettings, options: { defaultFrom: string; verifiedDomains: readonly string[] | null }): string {
  const name = settings.email_from_name ?? settings.name;
  const configured = settings.email_from_address;
  const verified = options.verifiedDomains;
  if (configured && allowedSenderDomains(options).includes(domainOf(configured))) return formatMailbox(name, configured);
  if (verified && verified.length > 0) return formatMailbox(name, `no-reply@${verified[0]}`);
  return formatMailbox(name, mailboxAddress(options.defaultFrom));
}
