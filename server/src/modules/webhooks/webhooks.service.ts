import type { JobProducer } from '../../jobs/producer.ts';
import { notFound, unprocessable } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { decodeCursor, toPage } from '../../lib/pagination.ts';
import type { EmailProvider } from '../email/index.ts';
import type { Entitlements } from '../entitlements/index.ts';
import { isEventType } from '../events/index.ts';
import { deliverJob } from './delivery.ts';
import { newSigningSecret, type SecretBox } from './signing.ts';
import { assertAllowedTarget, parseTargetUrl, type TargetPolicy } from './ssrf.ts';
import type { DeliveryStatus, EndpointRow, WebhookRepository } from './webhooks.repository.ts';

/** After a rotation the previous secret signs beside the new one this long, so receivers can switch over. */
export const ROTATION_OVERLAP_MS = 24 * 3600 * 1000;
/** Most events one replay sends again; a larger window is refused rather than cut silently. */
export const MAX_REPLAY_EVENTS = 10_000;
/** Endpoints one organization may have whatever its plan (a plan may allow fewer: entitlements decide). */
export const MAX_ENDPOINTS = 50;

export interface EndpointInput {
  url: string;
  events: string[];
  description?: string;
  enabled?: boolean;
  legacy_signature?: boolean;
}

/** The API's view of an endpoint: `events` for the stored `event_types`, never a secret. */
export function toEndpoint(row: EndpointRow) {
  const { event_types: events, previous_secret_expires_at: previousSecretExpiresAt, ...rest } = row;
  return { ...rest, events, previous_secret_active_until: previousSecretExpiresAt && previousSecretExpiresAt > new Date() ? previousSecretExpiresAt : null };
}

function checkEvents(events: readonly string[]): string[] {
  const unknown = events.filter((type) => type !== '*' && !isEventType(type));
  if (unknown.length > 0) {
    throw unprocessable(
      'unknown_event_type',
      'Some event types are not in the catalogue',
      unknown.map((type) => ({ field: 'events', message: `unknown event type "${type}"` })),
    );
  }
  return [...new Set(events)];
}

