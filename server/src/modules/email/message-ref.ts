import { randomBytes } from 'node:crypto';
import { isUuid } from '../../lib/ids.ts';

/**
 * The reference every outgoing email carries, so a delivery event can be matched with what we sent
 * whichever way it comes back: Resend's API echoes our tags, but mail relayed by SMTP comes back only
 * with its Message-ID (Resend's webhooks carry it as `message_id`), and a bounce from a generic relay
 * only with its return path and the returned headers. One short token serves all three:
 *
 * - `m.<message id>` for a stored message (email_messages);
 * - `s.<organization id>.<random>` for an organization's system mail (confirmations, preference links),
 *   which is not stored, so a bounce on it can still suppress the address in that organization.
 *
 * It travels as the `X-Entity-Ref-ID` header (a unique value also keeps Gmail from threading unrelated
 * messages), as the local part of the Message-ID on SMTP and after the `+` of a VERP return path.
 */
export type MailRef = { kind: 'message'; messageId: string } | { kind: 'system'; organizationId: string };

export const REF_HEADER = 'X-Entity-Ref-ID';

export const messageRef = (messageId: string): string => `m.${messageId}`;
export const systemRef = (organizationId: string): string => `s.${organizationId}.${randomBytes(4).toString('hex')}`;

/** The reference in a header value, a Message-ID (`<ref@domain>`) or a VERP address (`local+ref@domain`). */
export function parseRef(value: string | null | undefined): MailRef | null {
  if (!value || value.length > 512) return null;
  const token = /^<?(?:[^+@<>\s]*\+)?([ms]\.[0-9a-f-]{36}(?:\.[0-9a-f]{8})?)(?:@[^<>\s]*)?>?$/i.exec(value.trim())?.[1];
  if (!token) return null;
  const [kind, id] = token.split('.') as [string, string];
  if (!isUuid(id)) return null;
  return kind.toLowerCase() === 'm' ? { kind: 'message', messageId: id.toLowerCase() } : { kind: 'system', organizationId: id.toLowerCase() };
}

/** The domain part of a mailbox ("Name <a@b.example>" → "b.example"). */
export const senderDomain = (from: string): string => /@([^>\s]+)>?\s*$/.exec(from)?.[1]?.toLowerCase() ?? 'localhost';

/** The Message-ID for a reference, on the sender's domain. */
export const messageIdFor = (ref: string, from: string): string => `<${ref}@${senderDomain(from)}>`;

/** `bounces@example.com` + ref → `bounces+ref@example.com` (variable envelope return path). */
export function verpAddress(returnPath: string, ref: string): string {
  const at = returnPath.lastIndexOf('@');
  return `${returnPath.slice(0, at)}+${ref}${returnPath.slice(at)}`;
}
