import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import CampaignDetailPage from '../../src/admin/pages/campaigns/CampaignDetailPage';
import { answer, calls } from '../support/api';
import { renderSignedIn, tag } from './helpers';

const ID = '01900000-0000-7000-8000-0000000000a1';
const CAMPAIGN = {
  id: ID,
  name: 'April news',
  status: 'draft',
  template_id: '01900000-0000-7000-8000-0000000000t1',
  segment_id: null,
  tag_filter: { include_tags: ['news'] },
  subject: null,
  preheader: null,
  from_name: null,
  reply_to: null,
  tracking: true,
  ab_test: null,
  scheduled_at: null,
  started_at: null,
  completed_at: null,
  cancelled_at: null,
  resumes_at: null,
  targeted_count: 0,
  last_error: null,
  created_at: '2026-12-01T10:00:00.000Z',
  updated_at: '2026-12-01T10:00:00.000Z',
};
const OTHER_TEMPLATE = '01900000-0000-7000-8000-0000000000t2';
const AB_TEST = {
  variants: [{ subject: 'Spring sale' }, { subject: 'New in April' }],
  test_share: 20,
  metric: 'human_unique_clicks',
  wait_hours: 4,
  winner: 'manual',
};
const COUNT = { count: 1000, excluded: { unsubscribed_from_topic: 0, unsubscribed: 0, bounced: 0, complained: 0, suppressed: 0, pending_confirmation: 0 } };

function audienceOptions() {
  answer('GET /api/v1/tags', { status: 200, body: { items: [tag('News', { id: '01900000-0000-7000-8000-0000000000f1', slug: 'news' })], next_cursor: null } });
  answer('GET /api/v1/campaigns', { status: 200, body: { items: [], next_cursor: null } });
  answer('GET /api/v1/segments', { status: 200, body: { items: [], next_cursor: null } });
}

const template = (id: string, name: string, category: 'marketing' | 'transactional') => ({
  id,
  name,
  slug: name.toLowerCase().replace(/\W+/g, '-'),
  category,
  status: 'active',
  subject: name,
  description: null,
  variables_schema: null,
  version: 1,
  created_at: CAMPAIGN.created_at,
  updated_at: CAMPAIGN.updated_at,
});

const variant = (index: number, subject: string, counts: Partial<Record<string, number>>) => ({
  variant: index,
  subject,
  from_name: null,
  template_id: CAMPAIGN.template_id,
  preheader: null,
  recipients: 100,
  sent: 100,
  delivered: 98,
  human_unique_opens: 0,
  machine_unique_opens: 0,
  human_unique_clicks: 0,
  machine_unique_clicks: 0,
  human_open_rate: 0,
  human_click_rate: 0,
  ...counts,
});

