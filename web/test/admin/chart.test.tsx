import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
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
      /^Total subscribers per day\. 158 subscribers on .*100 on .*; \d+ joined and 4 unsubscribed in the last 30 days\.$/,
    );
    expect(container.querySelector('path.chart-line')?.getAttribute('d')).toMatch(/^M[\d.]+,[\d.]+( L[\d.]+,[\d.]+){29}$/);
    expect(container.querySelectorAll('rect.chart-bar-down')).toHaveLength(1);
    const rows = screen.getAllByRole('row');
    expect(rows).toHaveLength(31);
    expect(rows[1]!.textContent).toContain('158');
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
