import type { Transporter } from 'nodemailer';
import { messageIdFor, REF_HEADER, verpAddress } from '../message-ref.ts';
import { ProviderError, sendEachInTurn, type EmailProvider, type OutgoingEmail } from './provider.ts';

interface SmtpError {
  code?: string;
  responseCode?: number;
  message: string;
}

/** SMTP replies 4xx are temporary (retry), 5xx permanent (never retry); no reply means retry. */
function toProviderError(error: SmtpError): ProviderError {
  const status = error.responseCode;
  if (status !== undefined && status >= 500 && status < 600) return new ProviderError('rejected', String(status), error.message, { cause: error });
  return new ProviderError('unavailable', status !== undefined ? String(status) : (error.code ?? 'smtp_error'), error.message, { cause: error });
}

// Resend's SMTP relay deduplicates on this header; any other server would only pass it on to the reader.
const RESEND_SMTP_HOST = 'smtp.resend.com';

/**
 * The Message-ID of an email: from its reference (message-ref.ts), so a provider event or a returned
 * bounce names the message; else from its idempotency key, so a receiving server can drop a retried copy.
 */
function messageIdOf(email: OutgoingEmail, ref: string | undefined): string | undefined {
  if (ref) return messageIdFor(ref, email.from);
  if (!email.idempotencyKey) return undefined;
  return messageIdFor(email.idempotencyKey.replace(/[^A-Za-z0-9._-]/g, '.'), email.from);
}

/**
 * Our headers are already in their wire form (List-Id's quoted phrase, List-Unsubscribe's <URL>), so
 * printable ASCII values go out as they are, folded at spaces; nodemailer would otherwise encode a value
 * with quotes as an RFC 2047 word, which breaks List-Id. Anything else is left to nodemailer to encode.
 */
function asWritten(headers: Record<string, string>): Record<string, string | { prepared: true; foldLines: true; value: string }> {
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name, /^[\x20-\x7e]*$/.test(value) ? { prepared: true, foldLines: true, value } : value]),
  );
}

export interface SmtpOptions {
  /** Bounce mailbox (e.g. bounces@bounce.example.com); each message's envelope sender becomes bounces+<ref>@…. */
  returnPath?: string | undefined;
}

/**
 * Any SMTP server. SMTP has no idempotency of its own: a worker that dies after the server accepted a
 * message but before it recorded that can cause a second delivery. The stable Message-ID lets receivers
 * deduplicate, and `Resend-Idempotency-Key` (sent to Resend's relay only) makes Resend deduplicate
 * exactly. The Message-ID is what we record as the provider's id: Resend reports it back in its events.
 */
export function createSmtpProvider(url: string, options: SmtpOptions = {}): EmailProvider {
  const toResend = new URL(url).hostname.toLowerCase() === RESEND_SMTP_HOST;
  // Pooled connections: one TLS handshake serves many messages.
  const pooled = new URL(url);
  pooled.searchParams.set('pool', 'true');
  for (const [name, ms] of [
    ['connectionTimeout', 10_000],
    ['greetingTimeout', 10_000],
    ['socketTimeout', 30_000],
  ] as const) {
    if (!pooled.searchParams.has(name)) pooled.searchParams.set(name, String(ms));
  }
  // Loaded on first use: processes that never send by SMTP do not pay for nodemailer.
  let transport: Promise<Transporter> | undefined;
  const transporter = () => (transport ??= import('nodemailer').then(({ default: nodemailer }) => nodemailer.createTransport(pooled.toString())));
  const provider: EmailProvider = {
    name: 'smtp',
    async send(email) {
      const ref = email.headers?.[REF_HEADER];
      const messageId = messageIdOf(email, ref);
      // Reply-To is an address header: nodemailer formats it from its own option.
      const { 'Reply-To': replyTo, ...custom } = email.headers ?? {};
      const headers = asWritten({ ...custom, ...(toResend && email.idempotencyKey ? { 'Resend-Idempotency-Key': email.idempotencyKey } : {}) });
      try {
        const info = await (
          await transporter()
        ).sendMail({
          from: email.from,
          to: email.to,
          subject: email.subject,
          html: email.html,
          text: email.text,
          headers,
          ...(replyTo ? { replyTo } : {}),
          ...(messageId ? { messageId } : {}),
          // The envelope sender (Return-Path) receives bounces; with VERP it names the message.
          ...(options.returnPath && ref ? { envelope: { from: verpAddress(options.returnPath, ref), to: email.to } } : {}),
        });
        return { providerMessageId: String(info.messageId) };
      } catch (error) {
        throw toProviderError(error as SmtpError);
      }
    },
    sendBatch: (emails, options) => sendEachInTurn(provider, emails, options?.idempotencyKey),
    async close() {
      if (transport) (await transport).close();
    },
  };
  return provider;
}
