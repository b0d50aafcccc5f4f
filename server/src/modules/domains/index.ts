import type { Kysely } from 'kysely';
import type { Config } from '../../config/index.ts';
import type { DB } from '../../db/types.ts';
import { minuteTick, type Schedule } from '../../jobs/cron.ts';
import type { JobProducer } from '../../jobs/producer.ts';
import type { Logger } from '../../logger.ts';
import type { SendingDomainProvider } from '../email/index.ts';
import type { Entitlements } from '../entitlements/index.ts';
import { defineModule, mount } from '../module.ts';
import { createDomainCheckHandler, createDomainsPollHandler } from './domains.jobs.ts';
import { createDomainRepository } from './domains.repository.ts';
import { domainRoutes } from './domains.routes.ts';
import { createDomainService } from './domains.service.ts';

export type { DomainRepository, DomainRow } from './domains.repository.ts';
export type { DomainService } from './domains.service.ts';

/** Every ten minutes, domains awaiting verification are checked at the provider. */
export const schedules: readonly Schedule[] = [
  { name: 'domains-poll', expression: '*/10 * * * *', job: (tick) => ({ name: 'domains.poll', payload: { tick: minuteTick(tick, 10) } }) },
];

/** Custom sending domains through the provider's Domains API: DNS records to publish, verification polled from cron. */
export function createDomainsModule(deps: {
  db: Kysely<DB>;
  config: Pick<Config, 'EMAIL_DEFAULT_FROM'>;
  logger: Logger;
  producer: JobProducer;
  /** Resend's Domains API when a key is configured; null otherwise (domains cannot be verified). */
  domainProvider: SendingDomainProvider | null;
  entitlements: Pick<Entitlements, 'assertCanAdd'>;
}) {
  const domainRepository = createDomainRepository(deps.db);
  const domains = createDomainService({
    config: deps.config,
    domainRepository,
    domainProvider: deps.domainProvider,
    logger: deps.logger,
    entitlements: deps.entitlements,
  });
  return defineModule({
    name: 'domains',
    services: { domains, domainRepository },
    routes: mount(domainRoutes, { domains }),
    jobs: () => ({
      'domains.poll': createDomainsPollHandler({ domainRepository, producer: deps.producer }),
      'domain.check': createDomainCheckHandler({ domains }),
    }),
  });
}
