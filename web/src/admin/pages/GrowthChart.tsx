import { useId } from 'react';
import type { Growth } from '../api';
import { formatDate, formatNumber } from '../ui/misc';
import { ChartNumbers } from '../ui/ChartNumbers';

const WIDTH = 720;
const HEIGHT = 220;
const PAD = { top: 12, right: 12, bottom: 28, left: 56 };
const BARS_HEIGHT = 90;

// The top of the scale: a round number at or above the largest value, at least 2 so the middle tick is whole.
function niceMax(value: number): number {
  if (value <= 2) return 2;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  const step = [magnitude >= 10 ? 1 : 2, 2, 4, 6, 8, 10].find((s) => s * magnitude >= value)!;
  return step * magnitude;
}

/** A net change with its sign: +3, −2, 0. */
const signed = (value: number) => (value > 0 ? `+${formatNumber(value)}` : value < 0 ? `−${formatNumber(-value)}` : '0');

const short = (date: string) => new Date(`${date}T00:00:00Z`).toLocaleDateString(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' });

/**
 * Subscribers over time as two hand-drawn SVG charts: the running total as an area, and the daily
 * subscriptions (up) and unsubscriptions (down) as bars; the table adds each day's net growth. Screen readers get a summary, and everyone
 * can open the numbers as a table.
 */
export function GrowthChart({ growth }: { growth: Growth }) {
  const titleId = useId();
  const points = growth.points;
  if (points.length === 0) return null;
  const first = points[0]!;
  const last = points[points.length - 1]!;
  const innerW = WIDTH - PAD.left - PAD.right;
  const innerH = HEIGHT - PAD.top - PAD.bottom;
  const maxTotal = niceMax(Math.max(...points.map((p) => p.total)));
  const x = (i: number) => PAD.left + (points.length === 1 ? innerW / 2 : (i / (points.length - 1)) * innerW);
  const y = (value: number) => PAD.top + innerH - (value / maxTotal) * innerH;
  const line = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(i).toFixed(1)},${y(p.total).toFixed(1)}`).join(' ');
  const area = `${line} L${x(points.length - 1).toFixed(1)},${y(0)} L${x(0).toFixed(1)},${y(0)} Z`;
  const ticks = [0, 0.5, 1].map((f) => f * maxTotal);
  const labelEvery = Math.ceil(points.length / 6);

  const maxDaily = niceMax(Math.max(1, ...points.map((p) => Math.max(p.subscribed, p.unsubscribed))));
  const mid = BARS_HEIGHT / 2;
  const barW = Math.max(1, innerW / points.length - 2);
  const barX = (i: number) => PAD.left + (i / points.length) * innerW + 1;
  const totalNew = points.reduce((n, p) => n + p.subscribed, 0);
  const totalGone = points.reduce((n, p) => n + p.unsubscribed, 0);
  const summary = `${formatNumber(last.total)} subscribers on ${formatDate(last.date)}, ${formatNumber(first.total)} on ${formatDate(first.date)}; ${formatNumber(totalNew)} joined and ${formatNumber(totalGone)} unsubscribed in the last ${growth.days} days (net ${signed(totalNew - totalGone)}).`;

  return (
    <figure className="chart" aria-labelledby={titleId}>
      <figcaption id={titleId} className="muted">
        {summary}
      </figcaption>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={`Total subscribers per day. ${summary}`} className="chart-svg">
        {ticks.map((t) => (
          <g key={t}>
            <line x1={PAD.left} x2={WIDTH - PAD.right} y1={y(t)} y2={y(t)} className="chart-grid" />
            <text x={PAD.left - 8} y={y(t) + 4} textAnchor="end" className="chart-label">
              {formatNumber(Math.round(t))}
            </text>
          </g>
        ))}
        <path d={area} className="chart-area" />
        <path d={line} className="chart-line" />
        {points.map((p, i) =>
          (i % labelEvery === 0 && points.length - 1 - i >= labelEvery / 2) || i === points.length - 1 ? (
            <text key={p.date} x={x(i)} y={HEIGHT - 8} textAnchor={i === 0 ? 'start' : i === points.length - 1 ? 'end' : 'middle'} className="chart-label">
              {short(p.date)}
            </text>
          ) : null,
        )}
      </svg>
      <svg
        viewBox={`0 0 ${WIDTH} ${BARS_HEIGHT}`}
        role="img"
        aria-label={`Daily subscriptions and unsubscriptions: ${formatNumber(totalNew)} joined, ${formatNumber(totalGone)} left.`}
        className="chart-svg chart-svg--bars"
      >
        <line x1={PAD.left} x2={WIDTH - PAD.right} y1={mid} y2={mid} className="chart-grid" />
        <text x={PAD.left - 8} y={14} textAnchor="end" className="chart-label">
          +{formatNumber(maxDaily)}
        </text>
        <text x={PAD.left - 8} y={BARS_HEIGHT - 4} textAnchor="end" className="chart-label">
          −{formatNumber(maxDaily)}
        </text>
        {points.map((p, i) => (
          <g key={p.date}>
            {p.subscribed > 0 ? (
              <rect
                x={barX(i)}
                width={barW}
                y={mid - (p.subscribed / maxDaily) * (mid - 4)}
                height={(p.subscribed / maxDaily) * (mid - 4)}
                className="chart-bar-up"
              />
            ) : null}
            {p.unsubscribed > 0 ? <rect x={barX(i)} width={barW} y={mid} height={(p.unsubscribed / maxDaily) * (mid - 4)} className="chart-bar-down" /> : null}
          </g>
        ))}
      </svg>
      <p className="chart-legend">
        <span>
          <span className="legend-swatch legend-swatch--total" aria-hidden="true" /> Total
        </span>
        <span>
          <span className="legend-swatch legend-swatch--up" aria-hidden="true" /> Joined
        </span>
        <span>
          <span className="legend-swatch legend-swatch--down" aria-hidden="true" /> Unsubscribed
        </span>
      </p>
      <ChartNumbers
        rows={[...points].reverse()}
        rowKey={(p) => p.date}
        columns={[
          { label: 'Day', cell: (p) => formatDate(p.date) },
          { label: 'Joined', numeric: true, cell: (p) => formatNumber(p.subscribed) },
          { label: 'Unsubscribed', numeric: true, cell: (p) => formatNumber(p.unsubscribed) },
          { label: 'Net', numeric: true, cell: (p) => signed(p.subscribed - p.unsubscribed) },
          { label: 'Total', numeric: true, cell: (p) => formatNumber(p.total) },
        ]}
      />
    </figure>
  );
}
