import type { EmailProvider } from '../email/index.ts';
import { resolveSender } from '../email/index.ts';
import type { OrganizationProfile } from './preference-center.repository.ts';

/**
 * Sends the public flows' own messages (preference links, confirmations) for an organization, from the
 * sender the email engine would use for it: its own address on a verified domain, else the platform's
 * default address under the organization's name.
 */
export function createSystemMailer(deps: { emailProvider: EmailProvider; defaultFrom: string; verifiedDomains: (organizationId: string) => Promise<string[] | null> }) {
  return {
    async send(organization: OrganizationProfile, to: string, message: { subject: string; html: string; text: string }, kind: string): Promise<void> {
      const from = resolveSender(organization, { defaultFrom: deps.defaultFrom, verifiedDomains: await deps.verifiedDomains(organization.id) });
      await deps.emailProvider.send({ from, to, ...message, organizationId: organization.id, tags: [{ name: 'kind', value: kind }] });
    },
  };
}

export type SystemMailer = ReturnType<typeof createSystemMailer>;
