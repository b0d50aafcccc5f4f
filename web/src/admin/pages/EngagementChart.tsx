import { useId } from 'react';
import type { ResponseOf } from '../api';
import { formatDate, formatNumber } from '../ui/misc';
import { ChartNumbers } from '../ui/ChartNumbers';

type Series = ResponseOf<'/api/v1/analytics/timeseries', 'get'>;

const WIDTH = 720;
const HEIGHT = 140;
const PAD = { top: 10, right: 10, bottom: 24, left: 48 };

/**
 * Opens and clicks of people per day over the period, as bars (machines are left out of the bars and
 * shown in the table beside them). Screen readers get the totals; everyone can open the table.
 */
export function EngagementChart({ opens, clicks }: { opens: Series; clicks: Series }) {
  const titleId = useId();
  const days = opens.points.map((p, i) => ({
    at: p.at as string,
    opens: p.value,
    opensMachine: p.machine ?? 0,
    clicks: clicks.points[i]?.value ?? 0,
    clicksMachine: clicks.points[i]?.machine ?? 0,
  }));
  if (days.length === 0) return null;
  const max = Math.max(1, ...days.map((d) => Math.max(d.opens, d.clicks)));
  const innerW = WIDTH - PAD.left - PAD.right;
  const innerH = HEIGHT - PAD.top - PAD.bottom;
  const slot = innerW / days.length;
  const barW = Math.max(1, slot / 2 - 1);
  const y = (value: number) => PAD.top + innerH - (value / max) * innerH;
  const total = (key: 'opens' | 'clicks' | 'opensMachine' | 'clicksMachine') => days.reduce((n, d) => n + d[key], 0);
  const summary = `${formatNumber(total('opens'))} opens and ${formatNumber(total('clicks'))} clicks by people in the last ${days.length} days; machines (mail proxies, scanners) added ${formatNumber(total('opensMachine'))} opens and ${formatNumber(total('clicksMachine'))} clicks.`;
  return (
    <figure className="chart" aria-labelledby={titleId}>
      <figcaption id={titleId} className="muted">
        {summary}
      </figcaption>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={`Opens and clicks by people per day. ${summary}`} className="chart-svg">
        <line x1={PAD.left} x2={WIDTH - PAD.right} y1={y(0)} y2={y(0)} className="chart-grid" />
        <text x={PAD.left - 8} y={y(max) + 4} textAnchor="end" className="chart-label">
          {formatNumber(max)}
        </text>
        <text x={PAD.left - 8} y={y(0) + 4} textAnchor="end" className="chart-label">
          0
        </text>
        {days.map((d, i) => (
          <g key={d.at}>
            <rect x={PAD.left + i * slot} width={barW} y={y(d.opens)} height={y(0) - y(d.opens)} className="chart-bar-up" />
            <rect x={PAD.left + i * slot + barW + 1} width={barW} y={y(d.clicks)} height={y(0) - y(d.clicks)} className="chart-bar-down" />
          </g>
        ))}
      </svg>
      <p className="chart-legend">
        <span>
          <span className="legend-swatch legend-swatch--up" aria-hidden="true" /> Opens
        </span>
        <span>
          <span className="legend-swatch legend-swatch--down" aria-hidden="true" /> Clicks
        </span>
      </p>
      <ChartNumbers
        rows={[...days].reverse()}
        rowKey={(d) => d.at}
        columns={[
          { label: 'Day', cell: (d) => formatDate(d.at) },
          { label: 'Opens (people)', numeric: true, cell: (d) => formatNumber(d.opens) },
          { label: 'Opens (machines)', numeric: true, cell: (d) => formatNumber(d.opensMachine) },
          { label: 'Clicks (people)', numeric: true, cell: (d) => formatNumber(d.clicks) },
          { label: 'Clicks (machines)', numeric: true, cell: (d) => formatNumber(d.clicksMachine) },
        ]}
      />
    </figure>
  );
}
