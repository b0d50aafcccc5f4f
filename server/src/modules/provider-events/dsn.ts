import { parseRef, type MailRef } from '../email/index.ts';
import type { DeliveryChange } from './provider-events.repository.ts';
import type { DeliveryReport } from './provider-events.service.ts';

/**
 * Reads a bounce returned to the SMTP bounce mailbox: a delivery status notification (RFC 3464, a
 * multipart/report with a message/delivery-status part), as every mainstream MTA sends them (Postfix,
 * Exim, Sendmail, Exchange, Gmail, Microsoft 365). Only what correlation and the bounce decision need is
 * read; anything else is ignored.
 *
 * The message it is about is found, most reliable first, from the VERP address it was returned to
 * (`bounces+<ref>@…` in Delivered-To, X-Original-To or To), else from the returned headers' Message-ID
 * or X-Entity-Ref-ID.
 */
export interface DsnRecipient {
  address: string;
  action: string;
  status: string;
  diagnostic: string;
}

export interface ParsedDsn {
  ref: MailRef | null;
  /** The returned message's Message-ID, as the SMTP adapter recorded it (for mail sent before references). */
  originalMessageId: string | undefined;
  /** The DSN's own Message-ID: the event id, so a bounce delivered twice applies once. */
  messageId: string | undefined;
  recipients: DsnRecipient[];
}

const MAX_PARTS = 20;

/** Header block → lower-case name → values, with folded lines joined. */
function parseHeaders(block: string): Map<string, string[]> {
  const headers = new Map<string, string[]>();
  for (const line of block
    .replace(/\r\n/g, '\n')
    .replace(/\n[ \t]+/g, ' ')
    .split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
  }
  return headers;
}

/** Splits at the first empty line. */
function splitEntity(text: string): { head: string; body: string } {
  const match = /\r?\n\r?\n/.exec(text);
  return match ? { head: text.slice(0, match.index), body: text.slice(match.index + match[0].length) } : { head: text, body: '' };
}

const first = (headers: Map<string, string[]>, name: string): string | undefined => headers.get(name)?.[0];
const boundaryOf = (contentType: string | undefined): string | undefined =>
  /boundary\s*=\s*(?:"([^"]+)"|([^;\s]+))/i
    .exec(contentType ?? '')
    ?.slice(1)
    .find(Boolean);
const typeOf = (contentType: string | undefined): string => (contentType ?? 'text/plain').split(';')[0]!.trim().toLowerCase();

/** The parts of a multipart body, each as its raw text (headers and body). */
function parts(body: string, boundary: string): string[] {
  const delimiter = `--${boundary}`;
  const sections = body.split(new RegExp(`\\r?\\n?${delimiter.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  // The text before the first delimiter is the preamble; a section starting with "--" is the epilogue.
  return sections
    .slice(1)
    .filter((section) => !section.startsWith('--'))
    .map((section) => section.replace(/^[ \t]*\r?\n/, ''))
    .slice(0, MAX_PARTS);
}

/** The per-recipient field groups of a message/delivery-status body (the first group is per-message). */
function recipientsOf(body: string): DsnRecipient[] {
  const groups = body
    .replace(/\r\n/g, '\n')
    .split(/\n[ \t]*\n/)
    .map(parseHeaders);
  return groups
    .filter((fields) => fields.has('final-recipient') || fields.has('original-recipient'))
    .map((fields) => ({
      // "rfc822; someone@example.com"
      address: (first(fields, 'final-recipient') ?? first(fields, 'original-recipient') ?? '')
        .replace(/^[^;]*;\s*/, '')
        .replace(/^<|>$/g, '')
        .trim(),
      action: (first(fields, 'action') ?? '').toLowerCase(),
      status: /\d\.\d{1,3}\.\d{1,3}/.exec(first(fields, 'status') ?? '')?.[0] ?? '',
      diagnostic: (first(fields, 'diagnostic-code') ?? '').replace(/^[^;]*;\s*/, '').slice(0, 400),
    }));
}

export function parseDsn(raw: string): ParsedDsn {
  const { head, body } = splitEntity(raw);
  const headers = parseHeaders(head);
  let ref: MailRef | null = null;
  for (const name of ['delivered-to', 'x-original-to', 'envelope-to', 'to']) {
    for (const value of headers.get(name) ?? []) {
      const address = /<([^<>]+)>/.exec(value)?.[1] ?? value;
      ref ??= parseRef(address.trim());
    }
  }
  let recipients: DsnRecipient[] = [];
  let originalMessageId: string | undefined;
  const boundary = boundaryOf(first(headers, 'content-type'));
  for (const part of boundary ? parts(body, boundary) : []) {
    const entity = splitEntity(part);
    const partHeaders = parseHeaders(entity.head);
    const type = typeOf(first(partHeaders, 'content-type'));
    if (type === 'message/delivery-status' || type === 'message/global-delivery-status') {
      recipients = recipientsOf(entity.body);
    } else if (type === 'text/rfc822-headers' || type === 'message/rfc822' || type === 'message/global-headers') {
      const returned = parseHeaders(splitEntity(entity.body).head);
      originalMessageId = first(returned, 'message-id');
      ref ??= parseRef(first(returned, 'x-entity-ref-id')) ?? parseRef(originalMessageId);
    }
  }
  return { ref, originalMessageId, messageId: first(headers, 'message-id'), recipients };
}

/**
 * A returned bounce as a delivery report. A permanent failure (status 5.x.x) is a hard bounce, a
 * temporary one (4.x.x, the relay gave up after retrying) a soft bounce; "delayed" only marks the delay.
 */
export function dsnReport(dsn: ParsedDsn, fallbackEventId: string): DeliveryReport {
  const recipient = dsn.recipients.find((r) => r.action === 'failed') ?? dsn.recipients.find((r) => r.action === 'delayed');
  let change: DeliveryChange | null = null;
  if (recipient?.action === 'failed') {
    const reason = [recipient.status, recipient.diagnostic].filter(Boolean).join(': ') || 'bounced';
    change = { kind: 'bounced', hard: !recipient.status.startsWith('4'), reason };
  } else if (recipient?.action === 'delayed') {
    change = { kind: 'delivery_delayed' };
  }
  return {
    provider: SMTP_BOUNCE_PROVIDER,
    eventId: (dsn.messageId ?? fallbackEventId).slice(0, 250),
    type: change ? (change.kind === 'bounced' ? 'dsn.failed' : 'dsn.delayed') : 'dsn.other',
    change,
    at: new Date(),
    ref: dsn.ref,
    providerMessageIds: [dsn.originalMessageId],
    recipient: recipient?.address || undefined,
  };
}

export const SMTP_BOUNCE_PROVIDER = 'smtp';
