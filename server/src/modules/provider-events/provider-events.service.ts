import type { Kysely } from 'kysely';
import type { DB } from '../../db/types.ts';
import type { Logger } from '../../logger.ts';
import type { DeliveryChange, EventMessage, ProviderEventRepository } from './provider-events.repository.ts';

interface ResendEvent {
  type?: unknown;
  created_at?: unknown;
  data?: {
    email_id?: unknown;
    tags?: unknown;
    bounce?: { type?: unknown; subType?: unknown; message?: unknown };
    failed?: { reason?: unknown };
  };
}

const PROVIDER = 'resend';
const str = (value: unknown): string | undefined => (typeof value === 'string' && value.length > 0 && value.length <= 500 ? value : undefined);

/** Our message id from the event's tags, which Resend echoes as an object (or, defensively, a list). */
function taggedMessageId(tags: unknown): string | undefined {
  if (Array.isArray(tags)) return str((tags as { name?: unknown; value?: unknown }[]).find((t) => t?.name === 'message_id')?.value);
  if (tags && typeof tags === 'object') return str((tags as Record<string, unknown>).message_id);
  return undefined;
}

function changeOf(event: ResendEvent): DeliveryChange | null {
  switch (event.type) {
    case 'email.delivered': return { kind: 'delivered' };
    case 'email.delivery_delayed': return { kind: 'delivery_delayed' };
    case 'email.opened': return { kind: 'opened' };
    case 'email.clicked': return { kind: 'clicked' };
    case 'email.complained': return { kind: 'complained' };
    case 'email.failed': return { kind: 'failed', reason: str(event.data?.failed?.reason) ?? 'failed' };
    case 'email.bounced': {
      const bounce = event.data?.bounce;
      // Resend reports hard bounces as type "Permanent"; "Transient" and "Undetermined" may succeed later.
      const hard = String(bounce?.type ?? '').toLowerCase() === 'permanent';
      return { kind: 'bounced', hard, reason: [str(bounce?.type), str(bounce?.subType), str(bounce?.message)].filter(Boolean).join(': ') || 'bounced' };
    }
    default: return null;
  }
}

const eventPayload = (message: EventMessage, change: DeliveryChange) => ({
  email_send_id: message.id,
  esp_message_id: message.provider_message_id,
  email: message.to_address,
  subscriber_id: message.subscriber_id,
  template_id: message.template_id,
  campaign_id: message.campaign_id,
  ...(change.kind === 'bounced' ? { hard: change.hard, reason: change.reason } : {}),
  ...(change.kind === 'failed' ? { reason: change.reason } : {}),
});

/**
 * Applies one verified provider event in one transaction: the event id is recorded first (a redelivery
 * finds it and changes nothing), then the message moves forward, and a hard bounce or a complaint
 * suppresses the address and updates the subscriber, with outbox events for each change.
 */
export function createProviderEventService(deps: { db: Kysely<DB>; providerEventRepository: ProviderEventRepository; logger: Logger }) {
  const repo = deps.providerEventRepository;
  return {
    async applyResendEvent(eventId: string, raw: unknown): Promise<'applied' | 'duplicate' | 'ignored'> {
      const event = (raw && typeof raw === 'object' ? raw : {}) as ResendEvent;
      const type = str(event.type) ?? 'unknown';
      const change = changeOf(event);
      const at = str(event.created_at) && !Number.isNaN(Date.parse(event.created_at as string)) ? new Date(event.created_at as string) : new Date();
      return deps.db.transaction().execute(async (trx) => {
        if (!(await repo.claimEvent(trx, PROVIDER, eventId, type))) return 'duplicate';
        if (!change) return 'ignored';
        const message = await repo.findMessage(trx, { messageId: taggedMessageId(event.data?.tags), providerMessageId: str(event.data?.email_id) });
        if (!message) {
          // Mail we did not send through email_messages (e.g. sign-in links) has nothing to update.
          deps.logger.info({ type, event_id: eventId }, 'provider event for an unknown message');
          return 'ignored';
        }
        await repo.linkEvent(trx, PROVIDER, eventId, message);
        await repo.applyToMessage(trx, message.id, change, at);
        if (change.kind === 'complained' || (change.kind === 'bounced' && change.hard)) {
          await repo.suppress(trx, message, change.kind === 'complained' ? 'complaint' : 'hard_bounce', 'provider');
        }
        await repo.insertEvents(trx, message.organization_id, [{ type: `email.${change.kind}`, subjectId: message.id, payload: eventPayload(message, change) }]);
        return 'applied';
      });
    },
  };
}

export type ProviderEventService = ReturnType<typeof createProviderEventService>;
