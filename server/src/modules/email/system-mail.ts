import type { Logger } from '../../logger.ts';
import type { EmailRepository } from './email.repository.ts';
import { REF_HEADER, systemRef } from './message-ref.ts';
import type { EmailProvider } from './providers/provider.ts';
import { resolveSender } from './sender.ts';
import { senderHeaders } from './headers.ts';

export type SystemMailOutcome = 'sent' | 'suppressed';

/**
 * An organization's own system mail (double opt-in confirmations, preference links): not stored (a
 * secret link must not sit in email_messages) but checked like every other message. A suppressed,
 * bounced or complained address gets nothing, from the sender the email engine would use, with the
 * organization's Reply-To, `Auto-Submitted: auto-generated` (RFC 3834: no auto-replies back) and a
 * reference naming the organization, so a bounce or complaint on it suppresses the address there too.
 */
export function createSystemMailer(deps: {
  emailProvider: EmailProvider;
  emailRepository: Pick<EmailRepository, 'organizationProfile' | 'isBlocked'>;
  defaultFrom: string;
  verifiedDomains: (organizationId: string) => Promise<string[] | null>;
  logger: Pick<Logger, 'info'>;
}) {
  return {
    async send(
      organization: { id: string },
      to: string,
      message: { subject: string; html: string; text: string },
      kind: string,
      options: { idempotencyKey?: string } = {},
    ): Promise<SystemMailOutcome> {
      const [profile, blocked] = await Promise.all([
        deps.emailRepository.organizationProfile(organization.id),
        deps.emailRepository.isBlocked(organization.id, to),
      ]);
      if (!profile) return 'suppressed';
      if (blocked) {
        deps.logger.info({ organization_id: organization.id, kind }, 'system email not sent: the address is suppressed');
        return 'suppressed';
      }
      const from = resolveSender(profile, { defaultFrom: deps.defaultFrom, verifiedDomains: await deps.verifiedDomains(organization.id) });
      await deps.emailProvider.send({
        from,
        to,
        ...message,
        organizationId: organization.id,
        ...(options.idempotencyKey ? { idempotencyKey: options.idempotencyKey } : {}),
        headers: { ...senderHeaders(profile), 'Auto-Submitted': 'auto-generated', [REF_HEADER]: systemRef(organization.id) },
        tags: [
          { name: 'organization_id', value: organization.id },
          { name: 'kind', value: kind },
        ],
      });
      return 'sent';
    },
  };
}

export type SystemMailer = ReturnType<typeof createSystemMailer>;
