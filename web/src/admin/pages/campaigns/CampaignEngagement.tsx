import { useId } from 'react';
import type { ResponseOf } from '../../api';
import { formatDateTime, formatNumber } from '../../ui/misc';
import { ChartNumbers } from '../../ui/ChartNumbers';

type Analytics = ResponseOf<'/api/v1/campaigns/{id}/analytics', 'get'>;
type HumanMachine = Analytics['opens'];

const WIDTH = 720;
const HEIGHT = 160;
const PAD = { top: 10, right: 10, bottom: 24, left: 48 };
const percent = (value: number) => `${(value * 100).toFixed(value > 0 && value < 0.01 ? 2 : 1)} %`;

function Row({ label, counts }: { label: string; counts: HumanMachine }) {
  return (
    <tr>
      <th scope="row">{label}</th>
      <td className="num">{formatNumber(counts.human.unique)}</td>
      <td className="num">{formatNumber(counts.human.total)}</td>
      <td className="num">{formatNumber(counts.machine.unique)}</td>
      <td className="num">{formatNumber(counts.machine.total)}</td>
    </tr>
  );
}

/** Human opens and clicks per point of the series (hourly for 48 hours, then daily), as bars and as a table. */
function SeriesChart({ series }: { series: Analytics['series'] }) {
  const titleId = useId();
  if (series.length === 0) return <p className="muted">No opens or clicks yet.</p>;
  const max = Math.max(1, ...series.map((p) => Math.max(p.opens.human.total, p.clicks.human.total)));
  const innerW = WIDTH - PAD.left - PAD.right;
  const innerH = HEIGHT - PAD.top - PAD.bottom;
  const slot = innerW / series.length;
  const barW = Math.max(1, slot / 2 - 1);
  const y = (value: number) => PAD.top + innerH - (value / max) * innerH;
  const opens = series.reduce((n, p) => n + p.opens.human.total, 0);
  const clicks = series.reduce((n, p) => n + p.clicks.human.total, 0);
  const summary = `${formatNumber(opens)} human opens and ${formatNumber(clicks)} human clicks from ${formatDateTime(series[0]!.at as string)} to ${formatDateTime(series.at(-1)!.at as string)}.`;
  return (
    <figure className="chart" aria-labelledby={titleId}>
      <figcaption id={titleId} className="muted">
        {summary} By hour for the first 48 hours, then by day.
      </figcaption>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={`Human opens and clicks over time. ${summary}`} className="chart-svg">
        <line x1={PAD.left} x2={WIDTH - PAD.right} y1={y(0)} y2={y(0)} className="chart-grid" />
        <text x={PAD.left - 8} y={y(max) + 4} textAnchor="end" className="chart-label">
          {formatNumber(max)}
        </text>
        <text x={PAD.left - 8} y={y(0) + 4} textAnchor="end" className="chart-label">
          0
        </text>
        {series.map((p, i) => (
          <g key={`${p.interval}-${String(p.at)}`}>
            <rect x={PAD.left + i * slot} width={barW} y={y(p.opens.human.total)} height={y(0) - y(p.opens.human.total)} className="chart-bar-up" />
            <rect
              x={PAD.left + i * slot + barW + 1}
              width={barW}
              y={y(p.clicks.human.total)}
              height={y(0) - y(p.clicks.human.total)}
              className="chart-bar-down"
            />
          </g>
        ))}
      </svg>
      <p className="chart-legend">
        <span>
          <span className="legend-swatch legend-swatch--up" aria-hidden="true" /> Opens (human)
        </span>
        <span>
          <span className="legend-swatch legend-swatch--down" aria-hidden="true" /> Clicks (human)
        </span>
      </p>
      <ChartNumbers
        rows={series}
        rowKey={(p) => `${p.interval}-${String(p.at)}`}
        columns={[
          { label: 'From', cell: (p) => formatDateTime(p.at as string) },
          { label: 'Per', cell: (p) => p.interval },
          { label: 'Opens (human)', numeric: true, cell: (p) => formatNumber(p.opens.human.total) },
          { label: 'Opens (machine)', numeric: true, cell: (p) => formatNumber(p.opens.machine.total) },
          { label: 'Clicks (human)', numeric: true, cell: (p) => formatNumber(p.clicks.human.total) },
          { label: 'Clicks (machine)', numeric: true, cell: (p) => formatNumber(p.clicks.machine.total) },
        ]}
      />
    </figure>
  );
}

/** A campaign's engagement: human and machine apart, rates with warnings, the series and the links. */
export function CampaignEngagement({ analytics }: { analytics: Analytics }) {
  const { rates } = analytics;
  return (
    <>
      {analytics.warnings.map((w) => (
        <p key={w.code} className="sf-form-error" role="alert">
          {w.message}
        </p>
      ))}
      {!analytics.tracking ? <p className="muted">Open and click tracking is off for this campaign.</p> : null}
      <ul className="inline-list">
        <li>
          Opened: <strong>{percent(rates.open_rate)}</strong>
        </li>
        <li>
          Clicked: <strong>{percent(rates.click_rate)}</strong>
        </li>
        <li>
          Bounced: <strong>{percent(rates.bounce_rate)}</strong>
        </li>
        <li>
          Complained: <strong>{percent(rates.complaint_rate)}</strong>
        </li>
        <li>
          Unsubscribed: <strong>{formatNumber(analytics.unsubscribed)}</strong> ({percent(rates.unsubscribe_rate)})
        </li>
      </ul>
      <table className="data-table">
        <caption className="muted small">Machines are mail-provider proxies, security scanners and scripts; rates use people only.</caption>
        <thead>
          <tr>
            <th scope="col" />
            <th scope="col" className="num">
              People, unique
            </th>
            <th scope="col" className="num">
              People, total
            </th>
            <th scope="col" className="num">
              Machines, unique
            </th>
            <th scope="col" className="num">
              Machines, total
            </th>
          </tr>
        </thead>
        <tbody>
          <Row label="Opens" counts={analytics.opens} />
          <Row label="Clicks" counts={analytics.clicks} />
        </tbody>
      </table>
      <SeriesChart series={analytics.series} />
      {analytics.links.length > 0 ? (
        <table className="data-table">
          <caption className="muted small">Clicks per link</caption>
          <thead>
            <tr>
              <th scope="col">Link</th>
              <th scope="col" className="num">
                People, unique
              </th>
              <th scope="col" className="num">
                People, total
              </th>
              <th scope="col" className="num">
                Machines, total
              </th>
            </tr>
          </thead>
          <tbody>
            {analytics.links.map((l) => (
              <tr key={l.url}>
                <td className="break">{l.url}</td>
                <td className="num">{formatNumber(l.human.unique)}</td>
                <td className="num">{formatNumber(l.human.total)}</td>
                <td className="num">{formatNumber(l.machine.total)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </>
  );
}
