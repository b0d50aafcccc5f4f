import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import CampaignDetailPage from '../../src/admin/pages/campaigns/CampaignDetailPage';
import { answer, calls } from '../support/api';
import { renderSignedIn, tag } from './helpers';

const ID = '01900000-0000-7000-8000-0000000000c1';
const CAMPAIGN = {
  id: ID,
  name: 'March news',
  status: 'draft',
  template_id: '01900000-0000-7000-8000-0000000000t1',
  segment_id: null,
  tag_filter: { include_tags: ['news'] },
  subject: null,
  preheader: null,
  from_name: null,
  reply_to: null,
  scheduled_at: null,
  started_at: null,
  completed_at: null,
  cancelled_at: null,
  targeted_count: 0,
  last_error: null,
  created_at: '2026-12-01T10:00:00.000Z',
  updated_at: '2026-12-01T10:00:00.000Z',
};
const COUNT = { count: 1234, excluded: { unsubscribed_from_topic: 3, unsubscribed: 10, bounced: 1, complained: 0, suppressed: 2, pending_confirmation: 5 } };
const PROGRESS = { status: 'sending', targeted: 1234, queued: 800, sending: 100, sent: 330, failed: 0, skipped: 4, cancelled: 0, last_error: null };

const SEGMENT = '01900000-0000-7000-8000-0000000000s7';
/** What the audience editor of a draft loads: topics, campaigns (for engagement conditions) and segments. */
function audienceOptions() {
  answer('GET /api/v1/tags', { status: 200, body: { items: [tag('News', { id: '01900000-0000-7000-8000-0000000000f1', slug: 'news' })], next_cursor: null } });
  answer('GET /api/v1/campaigns', { status: 200, body: { items: [], next_cursor: null } });
  answer('GET /api/v1/segments', {
    status: 200,
    body: {
      items: [
        {
          id: SEGMENT,
          name: 'Gmail readers',
          description: null,
          filter: { match: 'all', conditions: [] },
          created_at: CAMPAIGN.created_at,
          updated_at: CAMPAIGN.updated_at,
        },
      ],
      next_cursor: null,
    },
  });
}

