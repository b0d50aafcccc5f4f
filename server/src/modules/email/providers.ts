import { ConfigError, type Config } from '../../config/index.ts';
import type { Logger } from '../../logger.ts';
import type { Redis } from 'ioredis';
import { createDevMailboxProvider, type DevMailbox } from './dev-mailbox.ts';
import { createResendDomains, type SendingDomainProvider } from './domains-provider.ts';
import type { EmailProvider } from './provider.ts';
import { createRateGate, gatedDomains, gatedProvider } from './rate-gate.ts';
import { createResendClient, createResendProvider } from './resend.ts';
import { createSmtpProvider } from './smtp.ts';

type ProviderConfig = Pick<Config, 'EMAIL_PROVIDER' | 'RESEND_API_KEY' | 'RESEND_BASE_URL' | 'SMTP_URL' | 'PROVIDER_RATE_LIMIT_PER_SECOND' | 'REDIS_PREFIX'>;

// Resend's documented default is 2 to 5 requests per second per team depending on the page; 2 is safe.
const RESEND_DEFAULT_RATE_LIMIT = 2;

/**
 * Builds the configured email provider and, when a Resend key is present, the sending-domain adapter
 * (domains can be managed with Resend even while mail still goes to the dev mailbox). With a rate limit,
 * every request of either goes through one Redis gate per provider account, shared by all processes.
 */
export function createEmailProviders(config: ProviderConfig, deps: { devMailbox: DevMailbox; logger: Logger; redis: Redis }) {
  const resend = config.RESEND_API_KEY ? createResendClient({ apiKey: config.RESEND_API_KEY, baseUrl: config.RESEND_BASE_URL }) : null;
  let emailProvider: EmailProvider;
  switch (config.EMAIL_PROVIDER) {
    case 'resend':
      if (!resend) throw new ConfigError('Invalid configuration:\n  RESEND_API_KEY: required when EMAIL_PROVIDER is "resend"');
      emailProvider = createResendProvider(resend);
      break;
    case 'smtp':
      if (!config.SMTP_URL) throw new ConfigError('Invalid configuration:\n  SMTP_URL: required when EMAIL_PROVIDER is "smtp"');
      emailProvider = createSmtpProvider(config.SMTP_URL);
      break;
    default:
      emailProvider = createDevMailboxProvider(deps.devMailbox, deps.logger);
  }
  let domainProvider: SendingDomainProvider | null = resend ? createResendDomains(resend) : null;
  const rate = providerRateLimit(config);
  if (rate > 0) {
    // Resend's limit counts every request of the account, sending and domains alike.
    const resendGate = createRateGate(deps.redis, `${config.REDIS_PREFIX}:provider-rate:resend`, rate);
    const gate = emailProvider.name === 'resend' ? resendGate : createRateGate(deps.redis, `${config.REDIS_PREFIX}:provider-rate:${emailProvider.name}`, rate);
    emailProvider = gatedProvider(emailProvider, gate);
    if (domainProvider) domainProvider = gatedDomains(domainProvider, resendGate);
  }
  return { emailProvider, domainProvider, providerRateLimitPerSecond: rate };
}

/** Requests per second for all workers together; 0 means unlimited. */
export function providerRateLimit(config: Pick<Config, 'EMAIL_PROVIDER' | 'PROVIDER_RATE_LIMIT_PER_SECOND'>): number {
  return config.PROVIDER_RATE_LIMIT_PER_SECOND ?? (config.EMAIL_PROVIDER === 'resend' ? RESEND_DEFAULT_RATE_LIMIT : 0);
}
