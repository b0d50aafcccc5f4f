/**
 * The port every email leaves through. Adapters: the dev mailbox (default), Resend and SMTP. Only the
 * email module imports a provider SDK; everything else depends on this interface.
 */
export interface OutgoingEmail {
  from: string;
  to: string;
  subject: string;
  html: string;
  text: string;
  headers?: Record<string, string>;
  /** Provider tags, e.g. organization and message ids, echoed back in delivery events. */
  tags?: { name: string; value: string }[];
  /** The organization the email is sent for; null for system mail such as login links. */
  organizationId: string | null;
  /** Sent to the provider so a retried request never produces a second email. */
  idempotencyKey?: string;
}

export interface SendResult {
  providerMessageId: string;
}

export interface EmailProvider {
  readonly name: 'dev' | 'resend' | 'smtp';
  send(email: OutgoingEmail): Promise<SendResult>;
}
