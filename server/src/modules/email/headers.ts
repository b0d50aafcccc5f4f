import { senderDomain } from './message-ref.ts';

/**
 * Headers an organization's mail carries besides its content. Values are single lines: names and
 * addresses are validated without line breaks when saved, and quoting here keeps a name a name.
 */
const quoted = (value: string): string =>
  `"${value
    .replace(/[\r\n\t]+/g, ' ')
    .replace(/["\\]/g, '\\$&')
    .trim()}"`;

/** Reply-To when the organization set one: replies reach people even when the sender is no-reply@. */
export function senderHeaders(organization: { email_reply_to: string | null }): Record<string, string> {
  return organization.email_reply_to ? { 'Reply-To': organization.email_reply_to } : {};
}

/**
 * Bulk mail's identification: List-Id (RFC 2919), so readers and mailbox providers can filter and
 * report one organization's list, under the sender's domain; Feedback-ID, so Gmail's feedback loop
 * reports complaint rates per campaign (or template) and organization.
 */
export function marketingHeaders(
  organization: { id: string; name: string; slug: string },
  from: string,
  source: { campaignId?: string | null; templateId?: string | null },
): Record<string, string> {
  return {
    // The phrase is only a description; a name that is not plain ASCII is left out rather than encoded.
    'List-Id': `${/^[\x20-\x7e]+$/.test(organization.name) ? `${quoted(organization.name)} ` : ''}<${organization.slug}.${senderDomain(from)}>`,
    'Feedback-ID': `${source.campaignId ?? source.templateId ?? 'none'}:${organization.id}:marketing:subscribe-flow`,
  };
}
