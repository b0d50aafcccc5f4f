import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import CampaignDetailPage from '../../src/admin/pages/campaigns/CampaignDetailPage';
import { answer, calls } from '../support/api';
import { renderSignedIn } from './helpers';

const ID = '01900000-0000-7000-8000-0000000000c1';
const CAMPAIGN = {
  id: ID, name: 'March news', status: 'draft', template_id: '01900000-0000-7000-8000-0000000000t1', segment_id: null, tag_filter: { include_tags: ['news'] },
  subject: null, preheader: null, from_name: null, reply_to: null, scheduled_at: null, started_at: null, completed_at: null, cancelled_at: null,
  targeted_count: 0, last_error: null, created_at: '2026-12-01T10:00:00.000Z', updated_at: '2026-12-01T10:00:00.000Z',
};
const COUNT = { count: 1234, excluded: { unsubscribed_from_topic: 3, unsubscribed: 10, bounced: 1, complained: 0, suppressed: 2, pending_confirmation: 5 } };
const PROGRESS = { status: 'sending', targeted: 1234, queued: 800, sending: 100, sent: 330, failed: 0, skipped: 4, cancelled: 0, last_error: null };

describe('the campaign page', () => {
  it('states the count before sending and asks to confirm it, then follows the progress without a reload', async () => {
    answer(`GET /api/v1/campaigns/${ID}`, { status: 200, body: CAMPAIGN }, { status: 200, body: { ...CAMPAIGN, status: 'sending', targeted_count: 1234 } });
    answer(`GET /api/v1/campaigns/${ID}/recipient-count`, { status: 200, body: COUNT });
    answer(`POST /api/v1/campaigns/${ID}/send`, { status: 200, body: { ...CAMPAIGN, status: 'scheduled' } });
    answer(`GET /api/v1/campaigns/${ID}/progress`, { status: 200, body: PROGRESS });
    answer(`GET /api/v1/campaigns/${ID}/recipients`, { status: 200, body: { items: [], next_cursor: null } });
    renderSignedIn(<CampaignDetailPage params={{ id: ID }} />, { role: 'admin' });
    await waitFor(() => expect(screen.getByText(/subscribers would get it now/).textContent).toContain('1,234'));
    expect(screen.getByText('pending confirmation: 5')).toBeTruthy();

    fireEvent.click(screen.getByRole('button', { name: 'Send now' }));
    const dialog = await screen.findByRole('alertdialog');
    expect(within(dialog).getByText('Send to 1,234 subscribers?')).toBeTruthy();
    fireEvent.click(within(dialog).getByRole('button', { name: 'Send to 1,234' }));
    await waitFor(() => expect(calls.some((c) => c.method === 'POST' && c.path === `/api/v1/campaigns/${ID}/send`)).toBe(true));
    // The page turns into the progress view by itself.
    await waitFor(() => expect(screen.getByText(/330 sent of 1,234/)).toBeTruthy(), { timeout: 5000 });
    expect(screen.getByRole('button', { name: 'Pause' })).toBeTruthy();
  });

  it('offers no actions to a viewer', async () => {
    answer(`GET /api/v1/campaigns/${ID}`, { status: 200, body: CAMPAIGN });
    answer(`GET /api/v1/campaigns/${ID}/recipient-count`, { status: 200, body: COUNT });
    renderSignedIn(<CampaignDetailPage params={{ id: ID }} />, { role: 'viewer' });
    await screen.findByText(/subscribers would get it now/);
    expect(screen.queryByRole('button', { name: 'Send now' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Duplicate' })).toBeNull();
  });
});