export function createWebhookService(deps: {
  repository: WebhookRepository;
  secrets: SecretBox;
  policy: TargetPolicy;
  producer: JobProducer;
  emailProvider: EmailProvider;
  entitlements: Pick<Entitlements, 'assertCanAdd'>;
  config: { AUTH_EMAIL_FROM: string; ADMIN_APP_URL: string };
}) {
  const { repository: repo, producer } = deps;

  async function checkUrl(raw: string): Promise<string> {
    const url = parseTargetUrl(raw, deps.policy);
    await assertAllowedTarget(url, deps.policy);
    return url.toString();
  }

  async function endpointOf(organizationId: string, id: string): Promise<EndpointRow> {
    const endpoint = await repo.findEndpoint(organizationId, id);
    if (!endpoint) throw notFound('webhook');
    return endpoint;
  }

  return {
    async create(organizationId: string, input: EndpointInput) {
      const events = checkEvents(input.events);
      const url = await checkUrl(input.url);
      await deps.entitlements.assertCanAdd(organizationId, 'webhook_endpoints', MAX_ENDPOINTS);
      const secret = newSigningSecret();
      const row = await repo.insertEndpoint(organizationId, {
        url,
        event_types: events,
        description: input.description ?? '',
        enabled: input.enabled ?? true,
        legacy_signature: input.legacy_signature ?? false,
        secret_encrypted: deps.secrets.seal(secret),
      });
      return { ...toEndpoint(row), secret, signing_secret: secret };
    },

    async list(organizationId: string, query: { limit?: number; cursor?: string }) {
      const limit = query.limit ?? 50;
      const rows = await repo.listEndpoints(organizationId, { limit, beforeId: decodeCursor(query.cursor) });
      return toPage(rows.map(toEndpoint), limit);
    },

    get: async (organizationId: string, id: string) => toEndpoint(await endpointOf(organizationId, id)),

    async update(organizationId: string, id: string, patch: Partial<EndpointInput>) {
      const row = await repo.updateEndpoint(organizationId, id, {
        ...(patch.url !== undefined ? { url: await checkUrl(patch.url) } : {}),
        ...(patch.events !== undefined ? { event_types: checkEvents(patch.events) } : {}),
        ...(patch.description !== undefined ? { description: patch.description } : {}),
        ...(patch.enabled !== undefined ? { enabled: patch.enabled } : {}),
        ...(patch.legacy_signature !== undefined ? { legacy_signature: patch.legacy_signature } : {}),
      });
      if (!row) throw notFound('webhook');
      return toEndpoint(row);
    },

    async remove(organizationId: string, id: string): Promise<void> {
      if (!(await repo.deleteEndpoint(organizationId, id))) throw notFound('webhook');
    },

    /** A new secret, shown this once; the old one keeps signing beside it for ROTATION_OVERLAP_MS. */
    async rotateSecret(organizationId: string, id: string) {
      const secret = newSigningSecret();
      const row = await repo.rotateSecret(organizationId, id, deps.secrets.seal(secret), new Date(Date.now() + ROTATION_OVERLAP_MS));
      if (!row) throw notFound('webhook');
      return { ...toEndpoint(row), secret, signing_secret: secret };
    },

    /** Sends a `webhook.test` event to the endpoint (enabled or not is its own business: it asked). */
    async test(organizationId: string, id: string) {
      const endpoint = await endpointOf(organizationId, id);
      if (!endpoint.enabled) throw unprocessable('webhook_disabled', 'The endpoint is disabled; enable it to send a test event');
      const delivery = await repo.insertDelivery(organizationId, id, {
        id: newId(),
        type: 'webhook.test',
        payload: { webhook_id: id, message: 'This is a test event from Subscribe Flow.' },
      });
      await producer.enqueueMany([deliverJob(delivery)]);
      return delivery;
    },

    async listDeliveries(organizationId: string, endpointId: string, query: { limit?: number; cursor?: string; status?: DeliveryStatus; event_type?: string }) {
      await endpointOf(organizationId, endpointId);
      const limit = query.limit ?? 50;
      const rows = await repo.listDeliveries(organizationId, endpointId, {
        limit,
        beforeId: decodeCursor(query.cursor),
        status: query.status,
        eventType: query.event_type,
      });
      return toPage(rows, limit);
    },

    async getDelivery(organizationId: string, id: string) {
      const delivery = await repo.findDelivery(organizationId, id);
      if (!delivery) throw notFound('webhook_delivery');
      return delivery;
    },

    /** Sends a delivery again now, whatever its state (dead, failed, even succeeded), with the same id. */
    async retryDelivery(organizationId: string, id: string) {
      const reset = await repo.resetForRetry(organizationId, id);
      if (!reset) throw notFound('webhook_delivery');
      await producer.enqueueMany([deliverJob(reset)]);
      return this.getDelivery(organizationId, id);
    },

    /** Every stored event of [from, to) the endpoint subscribes to, delivered again. */
    async replay(organizationId: string, id: string, window: { from: Date; to: Date }) {
      const endpoint = await endpointOf(organizationId, id);
      if (!(window.from < window.to)) throw unprocessable('invalid_window', '`from` must be before `to`', [{ field: 'from', message: 'must be before to' }]);
      if (!endpoint.enabled) throw unprocessable('webhook_disabled', 'The endpoint is disabled; enable it before replaying events');
      const { ids, more } = await repo.replay(organizationId, id, window, MAX_REPLAY_EVENTS);
      if (more) throw unprocessable('replay_too_large', `A replay sends at most ${MAX_REPLAY_EVENTS} events; choose a shorter window`);
      await producer.enqueueMany(ids.map((deliveryId) => deliverJob({ id: deliveryId, endpoint_id: id, attempts: 0 })));
      return { deliveries: ids.length };
    },

    /** Emails the organization's owners and admins that an endpoint was disabled, and why. */
    async notifyDisabled(organizationId: string, endpoint: { id: string; url: string }, reason: string): Promise<void> {
      const admins = await repo.adminEmails(organizationId);
      const link = `${deps.config.ADMIN_APP_URL.replace(/\/$/, '')}/webhooks/${endpoint.id}`;
      const origin = new URL(endpoint.url).origin;
      for (const admin of admins) {
        await deps.emailProvider.send({
          from: deps.config.AUTH_EMAIL_FROM,
          to: admin.email,
          organizationId,
          subject: `Webhook endpoint disabled: ${origin}`,
          text: `A webhook endpoint of ${admin.name} was disabled and receives no more events.\n\nEndpoint: ${endpoint.url}\nReason: ${reason}\n\nFix the receiver, then enable the endpoint again and replay what it missed: ${link}\n`,
          html: `<p>A webhook endpoint of ${escapeHtml(admin.name)} was disabled and receives no more events.</p><p>Endpoint: ${escapeHtml(endpoint.url)}<br>Reason: ${escapeHtml(reason)}</p><p>Fix the receiver, then <a href="${escapeHtml(link)}">enable the endpoint again</a> and replay what it missed.</p>`,
          idempotencyKey: `webhook-disabled-${endpoint.id}-${new Date().toISOString().slice(0, 13)}-${admin.email}`,
        });
      }
    },
  };
}

const escapeHtml = (value: string): string => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export type WebhookService = ReturnType<typeof createWebhookService>;
