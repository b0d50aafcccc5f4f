import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { GrowthChart } from '../../src/admin/pages/GrowthChart';

const points = Array.from({ length: 30 }, (_, i) => ({
  date: new Date(Date.UTC(2026, 9, 25 + i)).toISOString().slice(0, 10),
  subscribed: i === 29 ? 12 : i % 3, unsubscribed: i === 10 ? 4 : 0, total: 100 + i * 2,
}));

describe('the growth chart', () => {
  it('draws the total and the daily bars in SVG, summarised for screen readers, with the numbers as a table', () => {
    const { container } = render(<GrowthChart growth={{ days: 30, points }} />);
    const images = screen.getAllByRole('img');
    expect(images).toHaveLength(2);
    expect(images[0]!.getAttribute('aria-label')).toMatch(/^Total subscribers per day\. 158 subscribers on .*100 on .*; \d+ joined and 4 unsubscribed in the last 30 days\.$/);
    expect(container.querySelector('path.chart-line')?.getAttribute('d')).toMatch(/^M[\d.]+,[\d.]+( L[\d.]+,[\d.]+){29}$/);
    expect(container.querySelectorAll('rect.chart-bar-down')).toHaveLength(1);
    const rows = screen.getAllByRole('row');
    expect(rows).toHaveLength(31);
    expect(rows[1]!.textContent).toContain('158');
  });
});
