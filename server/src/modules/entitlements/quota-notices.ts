import type { Config } from '../../config/index.ts';
import type { Logger } from '../../logger.ts';
import type { SystemMailer } from '../email/index.ts';
import type { EntitlementsRepository, QuotaNotice } from './entitlements.repository.ts';

/** Most notices one run sends; the next run (ten minutes later) takes the rest. */
const PER_RUN = 500;
/** A claim whose mail was never confirmed (a worker died mid-run) is taken over after this long. */
const STALE_CLAIM_SECONDS = 15 * 60;

const escapeHtml = (value: string): string => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const number = (n: number) => n.toLocaleString('en-US');
const day = (d: Date) => d.toISOString().slice(0, 10);

/** Subject and body of one notice, in words an owner can act on. */
function notice(org: QuotaNotice, config: Pick<Config, 'ADMIN_APP_URL' | 'BILLING_ENABLED'>) {
  const reached = org.threshold === 100;
  const emails = org.limit === 'emails_per_month';
  const percent = Math.min(100, Math.floor((org.used * 100) / org.max));
  const subject = emails
    ? reached
      ? `${org.name} has reached its email limit for this billing period`
      : `${org.name} has used ${percent} % of its emails for this billing period`
    : reached
      ? `${org.name} has reached its subscriber limit`
      : `${org.name} has used ${percent} % of its subscriber limit`;
  const what = emails
    ? `${org.name} has sent ${number(org.used)} of the ${number(org.max)} emails its ${org.plan} plan allows in the billing period from ${day(org.period_start)} to ${day(org.period_end)}.`
    : `${org.name} has ${number(org.used)} of the ${number(org.max)} subscribers its ${org.plan} plan allows.`;
  const next = emails
    ? reached
      ? 'Further sends and campaigns are refused until the period ends or the limit is raised.'
      : 'When the limit is reached, further sends and campaigns are refused until the period ends or the limit is raised.'
    : reached
      ? 'New subscribers (sign-ups, imports, the API) are refused until the limit is raised; nobody is removed.'
      : 'When the limit is reached, new subscribers are refused until the limit is raised; nobody is removed.';
  const link = `${config.ADMIN_APP_URL.replace(/\/$/, '')}/${config.BILLING_ENABLED ? 'billing' : ''}`;
  const action = config.BILLING_ENABLED ? 'You can change the plan on the billing page' : 'Your operator can raise the limit';
  return {
    subject,
    text: `${what}\n\n${next}\n\n${action}: ${link}\n`,
    html: `<p>${escapeHtml(what)}</p><p>${escapeHtml(next)}</p><p><a href="${escapeHtml(link)}">${escapeHtml(action)}</a></p>`,
  };
}

/**
 * Tells owners when their organization has used 80 % and then 100 % of its email quota (per usage
 * period) or of its subscriber limit, once per period, limit and threshold. The unique quota_notices row
 * is claimed before the mail, so of several workers running at once exactly one sends; the claim is
 * confirmed after the mail, or released when it failed so the next run tries again. Mail goes through
 * the suppression-checked system-mail path; the provider's idempotency key (organization, limit,
 * threshold, period, owner) keeps a retried send from arriving twice.
 */
export function createQuotaNotices(deps: {
  repository: EntitlementsRepository;
  mailer: Pick<SystemMailer, 'send'>;
  config: Pick<Config, 'ADMIN_APP_URL' | 'BILLING_ENABLED'>;
  logger: Logger;
}) {
  const { repository: repo, config } = deps;
  return async function sendQuotaNotices(): Promise<{ notices: number }> {
    const due = await repo.dueQuotaNotices(PER_RUN, STALE_CLAIM_SECONDS);
    let sent = 0;
    for (const org of due) {
      if (!(await repo.claimQuotaNotice(org, STALE_CLAIM_SECONDS))) continue;
      try {
        const message = notice(org, config);
        for (const to of await repo.ownerEmails(org.id)) {
          await deps.mailer.send({ id: org.id }, to, message, 'quota_notice', {
            idempotencyKey: `quota-${org.id}-${org.limit}-${org.threshold}-${org.period_start.getTime()}-${to}`,
          });
        }
      } catch (error) {
        await repo.settleQuotaNotice(org, false);
        throw error;
      }
      await repo.settleQuotaNotice(org, true);
      sent += 1;
    }
    if (sent > 0) deps.logger.info({ notices: sent }, 'quota notices sent');
    return { notices: sent };
  };
}
