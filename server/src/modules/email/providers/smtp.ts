import type { Transporter } from 'nodemailer';
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

/** A stable Message-ID for an idempotency key, so a receiving server can drop a retried copy. */
function messageIdFor(email: OutgoingEmail): string | undefined {
  if (!email.idempotencyKey) return undefined;
  const domain = /@([^>\s]+)>?\s*$/.exec(email.from)?.[1] ?? 'localhost';
  return `<${email.idempotencyKey.replace(/[^A-Za-z0-9._-]/g, '.')}@${domain}>`;
}

/**
 * Any SMTP server. SMTP has no idempotency of its own: a worker that dies after the server accepted a
 * message but before it recorded that can cause a second delivery. The stable Message-ID lets receivers
 * deduplicate, and `Resend-Idempotency-Key` makes Resend's SMTP relay deduplicate exactly.
 */
export function createSmtpProvider(url: string): EmailProvider {
  // Pooled connections: one TLS handshake serves many messages.
  const pooled = new URL(url);
  pooled.searchParams.set('pool', 'true');
  for (const [name, ms] of [['connectionTimeout', 10_000], ['greetingTimeout', 10_000], ['socketTimeout', 30_000]] as const) {
    if (!pooled.searchParams.has(name)) pooled.searchParams.set(name, String(ms));
  }
  // Loaded on first use: processes that never send by SMTP do not pay for nodemailer.
  let transport: Promise<Transporter> | undefined;
  const transporter = () => (transport ??= import('nodemailer').then(({ default: nodemailer }) => nodemailer.createTransport(pooled.toString())));
  const provider: EmailProvider = {
    name: 'smtp',
    async send(email) {
      const messageId = messageIdFor(email);
      try {
        const info = await (await transporter()).sendMail({
          from: email.from,
          to: email.to,
          subject: email.subject,
          html: email.html,
          text: email.text,
          headers: { ...email.headers, ...(email.idempotencyKey ? { 'Resend-Idempotency-Key': email.idempotencyKey } : {}) },
          ...(messageId ? { messageId } : {}),
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
