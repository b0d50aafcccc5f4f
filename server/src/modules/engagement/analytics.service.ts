import { conflict, unprocessable } from '../../lib/errors.ts';
import type { CampaignService } from '../campaigns/index.ts';
import type { SegmentService } from '../segments/index.ts';
import type { AnalyticsRepository, Interval, OrgMetric } from './analytics.repository.ts';

/** Above these, mailbox providers start to filter the sender (Google's and Yahoo's sender rules). */
export const BOUNCE_WARNING_RATE = 0.02;
export const COMPLAINT_WARNING_RATE = 0.001;
const LINKS_SHOWN = 100;
const MAX_POINTS = 2000;
const SECONDS: Record<Interval, number> = { hour: 3600, day: 86_400, week: 7 * 86_400 };

const rate = (part: number, whole: number) => (whole > 0 ? part / whole : 0);

/**
 * Campaign and organization analytics, read from the hourly rollups (and the campaign's delivery
 * counts): human numbers first, machine numbers beside them, never mixed.
 */
export function createAnalyticsService(deps: {
  analyticsRepository: AnalyticsRepository;
  campaigns: Pick<CampaignService, 'get' | 'stats' | 'create'>;
  segments: Pick<SegmentService, 'create'>;
}) {
  const repo = deps.analyticsRepository;

  return {
    async campaign(organizationId: string, campaignId: string) {
      const campaign = await deps.campaigns.get(organizationId, campaignId);
      const [stats, totals, links] = await Promise.all([
        deps.campaigns.stats(organizationId, campaignId),
        repo.totals(organizationId, campaignId),
        repo.links(organizationId, campaignId, LINKS_SHOWN),
      ]);
      const series = await repo.series(organizationId, campaignId, campaign.started_at ? new Date(campaign.started_at) : new Date(0));
      const sent = stats.sent;
      const bounceRate = rate(stats.bounced, sent);
      const complaintRate = rate(stats.complained, sent);
      const warnings = [
        ...(bounceRate > BOUNCE_WARNING_RATE
          ? [
              {
                code: 'bounce_rate_high',
                message: `${(bounceRate * 100).toFixed(2)} % of the emails bounced; above 2 % mailbox providers start to filter the sender. Remove addresses that bounce and check how the list was collected.`,
              },
            ]
          : []),
        ...(complaintRate > COMPLAINT_WARNING_RATE
          ? [
              {
                code: 'complaint_rate_high',
                message: `${(complaintRate * 100).toFixed(2)} % of the recipients marked the email as spam; above 0.1 % mailbox providers start to filter the sender. Send only to people who asked for this mail.`,
              },
            ]
          : []),
      ];
      return {
        campaign_id: campaignId,
        tracking: campaign.tracking,
        sent,
        delivered: stats.delivered,
        bounced: stats.bounced,
        complained: stats.complained,
        unsubscribed: stats.unsubscribed,
        opens: totals.opens,
        clicks: totals.clicks,
        rates: {
          open_rate: rate(totals.opens.human.unique, stats.delivered || sent),
          click_rate: rate(totals.clicks.human.unique, stats.delivered || sent),
          bounce_rate: bounceRate,
          complaint_rate: complaintRate,
          unsubscribe_rate: rate(stats.unsubscribed, sent),
        },
        warnings,
        links,
        series,
      };
    },

    /**
     * "Resend to non-openers / non-clickers": a draft copy of a sent campaign whose audience is a new
     * segment of exactly the people who received it and did not open (or click) it, by human numbers.
     * The segment is evaluated when the new campaign starts, so someone who opens in the meantime is
     * left out then.
     */
    async resendTo(organizationId: string, campaignId: string, who: 'non_openers' | 'non_clickers') {
      const source = await deps.campaigns.get(organizationId, campaignId);
      if (source.status !== 'sent') throw conflict('campaign_not_sent', 'Only a sent campaign can be sent again to those who did not open or click it');
      const label = who === 'non_openers' ? 'Did not open' : 'Did not click';
      const segment = await deps.segments.create(organizationId, {
        name: `${label}: ${source.name}`.slice(0, 200),
        description: `Received the campaign ${source.id} and did not ${who === 'non_openers' ? 'open' : 'click'} it (people, not machines)`,
        filter: {
          match: 'all',
          conditions: [
            { field: 'received', op: 'in', value: [source.id] },
            { field: who === 'non_openers' ? 'opened' : 'clicked', op: 'not_in', value: [source.id] },
          ],
        },
      });
      return deps.campaigns.create(organizationId, {
        name: `${source.name} (${label.toLowerCase()})`.slice(0, 200),
        template_id: source.template_id,
        segment_id: segment.id,
        tag_filter: null,
        subject: source.subject,
        preheader: source.preheader,
        from_name: source.from_name,
        reply_to: source.reply_to,
        tracking: source.tracking,
      });
    },

    async timeseries(organizationId: string, query: { metric: OrgMetric; from?: string; to?: string; interval?: Interval }) {
      const interval = query.interval ?? 'day';
      const to = query.to ? new Date(query.to) : new Date();
      const from = query.from ? new Date(query.from) : new Date(to.getTime() - 30 * 86_400_000);
      if (!(from < to)) throw unprocessable('invalid_range', '"from" must be before "to"', [{ field: 'from', message: 'is not before to' }]);
      const points = Math.ceil((to.getTime() - from.getTime()) / 1000 / SECONDS[interval]);
      if (points > MAX_POINTS) {
        throw unprocessable('range_too_long', `At most ${MAX_POINTS} points: choose a longer interval or a shorter range`, [
          { field: 'interval', message: `${points} ${interval}s requested` },
        ]);
      }
      const rows = await repo.orgSeries(organizationId, query.metric, from, to, interval);
      const engagement = query.metric === 'opens' || query.metric === 'clicks';
      return {
        metric: query.metric,
        interval,
        from: from.toISOString(),
        to: to.toISOString(),
        points: rows.map((r) => ({ at: r.at, value: Number(r.value), ...(engagement ? { machine: Number(r.machine ?? 0) } : {}) })),
      };
    },
  };
}

export type AnalyticsService = ReturnType<typeof createAnalyticsService>;
