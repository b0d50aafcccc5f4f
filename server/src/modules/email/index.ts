import type { Kysely } from 'kysely';
import type { Config } from '../../config/index.ts';
import type { DB } from '../../db/types.ts';
import { minuteTick, type Schedule } from '../../jobs/cron.ts';
import type { JobProducer } from '../../jobs/producer.ts';
import type { TokenSigner } from '../../lib/tokens.ts';
import type { Logger } from '../../logger.ts';
import type { Entitlements } from '../entitlements/index.ts';
import type { TemplateRenderer, TemplateService } from '../templates/index.ts';
import { defineModule, mount } from '../module.ts';
import { devMailboxRoutes } from './dev-mailbox.routes.ts';
import type { DevMailbox } from './providers/dev-mailbox.ts';
import { createEmailLogRepository } from './email-log.repository.ts';
import { emailLogRoutes } from './email-log.routes.ts';
import { createEmailSweepHandler, createSendBatchHandler, createSendEmailHandler } from './email.jobs.ts';
import { createEmailRepository } from './email.repository.ts';
import { emailRoutes } from './email.routes.ts';
import { createEmailService } from './email.service.ts';
import { createEmailLinks } from './links.ts';
import { createSystemMailer } from './system-mail.ts';
import type { EmailProvider } from './providers/provider.ts';

export { createDevMailbox, extractLinks, headersOf, type DevMailbox } from './providers/dev-mailbox.ts';
export {
  DOMAIN_REGIONS,
  DOMAIN_STATUSES,
  type DomainRecord,
  type DomainRegion,
  type DomainStatus,
  type ProviderDomain,
  type SendingDomainProvider,
} from './providers/resend-domains.ts';
export { MESSAGE_STATUSES, type EmailRepository, type MessageStatus, type NewMessage, type Recipient, type UnrenderedMessage } from './email.repository.ts';
export {
  checkSubject,
  MAX_SUBJECT_LENGTH,
  type AutomationRecipe,
  type CampaignRecipe,
  type CampaignSettings,
  type EmailService,
  type SendInput,
} from './email.service.ts';
export { automationBatchKeyFor, batchJobKey, batchKeyFor, CAMPAIGN_EMAIL_PRIORITY } from './email.jobs.ts';
export type { SystemMailer, SystemMailOutcome } from './system-mail.ts';
export { PREFERENCE_PURPOSE, UNSUBSCRIBE_PURPOSE, type EmailLinks } from './links.ts';
export { CLICK_PURPOSE, OPEN_PURPOSE, rewriteForTracking, trackableUrl, TRAP_PURPOSE, type TrackingContext } from './tracking.ts';
export { messageIdFor, messageRef, parseRef, REF_HEADER, systemRef, verpAddress, type MailRef } from './message-ref.ts';
export {
  MAX_BATCH_SIZE,
  ProviderError,
  sendEachInTurn,
  type EmailProvider,
  type OutgoingEmail,
  type ProviderErrorKind,
  type SendResult,
} from './providers/provider.ts';
export { createEmailProviders, providerRateLimit } from './providers/index.ts';
export { GATE_WINDOW_MS } from './providers/rate-gate.ts';
export type { ContactMirror, ContactProvider } from './providers/resend-contacts.ts';
export { allowedSenderDomains, domainOf, formatMailbox, FROM_NAME_PATTERN, mailboxAddress, resolveSender, type SenderSettings } from './sender.ts';

/** Messages still unsent long after their last change are found and sent again every five minutes. */
export const schedules: readonly Schedule[] = [
  { name: 'email-sweep', expression: '*/5 * * * *', job: (tick) => ({ name: 'email.sweep', payload: { tick: minuteTick(tick, 5) } }) },
];

/**
 * Sending: transactional email (`POST /emails/send`) rendered and stored in the request, sent by the
 * worker exactly once through the configured provider; the links every email carries; the dev mailbox.
 */
export function createEmailModule(deps: {
  config: Readonly<Config>;
  db: Kysely<DB>;
  logger: Logger;
  tokens: TokenSigner;
  producer: JobProducer;
  devMailbox: DevMailbox;
  /** The provider for sends someone waits for (system mail). */
  emailProvider: EmailProvider;
  /** The same provider for worker jobs: a busy rate limit puts the job back instead of waiting. */
  jobEmailProvider: EmailProvider;
  templates: TemplateService;
  renderer: TemplateRenderer;
  entitlements: Entitlements;
  /** Verified sending-domain names of an organization; null when the provider cannot verify domains. */
  verifiedDomains: (organizationId: string) => Promise<string[] | null>;
}) {
  const { config, db } = deps;
  const links = createEmailLinks({ config, tokens: deps.tokens });
  const emailRepository = createEmailRepository(db);
  const emails = createEmailService({
    config,
    db,
    logger: deps.logger,
    emailRepository,
    templates: deps.templates,
    renderer: deps.renderer,
    links,
    producer: deps.producer,
    entitlements: deps.entitlements,
    verifiedDomains: deps.verifiedDomains,
  });
  const systemMail = createSystemMailer({
    emailProvider: deps.emailProvider,
    emailRepository,
    defaultFrom: config.EMAIL_DEFAULT_FROM,
    verifiedDomains: deps.verifiedDomains,
    logger: deps.logger,
  });
  return defineModule({
    name: 'email',
    services: { emails, links, emailRepository, systemMail, devMailbox: deps.devMailbox },
    routes: async (app) => {
      await app.register(mount(emailRoutes, { emails }));
      await app.register(mount(emailLogRoutes, { emailLog: createEmailLogRepository(db), renderedBody: emails.renderedBody }));
      await app.register(mount(devMailboxRoutes, { devMailbox: deps.devMailbox }));
    },
    jobs: ({ metrics }) => {
      const sendMetrics = {
        sent: (provider: string) => metrics.emails.inc({ provider, outcome: 'sent' }),
        failed: (provider: string, reason: string) => metrics.emails.inc({ provider, outcome: reason }),
        rateLimited: (provider: string) => metrics.emails.inc({ provider, outcome: 'rate_limited' }),
      };
      return {
        'email.send': createSendEmailHandler({ emailRepository, provider: deps.jobEmailProvider, metrics: sendMetrics }),
        'email.send-batch': createSendBatchHandler({
          emailRepository,
          provider: deps.jobEmailProvider,
          metrics: sendMetrics,
          bodyOf: emails.bodyOf,
          concurrency: config.CAMPAIGN_BATCH_CONCURRENCY,
        }),
        'email.sweep': createEmailSweepHandler({ emailRepository, producer: deps.producer }),
      };
    },
    retention: [{ name: 'dev_mailbox', days: config.RETENTION_DEV_MAILBOX_DAYS, run: deps.devMailbox.deleteBefore }],
  });
}
