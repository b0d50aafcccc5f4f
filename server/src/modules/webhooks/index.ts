import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import type { Config } from '../../config/index.ts';
import type { DB } from '../../db/types.ts';
import { minuteTick, type Schedule } from '../../jobs/cron.ts';
import type { JobProducer } from '../../jobs/producer.ts';
import type { Logger } from '../../logger.ts';
import type { Entitlements } from '../entitlements/index.ts';
import type { EmailProvider } from '../email/index.ts';
import { defineModule, mount } from '../module.ts';
import { createEndpointGate } from './endpoint-gate.ts';
import { createDeliveryConsumer, createDeliveryHandlers, createSweepHandler, parseRetryDelays } from './delivery.ts';
import { createSender } from './sender.ts';
import { createSecretBox } from './signing.ts';
import { createTargetPolicy } from './ssrf.ts';
import { createWebhookRepository } from './webhooks.repository.ts';
import { webhookRoutes } from './webhooks.routes.ts';
import { createWebhookService } from './webhooks.service.ts';

/** Every 5 minutes the sweep re-enqueues deliveries whose job was lost (Redis down when it was enqueued). */
export const schedules: readonly Schedule[] = [
  { name: 'webhooks-sweep', expression: '*/5 * * * *', job: (tick) => ({ name: 'webhooks.sweep', payload: { tick: minuteTick(tick, 5) } }) },
];

type WebhookConfig = Pick<
  Config,
  | 'TOKEN_SECRETS'
  | 'AUTH_EMAIL_FROM'
  | 'ADMIN_APP_URL'
  | 'RETENTION_WEBHOOK_DELIVERIES_DAYS'
  | 'WEBHOOKS_ALLOW_PRIVATE'
  | 'WEBHOOKS_ALLOW_PRIVATE_HOSTS'
  | 'WEBHOOKS_TIMEOUT_MS'
  | 'WEBHOOKS_RETRY_DELAYS_SECONDS'
  | 'WEBHOOKS_DISABLE_AFTER_HOURS'
  | 'WEBHOOKS_CONCURRENCY_PER_ENDPOINT'
  | 'REDIS_PREFIX'
>;

/**
 * Outgoing webhooks: endpoints with Standard Webhooks signatures, one delivery per (outbox event,
 * subscribed endpoint) made by the relay, attempts with retries, a delivery log, replay, and the SSRF
 * guard at create and at every attempt.
 */
export function createWebhooksModule(deps: {
  db: Kysely<DB>;
  redis: Redis;
  config: WebhookConfig;
  producer: JobProducer;
  emailProvider: EmailProvider;
  logger: Logger;
  entitlements: Entitlements;
}) {
  const { config } = deps;
  const repository = createWebhookRepository(deps.db);
  const policy = createTargetPolicy(config);
  const secrets = createSecretBox(config.TOKEN_SECRETS);
  const webhooks = createWebhookService({
    repository,
    secrets,
    policy,
    producer: deps.producer,
    emailProvider: deps.emailProvider,
    entitlements: deps.entitlements,
    config,
  });
  const sender = createSender({ policy, timeoutMs: config.WEBHOOKS_TIMEOUT_MS, maxSocketsPerHost: config.WEBHOOKS_CONCURRENCY_PER_ENDPOINT });
  const leaseSeconds = Math.ceil(config.WEBHOOKS_TIMEOUT_MS / 1000) + 60;
  const gate = createEndpointGate({
    redis: deps.redis,
    prefix: config.REDIS_PREFIX,
    cap: config.WEBHOOKS_CONCURRENCY_PER_ENDPOINT,
    leaseMs: leaseSeconds * 1000,
  });
  return defineModule({
    name: 'webhooks',
    services: { webhooks },
    routes: mount(webhookRoutes, { webhooks }),
    eventConsumers: [createDeliveryConsumer(repository)],
    jobs: () => ({
      ...createDeliveryHandlers({
        repository,
        sender,
        gate,
        secrets,
        producer: deps.producer,
        logger: deps.logger,
        retryDelaysMs: parseRetryDelays(config.WEBHOOKS_RETRY_DELAYS_SECONDS),
        disableAfterHours: config.WEBHOOKS_DISABLE_AFTER_HOURS,
        notifyDisabled: webhooks.notifyDisabled,
        userAgent: 'SubscribeFlow-Webhooks/1.0',
        leaseSeconds,
        cap: config.WEBHOOKS_CONCURRENCY_PER_ENDPOINT,
      }),
      'webhooks.sweep': createSweepHandler({ repository, producer: deps.producer }),
    }),
    retention: [{ name: 'webhook-deliveries', days: config.RETENTION_WEBHOOK_DELIVERIES_DAYS, run: repository.deleteDeliveriesBefore }],
    close: async () => sender.close(),
  });
}

export type WebhooksModule = ReturnType<typeof createWebhooksModule>;
