import type { Kysely } from 'kysely';
import type { DB } from '../../db/types.ts';
import type { Logger } from '../../logger.ts';
import type { ContactSyncService, TopicChoice } from '../contact-sync/index.ts';
import { parseRef, trackableUrl, type MailRef } from '../email/index.ts';
import { classify } from '../engagement/index.ts';
import type { DeliveryChange, EventMessage, ProviderEventRepository, SuppressionCause } from './provider-events.repository.ts';

interface ResendEvent {
  type?: unknown;
  created_at?: unknown;
  data?: {
    email_id?: unknown;
    message_id?: unknown;
    to?: unknown;
    tags?: unknown;
    bounce?: { type?: unknown; subType?: unknown; message?: unknown };
    click?: { link?: unknown; userAgent?: unknown; ipAddress?: unknown };
    open?: { userAgent?: unknown; ipAddress?: unknown };
    failed?: { reason?: unknown };
    suppressed?: { type?: unknown; message?: unknown };
  };
}

/**
 * A delivery event from any source (Resend's webhook, a bounce returned to the SMTP bounce mailbox),
 * in the terms the service applies: what changed, and everything that may name the message.
 */
export interface DeliveryReport {
  provider: string;
  eventId: string;
  type: string;
  change: DeliveryChange | null;
  at: Date;
  /** Our message id, when the event carries it (Resend tags). */
  messageId?: string | undefined;
  /** The reference the email carried (message-ref.ts): its Message-ID, VERP address or header. */
  ref?: MailRef | null;
  /** Ids the provider may know the message by, tried in order. */
  providerMessageIds?: (string | undefined)[];
  /** The organization named by a tag, for mail that is not stored. */
  organizationId?: string | undefined;
  /** The address the event is about, for mail that is not stored. */
  recipient?: string | undefined;
  /** For opens and clicks the provider tracked: the link, and what the provider saw of the reader. */
  engagement?: { url?: string | undefined; userAgent?: string | undefined; ip?: string | undefined } | undefined;
}

/**
 * Soft bounces (mailbox full, greylisting, a server down for a while) suppress an address only when they
 * repeat: this many within the window below. One soft bounce says little; three in a month mean the
 * mailbox is not coming back, and mailbox providers count sending to it against the sender.
 */
export const SOFT_BOUNCE_LIMIT = 3;
export const SOFT_BOUNCE_WINDOW_DAYS = 30;

const PROVIDER = 'resend';
const str = (value: unknown): string | undefined => (typeof value === 'string' && value.length > 0 && value.length <= 500 ? value : undefined);

/** A tag's value, from the object Resend echoes (or, defensively, a list of name/value pairs). */
function tagValue(tags: unknown, name: string): string | undefined {
  if (Array.isArray(tags)) return str((tags as { name?: unknown; value?: unknown }[]).find((t) => t?.name === name)?.value);
  if (tags && typeof tags === 'object') return str((tags as Record<string, unknown>)[name]);
  return undefined;
}

/** A Message-ID as our SMTP adapter records it: in angle brackets. */
const bracketed = (id: string | undefined): string | undefined => (id ? (id.startsWith('<') ? id : `<${id}>`) : undefined);

function changeOf(event: ResendEvent): DeliveryChange | null {
  switch (event.type) {
    case 'email.delivered':
      return { kind: 'delivered' };
    case 'email.delivery_delayed':
      return { kind: 'delivery_delayed' };
    case 'email.opened':
      return { kind: 'opened' };
    case 'email.clicked':
      return { kind: 'clicked' };
    case 'email.complained':
      return { kind: 'complained' };
    case 'email.failed':
      return { kind: 'failed', reason: str(event.data?.failed?.reason) ?? 'failed' };
    case 'email.bounced': {
      const bounce = event.data?.bounce;
      // Resend reports hard bounces as type "Permanent"; "Transient" and "Undetermined" may succeed later.
      const hard = String(bounce?.type ?? '').toLowerCase() === 'permanent';
      return { kind: 'bounced', hard, reason: [str(bounce?.type), str(bounce?.subType), str(bounce?.message)].filter(Boolean).join(': ') || 'bounced' };
    }
    case 'email.suppressed': {
      // Resend did not send because the address is on its own suppression list (it bounced or complained
      // before, possibly for another sender of the account): as final as a hard bounce.
      const suppressed = event.data?.suppressed;
      return { kind: 'bounced', hard: true, reason: ['Suppressed', str(suppressed?.type), str(suppressed?.message)].filter(Boolean).join(': ') };
    }
    default:
      return null;
  }
}

