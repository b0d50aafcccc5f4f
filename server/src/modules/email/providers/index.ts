import { ConfigError, type Config } from '../../../config/index.ts';
import type { Logger } from '../../../logger.ts';
import type { Redis } from 'ioredis';
import { createDevMailboxProvider, type DevMailbox } from './dev-mailbox.ts';
import { createResendContacts, type ContactProvider } from './resend-contacts.ts';
import { createResendDomains, type SendingDomainProvider } from './resend-domains.ts';
import type { EmailProvider } from './provider.ts';
import { BULK_JOB_MAX_WAIT_MS, createRateGate, gatedDomains, gatedProvider, INTERACTIVE_MAX_WAIT_MS, JOB_MAX_WAIT_MS, type RateGate } from './rate-gate.ts';
import { createResendClient, createResendProvider } from './resend.ts';
import { createSmtpProvider } from './smtp.ts';

type ProviderConfig = Pick<
  Config,
  'EMAIL_PROVIDER' | 'RESEND_API_KEY' | 'RESEND_BASE_URL' | 'SMTP_URL' | 'SMTP_RETURN_PATH' | 'PROVIDER_RATE_LIMIT_PER_SECOND' | 'REDIS_PREFIX'
>;

// Resend's documented default is 2 to 5 requests per second per team depending on the page; 2 is safe.
const RESEND_DEFAULT_RATE_LIMIT = 2;

/**
 * Builds the configured email provider and, when a Resend key is present, the sending-domain adapter
 * (domains can be managed with Resend even while mail still goes to the dev mailbox). With a rate limit,
 * every request of either goes through one Redis gate per provider account, shared by all processes.
 * `emailProvider` is for direct sends someone waits for (login links); `jobEmailProvider` for worker
 * jobs, which give up a slot sooner and go back to the queue.
 */
export function createEmailProviders(config: ProviderConfig, deps: { devMailbox: DevMailbox; logger: Logger; redis: Redis }) {
  const resend = config.RESEND_API_KEY ? createResendClient({ apiKey: config.RESEND_API_KEY, baseUrl: config.RESEND_BASE_URL }) : null;
  let provider: EmailProvider;
  switch (config.EMAIL_PROVIDER) {
    case 'resend':
      if (!resend) throw new ConfigError('Invalid configuration:\n  RESEND_API_KEY: required when EMAIL_PROVIDER is "resend"');
      provider = createResendProvider(resend);
      break;
    case 'smtp':
      if (!config.SMTP_URL) throw new ConfigError('Invalid configuration:\n  SMTP_URL: required when EMAIL_PROVIDER is "smtp"');
      provider = createSmtpProvider(config.SMTP_URL, { returnPath: config.SMTP_RETURN_PATH });
      break;
    default:
      provider = createDevMailboxProvider(deps.devMailbox, deps.logger);
  }
  let domainProvider: SendingDomainProvider | null = resend ? createResendDomains(resend) : null;
  let emailProvider = provider;
  let jobEmailProvider = provider;
  const rate = providerRateLimit(config);
  let contactGate: RateGate | null = null;
  if (rate > 0) {
    // Resend's limit counts every request of the account, sending and domains alike.
    const resendGate = createRateGate(deps.redis, `${config.REDIS_PREFIX}:provider-rate:resend`, rate);
    const gate = provider.name === 'resend' ? resendGate : createRateGate(deps.redis, `${config.REDIS_PREFIX}:provider-rate:${provider.name}`, rate);
    emailProvider = gatedProvider(provider, gate, INTERACTIVE_MAX_WAIT_MS);
    jobEmailProvider = gatedProvider(provider, gate, JOB_MAX_WAIT_MS, BULK_JOB_MAX_WAIT_MS);
    if (domainProvider) domainProvider = gatedDomains(domainProvider, resendGate);
    contactGate = resendGate;
  }
  // Contact sync runs in worker jobs: each request waits briefly for a slot of the same gate, else the job goes back.
  const contactProvider: ContactProvider | null = resend
    ? createResendContacts(resend, contactGate ? (request) => contactGate!.run(request, JOB_MAX_WAIT_MS) : undefined)
    : null;
  return { emailProvider, jobEmailProvider, domainProvider, contactProvider, providerRateLimitPerSecond: rate };
}

/** Requests per second for all workers together; 0 means unlimited. */
export function providerRateLimit(config: Pick<Config, 'EMAIL_PROVIDER' | 'PROVIDER_RATE_LIMIT_PER_SECOND'>): number {
  return config.PROVIDER_RATE_LIMIT_PER_SECOND ?? (config.EMAIL_PROVIDER === 'resend' ? RESEND_DEFAULT_RATE_LIMIT : 0);
}
