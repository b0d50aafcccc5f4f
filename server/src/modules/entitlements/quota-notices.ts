import type { Config } from '../../config/index.ts';
import type { Logger } from '../../logger.ts';
import type { EmailProvider } from '../email/index.ts';
import type { EntitlementsRepository } from './entitlements.repository.ts';

/** Most organizations one run tells; the next run (ten minutes later) takes the rest. */
const PER_RUN = 500;

const escapeHtml = (value: string): string => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const number = (n: number) => n.toLocaleString('en-US');

/**
 * Tells owners when their organization has used 80 % and then 100 % of its monthly emails, once per month
 * and level. The mail goes first and the level is recorded after it, so a failed send is tried again on
 * the next run; the provider's idempotency key (organization, month, level, owner) keeps a retry from
 * arriving twice.
 */
export function createQuotaNotices(deps: {
  repository: EntitlementsRepository;
  emailProvider: EmailProvider;
  config: Pick<Config, 'AUTH_EMAIL_FROM' | 'ADMIN_APP_URL' | 'BILLING_ENABLED'>;
  logger: Logger;
}) {
  const { repository: repo, config } = deps;
  return async function sendQuotaNotices(now: Date = new Date()): Promise<{ organizations: number }> {
    const due = await repo.dueQuotaNotices(PER_RUN);
    const month = now.toISOString().slice(0, 7);
    const link = `${config.ADMIN_APP_URL.replace(/\/$/, '')}/${config.BILLING_ENABLED ? 'billing' : ''}`;
    let told = 0;
    for (const org of due) {
      const owners = await repo.ownerEmails(org.id);
      const reached = org.level === 100;
      const subject = reached
        ? `${org.name} has reached its monthly email limit`
        : `${org.name} has used ${Math.floor((org.used * 100) / org.max)} % of its monthly emails`;
      const what = `${org.name} has sent ${number(org.used)} of the ${number(org.max)} emails its ${org.plan} plan allows this month.`;
      const next = reached
        ? 'Further sends and campaigns are refused until the month ends or the limit is raised.'
        : 'When the limit is reached, further sends and campaigns are refused until the month ends or the limit is raised.';
      const action = config.BILLING_ENABLED ? 'You can change the plan on the billing page' : 'Your operator can raise the limit';
      for (const to of owners) {
        await deps.emailProvider.send({
          from: config.AUTH_EMAIL_FROM,
          to,
          organizationId: org.id,
          subject,
          text: `${what}\n\n${next}\n\n${action}: ${link}\n`,
          html: `<p>${escapeHtml(what)}</p><p>${escapeHtml(next)}</p><p><a href="${escapeHtml(link)}">${escapeHtml(action)}</a></p>`,
          idempotencyKey: `quota-${org.id}-${month}-${org.level}-${to}`,
        });
      }
      if (await repo.markQuotaNoticed(org.id, org.level)) told += 1;
    }
    if (told > 0) deps.logger.info({ organizations: told }, 'quota notices sent');
    return { organizations: told };
  };
}