/** A Resend webhook event as a delivery report. */
export function resendReport(eventId: string, raw: unknown): DeliveryReport {
  const event = (raw && typeof raw === 'object' ? raw : {}) as ResendEvent;
  const data = event.data;
  const at = str(event.created_at) && !Number.isNaN(Date.parse(event.created_at as string)) ? new Date(event.created_at as string) : new Date();
  const messageIdHeader = str(data?.message_id);
  return {
    provider: PROVIDER,
    eventId,
    type: str(event.type) ?? 'unknown',
    change: changeOf(event),
    at,
    messageId: tagValue(data?.tags, 'message_id'),
    // Mail relayed by Resend's SMTP carries no tags: its Message-ID holds our reference.
    ref: parseRef(messageIdHeader),
    providerMessageIds: [str(data?.email_id), bracketed(messageIdHeader)],
    organizationId: tagValue(data?.tags, 'organization_id'),
    recipient: Array.isArray(data?.to) ? str(data.to[0]) : str(data?.to),
    engagement: data?.click
      ? { url: str(data.click.link), userAgent: str(data.click.userAgent), ip: str(data.click.ipAddress) }
      : data?.open
        ? { userAgent: str(data.open.userAgent), ip: str(data.open.ipAddress) }
        : undefined,
  };
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

// A contact has a few topics; a report naming more than this is not one we act on in one transaction.
const MAX_TOPIC_CHOICES = 200;

/** The well-formed topic choices of a contact event (others are left out). */
function topicChoices(value: unknown): TopicChoice[] {
  if (!Array.isArray(value)) return [];
  const choices: TopicChoice[] = [];
  for (const item of value.slice(0, MAX_TOPIC_CHOICES) as { id?: unknown; subscription?: unknown }[]) {
    const id = typeof item?.id === 'string' && item.id.length <= 100 ? item.id : null;
    if (id && (item.subscription === 'opt_in' || item.subscription === 'opt_out')) choices.push({ id, subscription: item.subscription });
  }
  return choices;
}

/** Why a change stops mail to the address on its own, before counting soft bounces. */
const immediateCause = (change: DeliveryChange): SuppressionCause | null =>
  change.kind === 'complained' ? 'complaint' : change.kind === 'bounced' && change.hard ? 'hard_bounce' : null;

/**
 * Applies one verified delivery event in one transaction: the event id is recorded first (a redelivery
 * finds it and changes nothing), then the message moves forward, and a hard bounce, a complaint or the
 * third soft bounce within 30 days suppresses the address and updates the subscriber, with outbox events
 * for each change. Events about an organization's unstored system mail (confirmations, preference links)
 * still suppress the address in that organization.
 */
export function createProviderEventService(deps: {
  db: Kysely<DB>;
  providerEventRepository: ProviderEventRepository;
  logger: Logger;
  contactSync?: Pick<ContactSyncService, 'unsubscribedAtResend' | 'topicsChangedAtResend' | 'contactDeletedAtResend'>;
}) {
  const repo = deps.providerEventRepository;

  /**
   * Resend's contact events, when the contact sync mirrors to Resend, each recorded like every event so
   * a redelivery changes nothing:
   * - `contact.updated` with `unsubscribed: true` (Resend's unsubscribe page, its dashboard) unsubscribes
   *   the subscriber here; resubscribed or renamed contacts change nothing here;
   * - `contact.topics.updated` (or topics carried by `contact.updated`) applies the topic choices;
   * - `contact.deleted` stops mirroring that subscriber (who is kept, with their consent, as it was).
   */
  async function applyContactEvent(eventId: string, event: ResendEvent & { data?: { unsubscribed?: unknown; email?: unknown; topics?: unknown } }) {
    return deps.db.transaction().execute(async (trx) => {
      if (!(await repo.claimEvent(trx, PROVIDER, eventId, str(event.type) ?? 'unknown'))) return 'duplicate' as const;
      const email = str(event.data?.email);
      const sync = deps.contactSync;
      if (!email || !sync) return 'ignored' as const;
      const created = new Date(str(event.created_at) ?? Number.NaN);
      const at = Number.isNaN(created.getTime()) ? new Date() : created;
      let applied = false;
      if (event.type === 'contact.deleted') applied = await sync.contactDeletedAtResend(trx, email, eventId);
      if (event.type === 'contact.updated' && event.data?.unsubscribed === true) applied = await sync.unsubscribedAtResend(trx, email, eventId, at);
      const topics = topicChoices(event.data?.topics);
      if ((event.type === 'contact.topics.updated' || event.type === 'contact.updated') && topics.length > 0) {
        applied = (await sync.topicsChangedAtResend(trx, { email, topics, eventId, at })) || applied;
      }
      return applied ? ('applied' as const) : ('ignored' as const);
    });
  }

  async function apply(report: DeliveryReport): Promise<'applied' | 'duplicate' | 'ignored'> {
    const { change } = report;
    return deps.db.transaction().execute(async (trx) => {
      if (!(await repo.claimEvent(trx, report.provider, report.eventId, report.type))) return 'duplicate';
      if (!change) return 'ignored';
      const messageId = report.messageId ?? (report.ref?.kind === 'message' ? report.ref.messageId : undefined);
      const message = await repo.findMessage(trx, { messageId, providerMessageIds: report.providerMessageIds ?? [] });
      if (!message) {
        const organizationId = report.ref?.kind === 'system' ? report.ref.organizationId : report.organizationId;
        const cause = immediateCause(change);
        if (cause && organizationId && report.recipient && (await repo.organizationExists(trx, organizationId))) {
          await repo.linkOrganization(trx, report.provider, report.eventId, organizationId);
          await repo.suppress(trx, { id: null, organization_id: organizationId, to_address: report.recipient, subscriber_id: null }, cause, 'provider');
          return 'applied';
        }
        // Mail of no organization (sign-in links) has nothing to update.
        deps.logger.info({ type: report.type, event_id: report.eventId }, 'provider event for an unknown message');
        return 'ignored';
      }
      await repo.linkEvent(trx, report.provider, report.eventId, message);
      await repo.applyToMessage(trx, message.id, change, report.at);
      let cause = immediateCause(change);
      if (!cause && change.kind === 'bounced') {
        const since = new Date(report.at.getTime() - SOFT_BOUNCE_WINDOW_DAYS * 86_400_000);
        if ((await repo.softBouncesSince(trx, message.organization_id, message.to_address, since)) >= SOFT_BOUNCE_LIMIT) cause = 'soft_bounce';
      }
      if (cause) await repo.suppress(trx, message, cause, 'provider');
      if ((change.kind === 'opened' || change.kind === 'clicked') && message.campaign_id) {
        // Counted once with the event id above; ignored by the statement where our own tracking is on.
        const kind = change.kind === 'opened' ? 'open' : 'click';
        const verdict = classify({
          kind,
          method: 'GET',
          userAgent: report.engagement?.userAgent,
          ip: report.engagement?.ip ?? null,
          sentAt: message.sent_at?.getTime() ?? null,
          at: report.at.getTime(),
        });
        await repo.insertEngagement(trx, {
          organizationId: message.organization_id,
          campaignId: message.campaign_id,
          messageId: message.id,
          kind,
          ...verdict,
          url: kind === 'click' && report.engagement?.url && trackableUrl(report.engagement.url) ? report.engagement.url : null,
          userAgent: report.engagement?.userAgent ?? null,
          source: 'resend',
          at: report.at,
        });
      }
      await repo.insertEvents(trx, message.organization_id, [{ type: `email.${change.kind}`, subjectId: message.id, payload: eventPayload(message, change) }]);
      return 'applied';
    });
  }

  return {
    apply,
    applyResendEvent: (eventId: string, raw: unknown) => {
      const type = (raw as ResendEvent | null)?.type;
      return typeof type === 'string' && type.startsWith('contact.') ? applyContactEvent(eventId, raw as ResendEvent) : apply(resendReport(eventId, raw));
    },
  };
}

export type ProviderEventService = ReturnType<typeof createProviderEventService>;
