import type { Kysely } from 'kysely';
import type { DB } from '../../db/types.ts';
import { minuteTick, type Schedule } from '../../jobs/cron.ts';
import type { JobProducer } from '../../jobs/producer.ts';
import type { BackgroundTasks } from '../../lib/background.ts';
import type { Logger } from '../../logger.ts';
import type { ApiKeyService } from '../api-keys/index.ts';
import type { ContactSyncService } from '../contact-sync/index.ts';
import { defineModule, mount } from '../module.ts';
import { createOrganizationPurgeHandler, createOrganizationPurgeSweepHandler } from './organizations.jobs.ts';
import { createOrganizationRepository } from './organizations.repository.ts';
import { organizationRoutes } from './organizations.routes.ts';
import { createOrganizationService } from './organizations.service.ts';

export { createOrganizationRepository, type OrganizationRepository } from './organizations.repository.ts';
export { createOrganizationService, type OrganizationService } from './organizations.service.ts';

/** Every hour, deletions whose purge was lost or failed are started again. */
export const schedules: readonly Schedule[] = [
  {
    name: 'organizations-purge-sweep',
    expression: '17 * * * *',
    job: (tick) => ({ name: 'organizations.purge-sweep', payload: { tick: minuteTick(tick, 60) } }),
  },
];

/** Organizations (tenants): create, settings, deletion by an owner with a purge of everything in the worker. */
export function createOrganizationsModule(deps: {
  db: Kysely<DB>;
  apiKeys: ApiKeyService;
  background: BackgroundTasks;
  logger: Logger;
  producer: JobProducer;
  /** The domains an organization may send from (the email engine's rule). */
  senderDomains: (organizationId: string) => Promise<readonly string[]>;
  /** The optional Resend contact sync, turned on and off with the organization's settings. */
  contactSync?: Pick<ContactSyncService, 'setEnabled'>;
}) {
  const organizationRepository = createOrganizationRepository(deps.db);
  const organizations = createOrganizationService({
    db: deps.db,
    organizationRepository,
    apiKeys: deps.apiKeys,
    background: deps.background,
    logger: deps.logger,
    jobs: deps.producer,
    senderDomains: deps.senderDomains,
    ...(deps.contactSync ? { contactSync: deps.contactSync } : {}),
  });
  return defineModule({
    name: 'organizations',
    services: { organizations, organizationRepository },
    routes: mount(organizationRoutes, { organizations }),
    jobs: () => ({
      'organization.purge': createOrganizationPurgeHandler({ organizations }),
      'organizations.purge-sweep': createOrganizationPurgeSweepHandler({ organizations, producer: deps.producer }),
    }),
  });
}