describe('the campaign page', () => {
  it('shows topic slugs as chosen topics, switches the audience to a saved segment at once and recounts, and sends a test', async () => {
    audienceOptions();
    answer(`GET /api/v1/campaigns/${ID}`, { status: 200, body: CAMPAIGN });
    answer(`GET /api/v1/campaigns/${ID}/recipient-count`, { status: 200, body: COUNT }, { status: 200, body: { ...COUNT, count: 77 } });
    answer(`PATCH /api/v1/campaigns/${ID}`, { status: 200, body: { ...CAMPAIGN, segment_id: SEGMENT, tag_filter: null } });
    answer(`POST /api/v1/campaigns/${ID}/test`, { status: 202, body: { sent: 2 } });
    renderSignedIn(<CampaignDetailPage params={{ id: ID }} />, { role: 'admin' });
    await waitFor(
      () => expect(within(screen.getByRole('group', { name: 'Subscribed to' })).getByRole('checkbox', { name: 'News' })).toHaveProperty('checked', true),
      {
        timeout: 3000,
      },
    );
    expect(within(screen.getByRole('group', { name: 'But not subscribed to' })).getByRole('checkbox', { name: 'News' })).toHaveProperty('checked', false);
    await screen.findByText(/1,234/);

    fireEvent.click(screen.getByRole('radio', { name: 'A saved segment' }));
    await waitFor(() => expect(screen.getByRole('option', { name: 'Gmail readers' })).toBeTruthy());
    fireEvent.change(screen.getByRole('combobox', { name: 'Segment' }), { target: { value: SEGMENT } });
    await waitFor(() => expect(calls.find((c) => c.method === 'PATCH')?.body).toEqual({ segment_id: SEGMENT, tag_filter: null }));
    await waitFor(() => expect(screen.getByText(/subscribers would get it now/).textContent).toContain('77'));

    fireEvent.change(screen.getByLabelText('Send a test to', { exact: false }), { target: { value: 'a@example.com, nope' } });
    fireEvent.click(screen.getByRole('button', { name: 'Send test' }));
    expect(await screen.findByText('"nope" is not an email address.')).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Send a test to', { exact: false }), { target: { value: 'a@example.com, b@example.com' } });
    fireEvent.click(screen.getByRole('button', { name: 'Send test' }));
    await waitFor(() => expect(calls.find((c) => c.path.endsWith('/test'))?.body).toEqual({ emails: ['a@example.com', 'b@example.com'] }));
  });

  it('states the count before sending and asks to confirm it, then follows the progress without a reload', async () => {
    audienceOptions();
    answer(`GET /api/v1/campaigns/${ID}`, { status: 200, body: CAMPAIGN }, { status: 200, body: { ...CAMPAIGN, status: 'sending', targeted_count: 1234 } });
    answer(`GET /api/v1/campaigns/${ID}/recipient-count`, { status: 200, body: COUNT });
    answer(`POST /api/v1/campaigns/${ID}/send`, { status: 200, body: { ...CAMPAIGN, status: 'scheduled' } });
    answer(`GET /api/v1/campaigns/${ID}/progress`, { status: 200, body: PROGRESS });
    answer(`GET /api/v1/campaigns/${ID}/recipients`, { status: 200, body: { items: [], next_cursor: null } });
    renderSignedIn(<CampaignDetailPage params={{ id: ID }} />, { role: 'admin' });
    await waitFor(() => expect(screen.getByText(/subscribers would get it now/).textContent).toContain('1,234'));
    expect(screen.getByText('Not confirmed yet: 5')).toBeTruthy();

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
    audienceOptions();
    answer(`GET /api/v1/campaigns/${ID}`, { status: 200, body: CAMPAIGN });
    answer(`GET /api/v1/campaigns/${ID}/recipient-count`, { status: 200, body: COUNT });
    renderSignedIn(<CampaignDetailPage params={{ id: ID }} />, { role: 'viewer' });
    await screen.findByText(/subscribers would get it now/);
    expect(screen.queryByRole('button', { name: 'Send now' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Duplicate' })).toBeNull();
  });

  it('shows opens and clicks of people and machines apart, as a chart with a table and per link, warns about the bounce rate, and offers the non-openers action', async () => {
    const zero = { human: { total: 0, unique: 0 }, machine: { total: 0, unique: 0 } };
    const ANALYTICS = {
      campaign_id: ID,
      tracking: true,
      sent: 100,
      delivered: 95,
      bounced: 5,
      complained: 0,
      unsubscribed: 2,
      opens: { human: { total: 60, unique: 40 }, machine: { total: 30, unique: 30 } },
      clicks: { human: { total: 12, unique: 9 }, machine: { total: 7, unique: 7 } },
      rates: { open_rate: 40 / 95, click_rate: 9 / 95, bounce_rate: 0.05, complaint_rate: 0, unsubscribe_rate: 0.02 },
      warnings: [{ code: 'bounce_rate_high', message: '5.00 % of the emails bounced; above 2 % mailbox providers start to filter the sender.' }],
      links: [{ url: 'https://example.com/sale', human: { total: 12, unique: 9 }, machine: { total: 7, unique: 7 } }],
      series: [
        {
          at: '2026-12-01T10:00:00.000Z',
          interval: 'hour',
          opens: { ...zero, human: { total: 60, unique: 40 } },
          clicks: { ...zero, human: { total: 12, unique: 9 } },
        },
      ],
    };
    const SENT = { ...CAMPAIGN, status: 'sent', targeted_count: 100 };
    answer(`GET /api/v1/campaigns/${ID}`, { status: 200, body: SENT });
    answer(`GET /api/v1/campaigns/${ID}/progress`, {
      status: 200,
      body: { ...PROGRESS, status: 'sent', targeted: 100, queued: 0, sending: 0, sent: 100, skipped: 0 },
    });
    answer(`GET /api/v1/campaigns/${ID}/stats`, {
      status: 200,
      body: {
        targeted: 100,
        queued: 0,
        sending: 0,
        sent: 100,
        failed: 0,
        skipped: 0,
        cancelled: 0,
        delivered: 95,
        bounced: 5,
        complained: 0,
        opened: 40,
        clicked: 9,
        unsubscribed: 2,
        skipped_by_reason: {},
      },
    });
    answer(`GET /api/v1/campaigns/${ID}/recipients`, { status: 200, body: { items: [], next_cursor: null } });
    answer(`GET /api/v1/campaigns/${ID}/analytics`, { status: 200, body: ANALYTICS });
    answer(`POST /api/v1/campaigns/${ID}/resend`, {
      status: 201,
      body: { ...CAMPAIGN, id: '01900000-0000-7000-8000-0000000000c2', name: 'March news (did not open)' },
    });
    renderSignedIn(<CampaignDetailPage params={{ id: ID }} />, { role: 'admin' });
    const table = await screen.findByRole('table', { name: /rates use people only/ });
    const opens = within(table).getByRole('row', { name: /Opens/ });
    expect(opens.textContent).toContain('40');
    expect(opens.textContent).toContain('30');
    expect(screen.getByText(/5.00 % of the emails bounced/).getAttribute('role')).toBe('alert');
    expect(screen.getByRole('img', { name: /60 human opens and 12 human clicks/ })).toBeTruthy();
    expect(screen.getByText('Show the numbers')).toBeTruthy();
    expect(within(screen.getByRole('table', { name: 'Clicks per link' })).getByText('https://example.com/sale')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Resend to non-openers' }));
    await waitFor(() => expect(calls.find((c) => c.method === 'POST' && c.path === `/api/v1/campaigns/${ID}/resend`)).toBeTruthy());
  });
});
