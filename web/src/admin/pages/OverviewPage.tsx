import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, SUBSCRIBER_STATUSES, unwrap, type Overview } from '../api';
import { keys } from '../keys';
import { Link } from '../router';
import { useOrganization } from '../session';
import { Badge, formatDate, formatDateTime, formatNumber } from '../ui/misc';
import { Page, Section } from '../ui/Page';
import { EmptyState, QueryView } from '../ui/States';
import { DeliveryChart } from './DeliveryChart';
import { EngagementChart } from './EngagementChart';
import { GrowthChart } from './GrowthChart';
import { describeEvent } from './subscribers/events';

const PERIODS = [7, 30, 90] as const;
type Period = (typeof PERIODS)[number];

/** One organization metric per day over the last `days` days (GET /api/v1/analytics/timeseries). */
function daily(metric: 'opens' | 'clicks' | 'sends' | 'delivery_rate' | 'bounce_rate' | 'complaint_rate', days: Period) {
  const from = new Date(Date.now() - days * 86_400_000).toISOString();
  return unwrap(api.GET('/api/v1/analytics/timeseries', { params: { query: { metric, from, interval: 'day' } } }));
}

function EmailUsage({ emails }: { emails: Overview['emails'] }) {
  const limit = emails.monthly_limit;
  const share = limit ? Math.min(1, emails.sent_this_month / limit) : 0;
  return (
    <div>
      <p className="stat-number">{formatNumber(emails.sent_this_month)}</p>
      <p className="muted">
        {limit === null ? `No monthly limit on the ${emails.plan} plan` : `of ${formatNumber(limit)} on the ${emails.plan} plan (${Math.round(share * 100)}%)`}{' '}
        since {formatDate(emails.period_start)}
      </p>
      {limit !== null ? (
        <progress
          className={`usage${share >= 0.9 ? ' usage--high' : ''}`}
          max={limit}
          value={Math.min(emails.sent_this_month, limit)}
          aria-label="Emails sent this month against the plan limit"
        />
      ) : null}
    </div>
  );
}

export default function OverviewPage() {
  const { organizationId, organization } = useOrganization();
  const [days, setDays] = useState<Period>(30);
  const overview = useQuery({ queryKey: keys.overview(organizationId), queryFn: () => unwrap(api.GET('/api/v1/stats/overview')) });
  const growth = useQuery({
    queryKey: keys.growth(organizationId, days),
    queryFn: () => unwrap(api.GET('/api/v1/stats/growth', { params: { query: { days } } })),
    placeholderData: (previous) => previous,
  });
  const engagement = useQuery({
    queryKey: [...keys.growth(organizationId, days), 'engagement'],
    queryFn: async () => {
      const [opens, clicks] = await Promise.all((['opens', 'clicks'] as const).map((metric) => daily(metric, days)));
      return { opens: opens!, clicks: clicks! };
    },
    placeholderData: (previous) => previous,
  });
  const delivery = useQuery({
    queryKey: [...keys.growth(organizationId, days), 'delivery'],
    queryFn: async () => {
      const [sends, delivered, bounces, complaints] = await Promise.all(
        (['sends', 'delivery_rate', 'bounce_rate', 'complaint_rate'] as const).map((metric) => daily(metric, days)),
      );
      return { sends: sends!, delivery: delivered!, bounces: bounces!, complaints: complaints! };
    },
    placeholderData: (previous) => previous,
  });

  return (
    <Page title="Overview" description={organization.name}>
      <QueryView query={overview} loadingLabel="Loading the overview…">
        {(data) => (
          <>
            <section aria-labelledby="by-status-title">
              <h2 id="by-status-title" className="sf-visually-hidden">
                Subscribers by status
              </h2>
              <ul className="stat-grid">
                <li className="stat">
                  <span className="stat-label">All subscribers</span>
                  <span className="stat-number">{formatNumber(data.subscribers.total)}</span>
                </li>
                {SUBSCRIBER_STATUSES.map((status) => (
                  <li key={status} className="stat">
                    <span className="stat-label">
                      <Badge status={status} />
                    </span>
                    <Link
                      className="stat-number"
                      to={`/subscribers?status=${status}`}
                      aria-label={`${formatNumber(data.subscribers.by_status[status])} ${status} subscribers`}
                    >
                      {formatNumber(data.subscribers.by_status[status])}
                    </Link>
                  </li>
                ))}
              </ul>
            </section>
            <div className="grid-2">
              <Section title="Emails this month">
                <EmailUsage emails={data.emails} />
              </Section>
              <Section title="Latest consent events">
                {data.latest_consent_events.length === 0 ? (
                  <EmptyState title="No consent events yet">They appear as people subscribe, confirm and unsubscribe.</EmptyState>
                ) : (
                  <ol className="timeline timeline--compact">
                    {data.latest_consent_events.map((event) => (
                      <li key={event.id}>
                        {event.subscriber.email ? (
                          <Link to={`/subscribers/${event.subscriber.id}`}>{event.subscriber.email}</Link>
                        ) : (
                          <span className="muted">A deleted subscriber</span>
                        )}
                        <span>: {describeEvent(event)}</span>
                        <span className="muted small">
                          {' '}
                          · {formatDateTime(event.created_at)} · {event.source}
                        </span>
                      </li>
                    ))}
                  </ol>
                )}
              </Section>
            </div>
          </>
        )}
      </QueryView>
      <Section
        title="Growth"
        actions={
          <div role="group" aria-label="Period of all charts" className="segmented">
            {PERIODS.map((d) => (
              <button key={d} type="button" aria-pressed={days === d} onClick={() => setDays(d)}>
                {d} days
              </button>
            ))}
          </div>
        }
      >
        <QueryView query={growth} loadingLabel="Loading growth…">
          {(data) => <GrowthChart growth={data} />}
        </QueryView>
      </Section>
      <Section title="Opens and clicks">
        <QueryView query={engagement} loadingLabel="Loading opens and clicks…">
          {(data) => <EngagementChart opens={data.opens} clicks={data.clicks} />}
        </QueryView>
      </Section>
      <Section title="Sending and delivery">
        <QueryView query={delivery} loadingLabel="Loading sends and delivery…">
          {(data) => <DeliveryChart {...data} />}
        </QueryView>
      </Section>
    </Page>
  );
}
