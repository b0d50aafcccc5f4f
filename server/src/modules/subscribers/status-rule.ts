import type { CodedErrorDetail } from '../../lib/errors.ts';
import type { SubscriberStatus } from './subscribers.schemas.ts';

/**
 * Where a status change is asked for. `api` is PATCH /subscribers/{id}; `batch` the batch upsert;
 * `import` a CSV import; `confirmation` the click on a double opt-in link. The public form never changes
 * an existing subscriber's status: it sends a confirmation link instead.
 */
export type StatusChannel = 'api' | 'batch' | 'import' | 'confirmation';

export interface StatusChangeRequest {
  channel: StatusChannel;
  to: SubscriberStatus;
  /** Why the caller may make the address active again (e.g. "re-subscribed by phone on 2026-12-01"). */
  consentReason?: string | null | undefined;
  /** For a confirmation: when its link was issued. An unsubscribe after that is not undone by the click. */
  linkIssuedAt?: Date;
}

export type StatusDecision =
  | { kind: 'unchanged' }
  | { kind: 'change'; from: SubscriberStatus; to: SubscriberStatus; details: Record<string, unknown> }
  | { kind: 'refused'; message: string; detail: CodedErrorDetail };

const BLOCKED = new Set<SubscriberStatus>(['bounced', 'complained']);

/**
 * The one rule for changing an existing subscriber's status, used by every channel:
 *
 * - Nothing becomes `active` without recorded consent: an explicit reason from an admin or API caller
 *   (`consent_reason`), or a confirmed opt-in. A confirmation link does not undo an unsubscribe made
 *   after the link was sent.
 * - A bounced or complained address changes only by an explicit PATCH to `active` with a consent
 *   reason; never through a batch, an import or a confirmation link.
 * - Moving away from `active` (to unsubscribed or pending) needs no reason: it only sends less mail.
 *
 * Every change the rule allows is written by the caller as a `status_changed` history row with `details`.
 */
export function decideStatusChange(current: { status: SubscriberStatus; unsubscribed_at?: Date | null }, request: StatusChangeRequest): StatusDecision {
  const from = current.status;
  const { to, channel } = request;
  if (from === to) return { kind: 'unchanged' };
  const reason = request.consentReason?.trim() || null;
  const refuse = (field: string, code: string, message: string): StatusDecision => ({ kind: 'refused', message, detail: { field, code, message } });

  if (BLOCKED.has(from)) {
    if (to !== 'active' || channel !== 'api') {
      return refuse('status', 'not_allowed', `a ${from} address keeps its status; only an explicit change to active with a consent_reason can reactivate it`);
    }
    if (!reason) return refuse('consent_reason', 'required', `is required to reactivate a ${from} address`);
    return { kind: 'change', from, to, details: { from, to, via: channel, consent_reason: reason } };
  }
  if (to === 'active') {
    if (channel === 'confirmation') {
      const unsubscribedLater = from === 'unsubscribed' && current.unsubscribed_at && request.linkIssuedAt && current.unsubscribed_at > request.linkIssuedAt;
      if (unsubscribedLater) return refuse('token', 'not_allowed', 'the address unsubscribed after this link was sent');
      return { kind: 'change', from, to, details: { from, to, via: 'double_opt_in' } };
    }
    if (!reason)
      return refuse('consent_reason', 'required', `is required to make a${from === 'unsubscribed' ? 'n unsubscribed' : ' pending'} subscriber active`);
    return { kind: 'change', from, to, details: { from, to, via: channel, consent_reason: reason } };
  }
  if (channel === 'confirmation') return { kind: 'unchanged' };
  return { kind: 'change', from, to, details: { from, to, via: channel, ...(reason ? { consent_reason: reason } : {}) } };
}
