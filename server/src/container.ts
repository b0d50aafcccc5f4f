import type { Config } from './config/index.ts';
import { createDb, createPool } from './db/client.ts';
import { noErrorReporter, type ErrorReporter } from './error-reporting.ts';
import type { JobHandlers } from './jobs/context.ts';
import { retentionSchedule, type Schedule } from './jobs/cron.ts';
import { createRetentionHandler } from './jobs/maintenance.ts';
import { createJobProducer } from './jobs/producer.ts';
import { closeConnection, createProducerConnection, createQueues } from './jobs/queues.ts';
import { JOBS, type JobName } from './jobs/registry.ts';
import { createBackgroundTasks } from './lib/background.ts';
import { createIdempotencyStore } from './lib/idempotency.ts';
import { createTokenSigner } from './lib/tokens.ts';
import { createLogger, type Logger } from './logger.ts';
import type { Metrics } from './metrics/registry.ts';
import { createRedis } from './redis.ts';
import type { Module } from './modules/module.ts';
import { createAdminSiteModule } from './modules/admin-site/index.ts';
import { createApiKeysModule } from './modules/api-keys/index.ts';
import { createAuditModule } from './modules/audit/index.ts';
import { createAuthModule } from './modules/auth/index.ts';
import { createBillingModule } from './modules/billing/index.ts';
import * as automations from './modules/automations/index.ts';
import * as campaigns from './modules/campaigns/index.ts';
import * as contactSync from './modules/contact-sync/index.ts';
import * as domains from './modules/domains/index.ts';
import * as email from './modules/email/index.ts';
import { createEngagementModule } from './modules/engagement/index.ts';
import * as entitlements from './modules/entitlements/index.ts';
import * as events from './modules/events/index.ts';
import { createHealthModule } from './modules/health/index.ts';
import { createImportsModule } from './modules/imports/index.ts';
import { createInvitationsModule } from './modules/invitations/index.ts';
import { createMembersModule } from './modules/members/index.ts';
import * as organizations from './modules/organizations/index.ts';
import { createPlatformModule } from './modules/platform/index.ts';
import { createPreferenceCenterModule } from './modules/preference-center/index.ts';
import { createProviderEventsModule } from './modules/provider-events/index.ts';
import * as segmentsModule from './modules/segments/index.ts';
import { createStatsModule } from './modules/stats/index.ts';
import { createSubscribersModule } from './modules/subscribers/index.ts';
import { createSuppressionsModule } from './modules/suppressions/index.ts';
import { createTagsModule } from './modules/tags/index.ts';
import { createTemplatesModule } from './modules/templates/index.ts';
import { createUnsubscribeModule } from './modules/unsubscribe/index.ts';
import * as webhooks from './modules/webhooks/index.ts';

/**
 * Every cron schedule, read by the cron process without building anything else (it needs only Redis).
 * A module with schedules exports them from its index.ts and is listed here.
 */
export const SCHEDULES: readonly Schedule[] = [
  ...entitlements.schedules,
  retentionSchedule,
  ...events.schedules,
  ...email.schedules,
  ...organizations.schedules,
  ...domains.schedules,
  ...webhooks.schedules,
  ...campaigns.schedules,
  ...automations.schedules,
  ...contactSync.schedules,
  ...segmentsModule.schedules,
];

/**
 * The composition root: config → logger → PostgreSQL and Redis → job producer → email providers →
 * modules. Every entry point and every test builds the application through this one function, so
 * nothing reads process.env or keeps a module-level singleton elsewhere. Each module's factory (its
 * index.ts) takes the narrow dependencies it needs, other modules' services among them; the list at the
 * end is what app.ts, the worker and the relay take their parts from.
 */
