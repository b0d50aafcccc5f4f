import type { Kysely } from 'kysely';
import type { DB } from '../../db/types.ts';
import { minuteTick, type Schedule } from '../../jobs/cron.ts';
import type { JobProducer } from '../../jobs/producer.ts';
import type { Logger } from '../../logger.ts';
import type { ContactProvider } from '../email/index.ts';
import { defineModule, mount } from '../module.ts';
import { createContactSyncConsumer, createResendSyncHandler } from './contact-sync.jobs.ts';
import { createContactSyncRepository } from './contact-sync.repository.ts';
import { contactSyncRoutes } from './contact-sync.routes.ts';
import { createContactSyncService } from './contact-sync.service.ts';

export { RESEND_SOURCE, RESEND_UNSUBSCRIBE_REASON, type ContactSyncService, type TopicChoice } from './contact-sync.service.ts';

/** Every five minutes a sync round runs whatever the relay asked for (a job lost with Redis is made up for). */
export const schedules: readonly Schedule[] = [
  { name: 'resend-sync', expression: '*/5 * * * *', job: (tick) => ({ name: 'resend.sync', payload: { tick: `c${minuteTick(tick, 5)}` } }) },
];

/**
 * Optional mirror of one organization's subscribers and public topics to Resend Contacts and Topics
 * (README.md): the contact outbox filled from the event outbox, drained by worker jobs through the
 * provider's rate gate; unsubscribes reported by Resend honoured here.
 */
export function createContactSyncModule(deps: { db: Kysely<DB>; logger: Logger; producer: JobProducer; contactProvider: ContactProvider | null }) {
  const contactSyncRepository = createContactSyncRepository(deps.db);
  const contactSync = createContactSyncService({
    db: deps.db,
    contactSyncRepository,
    contactProvider: deps.contactProvider,
    producer: deps.producer,
    logger: deps.logger,
  });
  return defineModule({
    name: 'contact-sync',
    services: { contactSync },
    routes: mount(contactSyncRoutes, { contactSync }),
    eventConsumers: [createContactSyncConsumer({ contactSync })],
    jobs: () => ({ 'resend.sync': createResendSyncHandler({ contactSync, producer: deps.producer }) }),
  });
}
