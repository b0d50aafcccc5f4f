import { useId } from 'react';
import type { ResponseOf } from '../api';
import { formatDate, formatNumber } from '../ui/misc';
import { ChartNumbers } from '../ui/ChartNumbers';

type Series = ResponseOf<'/api/v1/analytics/timeseries', 'get'>;

const WIDTH = 720;
const HEIGHT = 140;
const PAD = { top: 10, right: 10, bottom: 24, left: 48 };
// Above these the mailbox providers start to filter the organization's mail (as in the campaign analytics).
const BOUNCE_WARNING = 0.02;
const COMPLAINT_WARNING = 0.001;

const percent = (value: number) => `${(value * 100).toFixed(value > 0 && value < 0.01 ? 2 : 1)} %`;

/**
 * Emails sent per day as bars, with the share of them delivered, bounced and complained about. The
 * rates of each day come from the timeseries (per email sent that day); the period's rates are those
 * days weighted by their sends, so a quiet day does not count as much as a busy one. Screen readers get
 * the totals and the warnings; everyone can open the table.
 */
export function DeliveryChart({ sends, delivery, bounces, complaints }: { sends: Series; delivery: Series; bounces: Series; complaints: Series }) {
  const titleId = useId();
  const days = sends.points.map((p, i) => ({
    at: p.at as string,
    sends: p.value,
    delivery: delivery.points[i]?.value ?? 0,
    bounces: bounces.points[i]?.value ?? 0,
    complaints: complaints.points[i]?.value ?? 0,
  }));
  if (days.length === 0) return null;
  const sent = days.reduce((n, d) => n + d.sends, 0);
  const overall = (key: 'delivery' | 'bounces' | 'complaints') => (sent > 0 ? days.reduce((n, d) => n + d[key] * d.sends, 0) / sent : 0);
  const rates = { delivery: overall('delivery'), bounces: overall('bounces'), complaints: overall('complaints') };
  const warnings = [
    rates.bounces > BOUNCE_WARNING ? `The bounce rate is above ${percent(BOUNCE_WARNING)}.` : null,
    rates.complaints > COMPLAINT_WARNING ? `The complaint rate is above ${percent(COMPLAINT_WARNING)}.` : null,
  ].filter((w): w is string => w !== null);
  const summary =
    sent === 0
      ? `No emails sent in the last ${days.length} days.`
      : `${formatNumber(sent)} emails sent in the last ${days.length} days: ${percent(rates.delivery)} delivered, ${percent(rates.bounces)} bounced, ${percent(rates.complaints)} marked as spam.`;

  const max = Math.max(1, ...days.map((d) => d.sends));
  const innerW = WIDTH - PAD.left - PAD.right;
  const innerH = HEIGHT - PAD.top - PAD.bottom;
  const slot = innerW / days.length;
  const barW = Math.max(1, slot - 2);
  const y = (value: number) => PAD.top + innerH - (value / max) * innerH;
  return (
    <figure className="chart" aria-labelledby={titleId}>
      <figcaption id={titleId} className="muted">
        {summary}
      </figcaption>
      {warnings.length > 0 ? (
        <p className="banner banner--warn" role="status">
          {warnings.join(' ')} Mailbox providers may start filtering your mail: check your lists and your signup forms.
        </p>
      ) : null}
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={`Emails sent per day. ${summary} ${warnings.join(' ')}`.trim()} className="chart-svg">
        <line x1={PAD.left} x2={WIDTH - PAD.right} y1={y(0)} y2={y(0)} className="chart-grid" />
        <text x={PAD.left - 8} y={y(max) + 4} textAnchor="end" className="chart-label">
          {formatNumber(max)}
        </text>
        <text x={PAD.left - 8} y={y(0) + 4} textAnchor="end" className="chart-label">
          0
        </text>
        {days.map((d, i) =>
          d.sends > 0 ? (
            <rect key={d.at} x={PAD.left + i * slot + 1} width={barW} y={y(d.sends)} height={y(0) - y(d.sends)} className="chart-bar-sent" />
          ) : null,
        )}
      </svg>
      <p className="chart-legend">
        <span>
          <span className="legend-swatch legend-swatch--total" aria-hidden="true" /> Sent
        </span>
      </p>
      <ChartNumbers
        rows={[...days].reverse()}
        rowKey={(d) => d.at}
        columns={[
          { label: 'Day', cell: (d) => formatDate(d.at) },
          { label: 'Sent', numeric: true, cell: (d) => formatNumber(d.sends) },
          { label: 'Delivered', numeric: true, cell: (d) => (d.sends > 0 ? percent(d.delivery) : '—') },
          { label: 'Bounced', numeric: true, cell: (d) => (d.sends > 0 ? percent(d.bounces) : '—') },
          { label: 'Spam complaints', numeric: true, cell: (d) => (d.sends > 0 ? percent(d.complaints) : '—') },
        ]}
      />
    </figure>
  );
}
