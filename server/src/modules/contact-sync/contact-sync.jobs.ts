import type { JobHandler } from '../../jobs/context.ts';
import type { JobProducer } from '../../jobs/producer.ts';
import { ProviderError } from '../email/index.ts';
import type { EventConsumer } from '../events/index.ts';
import type { ContactChange } from './contact-sync.repository.ts';
import type { ContactSyncService } from './contact-sync.service.ts';

// Outbox events that change what Resend should know about a subscriber.
const SUBSCRIBER_EVENTS = new Set([
  'subscriber.created',
  'subscriber.updated',
  'subscriber.confirmed',
  'subscriber.unsubscribed',
  'subscriber.deleted',
  'tag.subscribed',
  'tag.unsubscribed',
]);

/**
 * Moves subscriber changes from the event outbox into the contact outbox, in the relay's transaction
 * (no network), and asks for a sync job when something is waiting. An import is one event for the whole
 * file: it puts every subscriber of the organization in the outbox (one statement; unchanged contacts
 * are sent again, which is harmless).
 */
export function createContactSyncConsumer(deps: { contactSync: Pick<ContactSyncService, 'enqueue' | 'enqueueAll'> }): EventConsumer {
  return {
    name: 'resend-contact-sync',
    async handle(trx, events) {
      const changes: ContactChange[] = [];
      const imports = new Set<string>();
      for (const event of events) {
        if (event.type === 'import.completed') imports.add(event.organization_id);
        if (!SUBSCRIBER_EVENTS.has(event.type)) continue;
        // A change that came from Resend is sent back too: it is the same state (Resend's echo of it changes
        // nothing here), and a change of ours sent in between would otherwise be left standing there.
        const subscriber = (event.payload as { subscriber?: { id?: unknown; email?: unknown } } | null)?.subscriber;
        if (typeof subscriber?.id !== 'string' || typeof subscriber.email !== 'string') continue;
        changes.push({
          organizationId: event.organization_id,
          subscriberId: subscriber.id,
          email: subscriber.email,
          deleted: event.type === 'subscriber.deleted',
        });
      }
      let queued = await deps.contactSync.enqueue(trx, changes);
      for (const organizationId of imports) queued += await deps.contactSync.enqueueAll(trx, organizationId);
      return queued > 0 ? [{ name: 'resend.sync' as const, payload: { tick: `e${events[0]!.id.replace(/[^0-9A-Za-z_-]/g, '').slice(0, 50)}` } }] : [];
    },
  };
}

/**
 * One round of the mirror; while changes remain it enqueues the next round. A busy rate gate or an
 * unavailable Resend puts the job back (BullMQ retries it); the outbox keeps every change meanwhile, so
 * nothing is lost and a cron sweep starts it again if a job is lost.
 */
export function createResendSyncHandler(deps: {
  contactSync: Pick<ContactSyncService, 'syncBatch'>;
  producer: Pick<JobProducer, 'enqueue'>;
}): JobHandler<'resend.sync'> {
  return async (_payload, context) => {
    try {
      const result = await deps.contactSync.syncBatch();
      if (result.more && result.synced + result.topics > 0) await deps.producer.enqueue('resend.sync', { tick: `n${Date.now()}` });
      return result;
    } catch (error) {
      if (error instanceof ProviderError && error.kind === 'rate_limited') return context.rateLimited(error.retryAfterMs ?? 1000);
      throw error;
    }
  };
}
