import type { Container } from '../container.ts';
import type { Metrics } from '../metrics/registry.ts';
import { createDomainCheckHandler, createDomainsPollHandler } from '../modules/domains/domains.jobs.ts';
import { createEmailSweepHandler, createSendEmailHandler } from '../modules/email/email.jobs.ts';
import { createOrganizationPurgeHandler, createOrganizationPurgeSweepHandler } from '../modules/organizations/organizations.jobs.ts';
import type { JobHandlers } from './context.ts';
import { createMaintenanceRepository } from './maintenance.repository.ts';
import { createRetentionHandler, createUsageResetHandler } from './maintenance.ts';
import { createRelayHandler } from './relay.ts';

/** Every job name of the registry mapped to its handler; TypeScript checks none is missing. */
export function createJobHandlers(container: Container, metrics: Metrics): JobHandlers {
  const { config, db, jobs: producer } = container;
  const { email: emailRepository, domains: domainRepository } = container.email.repositories;
  const maintenanceRepository = createMaintenanceRepository(db);
  return {
    'email.send': createSendEmailHandler({
      emailRepository,
      provider: container.email.jobEmailProvider,
      metrics: {
        sent: (provider) => metrics.emails.inc({ provider, outcome: 'sent' }),
        failed: (provider, reason) => metrics.emails.inc({ provider, outcome: reason }),
        rateLimited: (provider) => metrics.emails.inc({ provider, outcome: 'rate_limited' }),
      },
    }),
    'email.sweep': createEmailSweepHandler({ emailRepository, producer }),
    'domains.poll': createDomainsPollHandler({ domainRepository, producer }),
    'domain.check': createDomainCheckHandler({ domains: container.services.domains }),
    'events.relay': createRelayHandler({ maintenanceRepository, producer, consumers: container.eventConsumers }),
    'usage.reset': createUsageResetHandler({ maintenanceRepository }),
    'retention.cleanup': createRetentionHandler({ config, maintenanceRepository }),
    'organization.purge': createOrganizationPurgeHandler({ organizations: container.services.organizations }),
    'organizations.purge-sweep': createOrganizationPurgeSweepHandler({ organizations: container.services.organizations, producer }),
  };
}
