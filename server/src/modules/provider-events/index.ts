import type { Kysely } from 'kysely';
import type { Config } from '../../config/index.ts';
import type { DB } from '../../db/types.ts';
import type { Logger } from '../../logger.ts';
import type { ContactSyncService } from '../contact-sync/index.ts';
import { defineModule, mount } from '../module.ts';
import { createProviderEventRepository, deleteProviderEventsBefore } from './provider-events.repository.ts';
import { providerHookRoutes } from './provider-events.routes.ts';
import { createProviderEventService } from './provider-events.service.ts';

export type { ProviderEventService } from './provider-events.service.ts';

/**
 * Incoming provider webhooks (`POST /hooks/resend`): signature checked on the raw body, each event
 * applied once (delivered, bounced, complained, …), bounces and complaints suppressing the address.
 */
export function createProviderEventsModule(deps: {
  db: Kysely<DB>;
  logger: Logger;
  config: Pick<Config, 'RESEND_WEBHOOK_SECRET' | 'BOUNCE_WEBHOOK_SECRET' | 'RETENTION_PROVIDER_EVENTS_DAYS'>;
  /** Where Resend's contact events go (the optional contact sync). */
  contactSync?: Pick<ContactSyncService, 'unsubscribedAtResend' | 'topicsChangedAtResend' | 'contactDeletedAtResend'>;
}) {
  const { db, config } = deps;
  const providerEvents = createProviderEventService({
    db,
    providerEventRepository: createProviderEventRepository(),
    logger: deps.logger,
    ...(deps.contactSync ? { contactSync: deps.contactSync } : {}),
  });
  return defineModule({
    name: 'provider-events',
    services: { providerEvents },
    rootRoutes: mount(providerHookRoutes, { secret: config.RESEND_WEBHOOK_SECRET, bounceSecret: config.BOUNCE_WEBHOOK_SECRET, events: providerEvents }),
    retention: [
      { name: 'provider_events', days: config.RETENTION_PROVIDER_EVENTS_DAYS, run: (cutoff, signal) => deleteProviderEventsBefore(db, cutoff, signal) },
    ],
  });
}
