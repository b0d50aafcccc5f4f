import { notFound } from '../../lib/errors.ts';
import { SUBSCRIBER_STATUSES, type SubscriberStatus } from '../subscribers/subscribers.schemas.ts';
import type { StatsRepository } from './stats.repository.ts';

const DAY_MS = 86_400_000;
const LATEST_EVENTS = 10;

const utcDay = (time: number): string => new Date(time).toISOString().slice(0, 10);

export function createStatsService(deps: { statsRepository: StatsRepository; now?: () => number }) {
  const { statsRepository: repo } = deps;
  const now = deps.now ?? Date.now;

  return {
    /** What the dashboard's first page shows: subscribers by status, sending this month, latest consent changes. */
    async overview(organizationId: string) {
      const [byStatus, usage, events] = await Promise.all([
        repo.countByStatus(organizationId),
        repo.emailUsage(organizationId),
        repo.latestConsentEvents(organizationId, LATEST_EVENTS),
      ]);
      if (!usage) throw notFound('organization');
      const counts = Object.fromEntries(SUBSCRIBER_STATUSES.map((s) => [s, byStatus[s] ?? 0])) as Record<SubscriberStatus, number>;
      return {
        subscribers: { total: SUBSCRIBER_STATUSES.reduce((sum, s) => sum + counts[s], 0), by_status: counts },
        emails: {
          plan: usage.plan,
          sent_this_month: usage.emails_sent_this_month,
          monthly_limit: usage.max_emails_per_month,
          period_start: utcDay(new Date(usage.usage_period_start).getTime()),
        },
        latest_consent_events: events.map((e) => ({
          id: e.id,
          action: e.action,
          source: e.source,
          subscriber: { id: e.subscriber_id, email: e.subscriber_email },
          tag: e.tag_id ? { id: e.tag_id, name: e.tag_name ?? '', slug: e.tag_slug ?? '' } : null,
          details: (e.details ?? {}) as Record<string, unknown>,
          created_at: e.created_at,
        })),
      };
    },

    /**
     * One point per UTC day for the last `days` days (today included): subscribers created and
     * unsubscribed that day, and the number of subscribers that existed at the end of it (today's total
     * minus those created later, so deletions show as a lower line, never as negative growth).
     */
    async growth(organizationId: string, days: number) {
      const today = Date.UTC(new Date(now()).getUTCFullYear(), new Date(now()).getUTCMonth(), new Date(now()).getUTCDate());
      const since = new Date(today - (days - 1) * DAY_MS);
      const [byStatus, created, unsubscribed] = await Promise.all([
        repo.countByStatus(organizationId),
        repo.createdPerDay(organizationId, since),
        repo.unsubscribedPerDay(organizationId, since),
      ]);
      let total = Object.values(byStatus).reduce((sum, n) => sum + (n ?? 0), 0);
      const points = [];
      for (let i = days - 1; i >= 0; i -= 1) {
        const day = utcDay(since.getTime() + i * DAY_MS);
        const createdThatDay = created.get(day) ?? 0;
        points.push({ date: day, subscribed: createdThatDay, unsubscribed: unsubscribed.get(day) ?? 0, total: Math.max(0, total) });
        total -= createdThatDay;
      }
      return { days, points: points.reverse() };
    },
  };
}

export type StatsService = ReturnType<typeof createStatsService>;