describe('the A/B test of a campaign', () => {
  it('sets up variants, share, metric, wait and winner in the composer and saves them with the campaign', async () => {
    audienceOptions();
    answer(`GET /api/v1/campaigns/${ID}`, { status: 200, body: CAMPAIGN });
    answer(`GET /api/v1/campaigns/${ID}/recipient-count`, { status: 200, body: COUNT });
    answer(`PATCH /api/v1/campaigns/${ID}`, { status: 200, body: { ...CAMPAIGN, ab_test: AB_TEST } });
    answer('GET /api/v1/templates', {
      status: 200,
      body: {
        items: [template(OTHER_TEMPLATE, 'Spring layout', 'marketing'), template('01900000-0000-7000-8000-0000000000t9', 'Receipt', 'transactional')],
        next_cursor: null,
      },
    });
    renderSignedIn(<CampaignDetailPage params={{ id: ID }} />, { role: 'admin' });
    fireEvent.click(await screen.findByRole('checkbox', { name: /Test variants before sending to everyone/ }));
    // Only marketing templates can be a variant's content.
    const templateB = screen.getByRole('combobox', { name: 'Template of variant B' });
    await waitFor(() => expect(within(templateB).getByRole('option', { name: 'Spring layout' })).toBeTruthy());
    expect(within(templateB).queryByRole('option', { name: 'Receipt' })).toBeNull();
    fireEvent.change(templateB, { target: { value: OTHER_TEMPLATE } });
    fireEvent.change(screen.getByLabelText('Subject of variant A', { exact: false }), { target: { value: 'Spring sale' } });
    fireEvent.change(screen.getByLabelText('Subject of variant B', { exact: false }), { target: { value: 'New in April' } });
    fireEvent.click(screen.getByRole('button', { name: 'Add a variant' }));
    expect(screen.getByRole('group', { name: 'Variant C' })).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Remove variant C' }));
    expect(screen.queryByRole('group', { name: 'Variant C' })).toBeNull();
    fireEvent.change(screen.getByRole('combobox', { name: 'Winner' }), { target: { value: 'manual' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save A/B test' }));
    await waitFor(() =>
      expect(calls.find((c) => c.method === 'PATCH')?.body).toEqual({
        ab_test: { ...AB_TEST, variants: [{ subject: 'Spring sale' }, { subject: 'New in April', template_id: OTHER_TEMPLATE }] },
      }),
    );
  });

  it('shows the refusal of identical variants in plain words', async () => {
    audienceOptions();
    answer(`GET /api/v1/campaigns/${ID}`, { status: 200, body: { ...CAMPAIGN, ab_test: AB_TEST } });
    answer(`GET /api/v1/campaigns/${ID}/recipient-count`, { status: 200, body: COUNT });
    answer(`PATCH /api/v1/campaigns/${ID}`, {
      status: 422,
      body: {
        error: {
          code: 'ab_variants_identical',
          message: 'Variants 1 and 2 are the same: change the subject, sender name, template or preheader of one',
          details: [{ field: 'ab_test.variants.1', message: 'is the same as variant 1' }],
        },
      },
    });
    renderSignedIn(<CampaignDetailPage params={{ id: ID }} />, { role: 'admin' });
    fireEvent.change(await screen.findByLabelText('Subject of variant B', { exact: false }), { target: { value: 'Spring sale' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save A/B test' }));
    expect(await screen.findByText(/Variants 1 and 2 are the same/)).toBeTruthy();
  });

  it('shows the results per variant while waiting for the winner and lets an admin choose it', async () => {
    const SENDING = { ...CAMPAIGN, status: 'sending', ab_test: AB_TEST, targeted_count: 1000 };
    const RESULTS = {
      state: 'waiting',
      metric: 'human_unique_clicks',
      winner_mode: 'manual',
      decide_at: '2026-12-01T14:00:00.000Z',
      winner: null,
      winner_chosen_at: null,
      winner_chosen_by: null,
      leader: 1,
      variants: [
        variant(0, 'Spring sale', { human_unique_clicks: 4, machine_unique_clicks: 30, human_click_rate: 0.04 }),
        variant(1, 'New in April', { human_unique_clicks: 9, human_click_rate: 0.09 }),
      ],
      rest: { recipients: 800, held: 800 },
    };
    answer(`GET /api/v1/campaigns/${ID}`, { status: 200, body: SENDING });
    answer(`GET /api/v1/campaigns/${ID}/progress`, {
      status: 200,
      body: {
        status: 'sending',
        targeted: 1000,
        queued: 0,
        sending: 0,
        sent: 200,
        failed: 0,
        skipped: 0,
        cancelled: 0,
        held: 800,
        last_error: null,
        resumes_at: null,
      },
    });
    answer(`GET /api/v1/campaigns/${ID}/recipients`, { status: 200, body: { items: [], next_cursor: null } });
    answer(`GET /api/v1/campaigns/${ID}/analytics`, { status: 500, body: { error: { code: 'internal', message: 'x' } } });
    answer(`GET /api/v1/campaigns/${ID}/ab-test`, { status: 200, body: RESULTS });
    answer(`POST /api/v1/campaigns/${ID}/ab-test/winner`, {
      status: 200,
      body: { ...RESULTS, state: 'decided', winner: 1, winner_chosen_by: 'manual', winner_chosen_at: '2026-12-01T12:00:00.000Z' },
    });
    renderSignedIn(<CampaignDetailPage params={{ id: ID }} />, { role: 'admin' });
    const table = await screen.findByRole('table', { name: 'Results per variant' });
    const b = within(table).getByRole('row', { name: /New in April/ });
    expect(b.textContent).toContain('(leading)');
    expect(b.textContent).toContain('9.0 %');
    expect(within(table).getByRole('row', { name: /Spring sale/ }).textContent).toContain('4 / 30');
    expect(screen.getByText(/choose the winner below/)).toBeTruthy();
    expect(screen.getByText(/800 waiting for the winner/)).toBeTruthy();
    fireEvent.click(within(b).getByRole('button', { name: 'Choose B as winner' }));
    const dialog = await screen.findByRole('alertdialog');
    expect(within(dialog).getByText(/800 subscribers get variant B/)).toBeTruthy();
    fireEvent.click(within(dialog).getByRole('button', { name: 'Choose variant B' }));
    await waitFor(() => expect(calls.find((c) => c.method === 'POST' && c.path.endsWith('/ab-test/winner'))?.body).toEqual({ variant: 1 }));
  });

  it('offers no winner button to a viewer', async () => {
    const SENDING = { ...CAMPAIGN, status: 'sending', ab_test: { ...AB_TEST, winner: 'auto' }, targeted_count: 1000 };
    answer(`GET /api/v1/campaigns/${ID}`, { status: 200, body: SENDING });
    answer(`GET /api/v1/campaigns/${ID}/progress`, {
      status: 200,
      body: {
        status: 'sending',
        targeted: 1000,
        queued: 0,
        sending: 0,
        sent: 200,
        failed: 0,
        skipped: 0,
        cancelled: 0,
        held: 800,
        last_error: null,
        resumes_at: null,
      },
    });
    answer(`GET /api/v1/campaigns/${ID}/recipients`, { status: 200, body: { items: [], next_cursor: null } });
    answer(`GET /api/v1/campaigns/${ID}/analytics`, { status: 500, body: { error: { code: 'internal', message: 'x' } } });
    answer(`GET /api/v1/campaigns/${ID}/ab-test`, {
      status: 200,
      body: {
        state: 'testing',
        metric: 'human_unique_opens',
        winner_mode: 'auto',
        decide_at: '2026-12-01T14:00:00.000Z',
        winner: null,
        winner_chosen_at: null,
        winner_chosen_by: null,
        leader: null,
        variants: [variant(0, 'Spring sale', {}), variant(1, 'New in April', {})],
        rest: { recipients: 800, held: 800 },
      },
    });
    renderSignedIn(<CampaignDetailPage params={{ id: ID }} />, { role: 'viewer' });
    expect(await screen.findByText(/Waiting for the winner until/)).toBeTruthy();
    expect(screen.queryByRole('button', { name: /as winner/ })).toBeNull();
  });
});
