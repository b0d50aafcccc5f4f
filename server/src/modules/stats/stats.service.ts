import { notFound } from '../../lib/errors.ts';
import { SUBSCRIBER_STATUSES, type SubscriberStatus } from '../subscribers/index.ts';
import type { Entitlements } from '../entitlements/index.ts';
import type { StatsRepository } from './stats.repository.ts';

const DAY_MS = 86_400_000;
const LATEST_EVENTS = 10;

const utcDay = (time: number): string => new Date(time).toISOString().slice(0, 10);

/** Where counts of large organizations are kept for a short while (Redis in the app). */
export interface CountsCache {
  get: (organizationId: string) => Promise<Record<SubscriberStatus, number> | null>;
  set: (organizationId: string, counts: Record<SubscriberStatus, number>, ttlSeconds: number) => Promise<void>;
}

// Counting a million subscribers by status reads a million index entries (~0.2 s); below this size it is
// cheap enough to do on every request, above it the counts may be up to COUNTS_TTL_SECONDS old.
export const CACHE_COUNTS_ABOVE = 100_000;
export const COUNTS_TTL_SECONDS = 60;

export function createStatsService(deps: {
  statsRepository: StatsRepository;
  cache: CountsCache;
  entitlements: Pick<Entitlements, 'limits'>;
  now?: () => number;
  cacheAbove?: number;
}) {
  const { statsRepository: repo, cache } = deps;
  const now = deps.now ?? Date.now;
  const cacheAbove = deps.cacheAbove ?? CACHE_COUNTS_ABOVE;

  /** Subscribers per status, every status present: exact for most organizations, briefly cached for the largest. */
  async function counts(organizationId: string): Promise<Record<SubscriberStatus, number>> {
    const cached = await cache.get(organizationId).catch(() => null);
    if (cached) return cached;
    const byStatus = await repo.countByStatus(organizationId);
    const result = Object.fromEntries(SUBSCRIBER_STATUSES.map((s) => [s, byStatus[s] ?? 0])) as Record<SubscriberStatus, number>;
    if (SUBSCRIBER_STATUSES.reduce((sum, s) => sum + result[s], 0) > cacheAbove) {
      await cache.set(organizationId, result, COUNTS_TTL_SECONDS).catch(() => undefined);
    }
    return result;
  }

  return {
    /** What the dashboard's first page shows: subscribers by status, sending this month, latest consent changes. */
    async overview(organizationId: string) {
      const [byStatus, usage, events] = await Promise.all([
        counts(organizationId),
        deps.entitlements.limits(organizationId),
        repo.latestConsentEvents(organizationId, LATEST_EVENTS),
      ]);
      if (!usage) throw notFound('organization');
      return {
        subscribers: { total: SUBSCRIBER_STATUSES.reduce((sum, s) => sum + byStatus[s], 0), by_status: byStatus },
        emails: {
          plan: usage.plan,
          sent_this_month: usage.emails_sent_this_month,
          monthly_limit: usage.limits.emails_per_month,
          // The usage month in UTC (a stored earlier month counts as zero, see entitlements).
          period_start: utcDay(Date.UTC(new Date(now()).getUTCFullYear(), new Date(now()).getUTCMonth(), 1)),
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
      const window = Array.from({ length: days }, (_, i) => {
        const from = new Date(since.getTime() + i * DAY_MS);
        return { day: utcDay(from.getTime()), from, to: new Date(from.getTime() + DAY_MS) };
      });
      const [byStatus, created, unsubscribed] = await Promise.all([
        counts(organizationId),
        repo.createdPerDay(organizationId, window),
        repo.unsubscribedPerDay(organizationId, since),
      ]);
      let total = Object.values(byStatus).reduce((sum, n) => sum + n, 0);
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
