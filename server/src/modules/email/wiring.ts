import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import type { Config } from '../../config/index.ts';
import type { DB } from '../../db/types.ts';
import type { JobProducer } from '../../jobs/producer.ts';
import type { TokenSigner } from '../../lib/tokens.ts';
import type { Logger } from '../../logger.ts';
import { createDomainRepository } from '../domains/domains.repository.ts';
import { createDomainService } from '../domains/domains.service.ts';
import { createProviderEventRepository } from '../hooks/provider-events.repository.ts';
import { createProviderEventService } from '../hooks/provider-events.service.ts';
import { createTemplateRenderer } from '../templates/renderer.ts';
import { createTemplateRepository } from '../templates/templates.repository.ts';
import { createTemplateService } from '../templates/templates.service.ts';
import { createUnsubscribeRepository } from '../unsubscribe/unsubscribe.repository.ts';
import { createUnsubscribeService } from '../unsubscribe/unsubscribe.service.ts';
import type { DevMailbox } from './dev-mailbox.ts';
import { createEmailRepository } from './email.repository.ts';
import { createEmailService } from './email.service.ts';
import { createEmailLinks } from './links.ts';
import { createEmailProviders } from './providers.ts';

/** The email engine's parts, built once by the composition root: providers, templates, sending, domains, provider events, unsubscribe. */
export function createEmailEngine(deps: { config: Readonly<Config>; db: Kysely<DB>; redis: Redis; logger: Logger; tokens: TokenSigner; devMailbox: DevMailbox; producer: JobProducer }) {
  const { config, db, logger, producer } = deps;
  const { emailProvider, jobEmailProvider, domainProvider, providerRateLimitPerSecond } = createEmailProviders(config, { devMailbox: deps.devMailbox, logger, redis: deps.redis });
  const renderer = createTemplateRenderer();
  const links = createEmailLinks({ config, tokens: deps.tokens });
  const emailRepository = createEmailRepository(db);
  const domainRepository = createDomainRepository(db);
  const templates = createTemplateService({ templateRepository: createTemplateRepository(db), renderer });
  const domains = createDomainService({ config, domainRepository, domainProvider, logger });
  const emails = createEmailService({ config, db, logger, emailRepository, templates, renderer, links, producer, verifiedDomains: domains.verifiedDomains });
  const providerEvents = createProviderEventService({ db, providerEventRepository: createProviderEventRepository(), logger });
  const unsubscribe = createUnsubscribeService({ db, unsubscribeRepository: createUnsubscribeRepository() });
  return {
    emailProvider,
    /** The same provider for worker jobs: a busy rate limit puts the job back instead of waiting. */
    jobEmailProvider,
    domainProvider,
    /** Provider requests per second across all workers; 0 = unlimited. */
    providerRateLimitPerSecond,
    links,
    repositories: { email: emailRepository, domains: domainRepository },
    services: { templates, emails, domains, providerEvents, unsubscribe, links },
  };
}

export type EmailEngine = ReturnType<typeof createEmailEngine>;
