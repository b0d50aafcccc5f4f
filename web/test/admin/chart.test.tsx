import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { DeliveryChart } from '../../src/admin/pages/DeliveryChart';
import { EngagementChart } from '../../src/admin/pages/EngagementChart';
import { GrowthChart } from '../../src/admin/pages/GrowthChart';

const points = Array.from({ length: 30 }, (_, i) => ({
  date: new Date(Date.UTC(2026, 9, 25 + i)).toISOString().slice(0, 10),
  subscribed: i === 29 ? 12 : i % 3,
  unsubscribed: i === 10 ? 4 : 0,
  total: 100 + i * 2,
}));

describe('the growth chart', () => {
  it('draws the total and the daily bars in SVG, summarised for screen readers, with the numbers as a table', () => {
    const { container } = render(<GrowthChart growth={{ days: 30, points }} />);
    const images = screen.getAllByRole('img');
    expect(images).toHaveLength(2);
    expect(images[0]!.getAttribute('aria-label')).toMatch(
      /^Total subscribers per day\. 158 subscribers on .*100 on .*; \d+ joined and 4 unsubscribed in the last 30 days \(net \+\d+\)\.$/,
    );
    expect(container.querySelector('path.chart-line')?.getAttribute('d')).toMatch(/^M[\d.]+,[\d.]+( L[\d.]+,[\d.]+){29}$/);
    expect(container.querySelectorAll('rect.chart-bar-down')).toHaveLength(1);
    const rows = screen.getAllByRole('row');
    expect(rows).toHaveLength(31);
    expect(rows[1]!.textContent).toContain('158');
  });

  it("shows each day's net growth and the period's in the summary", () => {
    render(<GrowthChart growth={{ days: 30, points }} />);
    expect(screen.getAllByRole('img')[0]!.getAttribute('aria-label')).toMatch(/joined and 4 unsubscribed in the last 30 days \(net \+\d+\)\.$/);
    const header = screen.getAllByRole('columnheader').map((h) => h.textContent);
    expect(header).toEqual(['Day', 'Joined', 'Unsubscribed', 'Net', 'Total']);
    const rows = screen.getAllByRole('row');
    // Day 10 (the 20th row from the top, newest first): 1 joined, 4 unsubscribed.
    expect([...rows[20]!.querySelectorAll('th, td')].map((c) => c.textContent)).toEqual([expect.any(String), '1', '4', '−3', '120']);
    // Each row is named by its day.
    expect(screen.getAllByRole('rowheader')).toHaveLength(30);
  });
});

describe('the sending and delivery chart', () => {
  const at = (i: number) => new Date(Date.UTC(2026, 10, 1 + i)).toISOString();
  const series = (metric: string, value: (i: number) => number) => ({
    metric: metric as 'sends',
    interval: 'day' as const,
    from: at(0),
    to: at(7),
    points: Array.from({ length: 7 }, (_, i) => ({ at: at(i), value: value(i) })),
  });

  it('draws the sends per day, weighs the rates by sends, warns above 2 % bounces or 0.1 % complaints, and has the numbers as a table', () => {
    const { container } = render(
      <DeliveryChart
        sends={series('sends', (i) => (i === 2 ? 0 : i === 6 ? 300 : 100))}
        delivery={series('delivery_rate', (i) => (i === 6 ? 0.9 : i === 2 ? 0 : 1))}
        bounces={series('bounce_rate', (i) => (i === 6 ? 0.1 : 0))}
        complaints={series('complaint_rate', () => 0)}
      />,
    );
    // 800 sent; 30 of them bounced (3.75 %), 770 delivered (96.25 %): above the bounce threshold.
    expect(screen.getByRole('img').getAttribute('aria-label')).toBe(
      'Emails sent per day. 800 emails sent in the last 7 days: 96.3 % delivered, 3.8 % bounced, 0.0 % marked as spam. The bounce rate is above 2.0 %.',
    );
    expect(screen.getByRole('status').textContent).toMatch(/bounce rate is above 2.0 %/);
    expect(container.querySelectorAll('rect.chart-bar-sent')).toHaveLength(6);
    const rows = screen.getAllByRole('row');
    expect(rows).toHaveLength(8);
    expect([...rows[1]!.querySelectorAll('td')].map((c) => c.textContent)).toEqual(['300', '90.0 %', '10.0 %', '0.0 %']);
    expect([...rows[5]!.querySelectorAll('td')].map((c) => c.textContent)).toEqual(['0', '—', '—', '—']);
  });

  it('says so when nothing was sent, without warnings', () => {
    render(
      <DeliveryChart
        sends={series('sends', () => 0)}
        delivery={series('delivery_rate', () => 0)}
        bounces={series('bounce_rate', () => 0)}
        complaints={series('complaint_rate', () => 0)}
      />,
    );
    expect(screen.getByRole('img').getAttribute('aria-label')).toBe('Emails sent per day. No emails sent in the last 7 days.');
    expect(screen.queryByRole('status')).toBeNull();
  });
});

describe('the opens and clicks chart', () => {
  it("draws people's opens and clicks per day, names the machines in the summary, and has the numbers as a table", () => {
    const at = (i: number) => new Date(Date.UTC(2026, 10, 1 + i)).toISOString();
    const series = (metric: 'opens' | 'clicks', value: (i: number) => number, machine: number) => ({
      metric,
      interval: 'day' as const,
      from: at(0),
      to: at(7),
      points: Array.from({ length: 7 }, (_, i) => ({ at: at(i), value: value(i), machine })),
    });
    const { container } = render(<EngagementChart opens={series('opens', (i) => i * 2, 3)} clicks={series('clicks', (i) => (i === 6 ? 5 : 0), 1)} />);
    expect(screen.getByRole('img').getAttribute('aria-label')).toBe(
      'Opens and clicks by people per day. 42 opens and 5 clicks by people in the last 7 days; machines (mail proxies, scanners) added 21 opens and 7 clicks.',
    );
    expect(container.querySelectorAll('rect.chart-bar-up')).toHaveLength(7);
    const rows = screen.getAllByRole('row');
    expect(rows).toHaveLength(8);
    expect(rows[1]!.textContent).toContain('12');
  });
});