export function createContainer(config: Readonly<Config>, options: { processName: string; logger?: Logger; errors?: ErrorReporter; now?: () => Date }) {
  // The clock of the automation timers and the A/B tests' timer; tests pass their own to move time without sleeping.
  const now = options.now ?? (() => new Date());
  const logger = options.logger ?? createLogger(config, options.processName);
  // Sentry when the entry point started it (SENTRY_DSN set), otherwise a reporter that does nothing.
  const errors = options.errors ?? noErrorReporter;
  const pool = createPool(config.DATABASE_URL, config.DATABASE_POOL_MAX);
  pool.on('error', (error) => logger.error({ err: error }, 'idle PostgreSQL client failed'));
  const db = createDb(pool);
  const redis = createRedis(config.REDIS_URL);
  redis.on('error', (error) => logger.warn({ err: error }, 'Redis connection error'));
  // Jobs go out on their own fail-fast connection (jobs/queues.ts), always after the transaction commits.
  const producerConnection = createProducerConnection(config.REDIS_URL);
  producerConnection.on('error', (error) => logger.warn({ err: error }, 'Redis (job producer) connection error'));
  const queues = createQueues(producerConnection, config.REDIS_PREFIX);
  const producer = createJobProducer(queues);
  // Work that runs after a response (login emails, audit entries, purges); drained before shutdown.
  const background = createBackgroundTasks(logger);
  const tokens = createTokenSigner(config.TOKEN_SECRETS);
  const idempotency = createIdempotencyStore(redis, `${config.REDIS_PREFIX}:idem:`, config.IDEMPOTENCY_TTL_SECONDS);
  // Resend, SMTP or, with neither configured, the dev mailbox; Resend's Domains API when a key is set.
  const devMailbox = email.createDevMailbox(db);
  const providers = email.createEmailProviders(config, { devMailbox, logger, redis });
  const { emailProvider } = providers;
  // Consumers of outbox events, collected from the modules below once they exist.
  const eventConsumers: events.EventConsumer[] = [];

  const eventsModule = events.createEventsModule({ db, producer, config, logger, consumers: eventConsumers });
  // Quota notices go through the email module's system mail, built below: looked up when a notice is sent.
  const entitlementsModule = entitlements.createEntitlementsModule({
    db,
    config,
    logger,
    mailer: { send: (...args) => emailModule.services.systemMail.send(...args) },
  });
  const { entitlements: limits } = entitlementsModule.services;
  const audit = createAuditModule({ db, logger, background, config });
  const { auditLog } = audit.services;
  const apiKeys = createApiKeysModule({ db, redis, logger, config });
  const auth = createAuthModule({ db, redis, config, logger, background, auditLog, emailProvider });
  const members = createMembersModule({ db });
  const domainsModule = domains.createDomainsModule({ db, config, logger, producer, domainProvider: providers.domainProvider, entitlements: limits });
  const { verifiedDomains, senderDomains } = domainsModule.services.domains;
  const contactSyncModule = contactSync.createContactSyncModule({ db, logger, producer, contactProvider: providers.contactProvider });
  const organizationsModule = organizations.createOrganizationsModule({
    db,
    apiKeys: apiKeys.services.apiKeys,
    background,
    logger,
    producer,
    senderDomains,
    contactSync: contactSyncModule.services.contactSync,
  });
  const tags = createTagsModule({ db });
  const subscribers = createSubscribersModule({ db, pool, config, tagRepository: tags.services.tagRepository, entitlements: limits, producer });
  // Template previews are rendered by the email module, built after templates; the call happens per request.
  const templates = createTemplatesModule({ db, previews: { preview: (...args) => emailModule.services.emails.preview(...args) } });
  const emailModule = email.createEmailModule({
    config,
    db,
    logger,
    tokens,
    producer,
    devMailbox,
    emailProvider,
    jobEmailProvider: providers.jobEmailProvider,
    templates: templates.services.templates,
    renderer: templates.services.renderer,
    entitlements: limits,
    verifiedDomains,
  });
  const preferenceCenter = createPreferenceCenterModule({
    config,
    db,
    pool,
    redis,
    tokens,
    mailer: emailModule.services.systemMail,
    background,
    subscriberRepository: subscribers.services.subscriberRepository,
    subscribers: subscribers.services.subscribers,
    messageBody: emailModule.services.emails.renderedBody,
  });

  const invitations = createInvitationsModule({
    db,
    config,
    emailProvider,
    memberRepository: members.services.memberRepository,
    organizationRepository: organizationsModule.services.organizationRepository,
    userRepository: auth.services.userRepository,
    auth: auth.services.auth,
    auditLog,
    background,
  });
  const platform = createPlatformModule({
    db,
    organizationRepository: organizationsModule.services.organizationRepository,
    userRepository: auth.services.userRepository,
    memberRepository: members.services.memberRepository,
    apiKeys: apiKeys.services.apiKeys,
  });
  const providerEvents = createProviderEventsModule({ db, logger, config, contactSync: contactSyncModule.services.contactSync });
  const segments = segmentsModule.createSegmentsModule({ db });
  const importsModule = createImportsModule({
    db,
    pool,
    config,
    producer,
    entitlements: limits,
    segments: segments.services.segments,
    subscribers: subscribers.services.subscriberRepository,
  });
  const campaignsModule = campaigns.createCampaignsModule({
    db,
    producer,
    segments: segments.services.segments,
    emails: emailModule.services.emails,
    emailRepository: emailModule.services.emailRepository,
    entitlements: limits,
    now,
  });
  const automationsModule = automations.createAutomationsModule({
    db,
    producer,
    now,
    config,
    segments: segments.services.segments,
    emails: emailModule.services.emails,
    emailRepository: emailModule.services.emailRepository,
    entitlements: limits,
    subscriberRepository: subscribers.services.subscriberRepository,
    devMailbox,
  });
  const unsubscribe = createUnsubscribeModule({ db, config, tokens, links: emailModule.services.links });
  // Stripe billing: with no Stripe keys configured the module has no routes and no plan limits apply.
  const billing = createBillingModule({ db, config, producer, logger, entitlements: limits });
  const engagement = createEngagementModule({
    db,
    config,
    tokens,
    logger,
    campaigns: campaignsModule.services.campaigns,
    segments: segments.services.segments,
  });
  const webhooksModule = webhooks.createWebhooksModule({ db, redis, config, producer, emailProvider, logger, entitlements: limits });

  // The modules of the application. A module no other module depends on is added with one line here.
  const modules: readonly Module[] = [
    createHealthModule({ db, redis }),
    eventsModule,
    entitlementsModule,
    audit,
    apiKeys,
    auth,
    members,
    organizationsModule,
    invitations,
    platform,
    tags,
    subscribers,
    createSuppressionsModule({ db }),
    importsModule,
    templates,
    domainsModule,
    emailModule,
    providerEvents,
    contactSyncModule,
    unsubscribe,
    preferenceCenter,
    segments,
    campaignsModule,
    engagement,
    automationsModule,
    createStatsModule({ db, redis, config, entitlements: limits }),
    createAdminSiteModule({ config }),
    webhooksModule,
    billing,
  ];
  for (const module of modules) eventConsumers.push(...(module.eventConsumers ?? []));

  /** Every job's handler, from the modules that own them; built by the worker with its metrics. */
  function jobHandlers(metrics: Metrics): JobHandlers {
    const handlers: Partial<JobHandlers> = { 'retention.cleanup': createRetentionHandler({ tasks: modules.flatMap((m) => m.retention ?? []) }) };
    for (const module of modules) {
      for (const [name, handler] of Object.entries(module.jobs?.({ metrics }) ?? {})) {
        if (Object.hasOwn(handlers, name)) throw new Error(`Two modules handle the job "${name}"`);
        (handlers as Record<string, unknown>)[name] = handler;
      }
    }
    const missing = (Object.keys(JOBS) as JobName[]).filter((name) => !handlers[name]);
    if (missing.length > 0) throw new Error(`No module handles the jobs ${missing.join(', ')}`);
    return handlers as JobHandlers;
  }

  /** Work modules do once when a serving process (api, worker) starts, before it serves; a failure stops the start. */
  async function start(): Promise<void> {
    for (const module of modules) await module.start?.();
  }

  let closed = false;
  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    await background.drain();
    await Promise.allSettled(modules.map((module) => module.close?.()));
    await queues.close();
    await Promise.allSettled([db.destroy(), redis.quit(), closeConnection(producerConnection), emailProvider.close?.(), errors.close()]);
  }

  return {
    config,
    start,
    logger,
    errors,
    db,
    pool,
    redis,
    queues,
    /** The job producer (enqueue after commit). */
    jobs: producer,
    tokens,
    background,
    idempotency,
    devMailbox,
    emailProvider,
    /** Provider requests per second across all workers; 0 = unlimited. */
    providerRateLimitPerSecond: providers.providerRateLimitPerSecond,
    eventConsumers,
    /** What the worker runs beside its queues, from every module. */
    workerLoops: modules.flatMap((module) => module.workerLoops ?? []),
    outboxLagSeconds: eventsModule.services.outboxLagSeconds,
    modules,
    /** The plugins' dependencies (plugins/*.ts) and the CLI's. */
    auditLog,
    userRepository: auth.services.userRepository,
    email: { repositories: { email: emailModule.services.emailRepository, domains: domainsModule.services.domainRepository } },
    preferences: preferenceCenter.services,
    /** Every module's public services by name, for the CLI, the plugins and the tests. */
    services: {
      ...apiKeys.services,
      ...auth.services,
      ...members.services,
      ...organizationsModule.services,
      ...invitations.services,
      ...platform.services,
      ...tags.services,
      ...subscribers.services,
      ...templates.services,
      ...domainsModule.services,
      ...emailModule.services,
      ...providerEvents.services,
      ...unsubscribe.services,
      ...webhooksModule.services,
      ...importsModule.services,
      ...segments.services,
      ...campaignsModule.services,
      ...billing.services,
      ...engagement.services,
      ...automationsModule.services,
      entitlements: limits,
    },
    jobHandlers,
    close,
  };
}

export type Container = ReturnType<typeof createContainer>;
