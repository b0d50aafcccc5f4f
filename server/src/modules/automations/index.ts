import type { Kysely } from 'kysely';
import type { Config } from '../../config/index.ts';
import type { DB } from '../../db/types.ts';
import { minuteTick, type Schedule } from '../../jobs/cron.ts';
import type { JobProducer } from '../../jobs/producer.ts';
import type { DevMailbox, EmailRepository, EmailService } from '../email/index.ts';
import type { Entitlements } from '../entitlements/index.ts';
import type { SegmentService } from '../segments/index.ts';
import type { SubscriberRepository } from '../subscribers/index.ts';
import { defineModule, mount } from '../module.ts';
import { createAutomationConsumer, createAutomationJobs } from './automations.jobs.ts';
import { createAutomationRepository } from './automations.repository.ts';
import { automationRoutes } from './automations.routes.ts';
import { createAutomationService } from './automations.service.ts';

export type { AutomationService } from './automations.service.ts';

/**
 * Every minute the sweep runs whatever is due: timers live in PostgreSQL, so a lost job or a flushed
 * Redis delays a step by at most a minute and loses none.
 */
export const schedules: readonly Schedule[] = [
  { name: 'automations-sweep', expression: '* * * * *', job: (tick) => ({ name: 'automations.run', payload: { tick: minuteTick(tick) } }) },
];

/** Automations (`/triggers`): entry from outbox events, durable step timers, sends through the campaign path. */
export function createAutomationsModule(deps: {
  db: Kysely<DB>;
  producer: JobProducer;
  segments: Pick<SegmentService, 'compile'>;
  emails: Pick<EmailService, 'automationComposer' | 'automationRecipe' | 'automationBatchComposer'>;
  emailRepository: Pick<EmailRepository, 'insertMessages'>;
  entitlements: Pick<Entitlements, 'reserveEmails'>;
  subscriberRepository: Pick<SubscriberRepository, 'subscribeTags'>;
  /** Where the mail of test runs (started by an sf_test_ key) goes instead of the provider. */
  devMailbox: Pick<DevMailbox, 'storeMany'>;
  config: Pick<Config, 'RETENTION_EVENTS_DAYS'>;
  /** The clock the runner and the consumer read (tests move it instead of sleeping). */
  now: () => Date;
}) {
  const repository = createAutomationRepository(deps.db);
  const automations = createAutomationService({ repository, segments: deps.segments });
  return defineModule({
    name: 'automations',
    services: { automations },
    routes: mount(automationRoutes, { automations }),
    jobs: () => createAutomationJobs({ ...deps, repository }),
    eventConsumers: [createAutomationConsumer({ repository, now: deps.now })],
    // A custom event's idempotency key is remembered as long as the outbox keeps events.
    retention: [{ name: 'custom_events', days: deps.config.RETENTION_EVENTS_DAYS, run: repository.deleteCustomEventsBefore }],
  });
}
