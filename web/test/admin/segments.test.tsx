import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import AutomationDetailPage from '../../src/admin/pages/automations/AutomationDetailPage';
import SegmentEditorPage from '../../src/admin/pages/segments/SegmentEditorPage';
import SegmentsPage from '../../src/admin/pages/segments/SegmentsPage';
import { answer, apiError, calls } from '../support/api';
import { renderSignedIn, tag } from './helpers';

const ID = '01900000-0000-7000-8000-0000000000s1';
const NEWS = tag('News', { id: '01900000-0000-7000-8000-0000000000f1' });
const page = (items: unknown[]) => ({ status: 200, body: { items, next_cursor: null } });
const SEGMENT = {
  id: ID,
  name: 'Gmail readers',
  description: null,
  filter: { match: 'all', conditions: [{ field: 'email', op: 'domain', value: 'gmail.com' }] },
  created_at: '2026-12-01T10:00:00.000Z',
  updated_at: '2026-12-01T10:00:00.000Z',
};

const liveCount = () => document.querySelector('.live-count')?.textContent ?? '';

function options() {
  answer('GET /api/v1/tags', page([NEWS]));
  answer('GET /api/v1/campaigns', page([]));
}

describe('the segments page', () => {
  it('says what a segment is when there is none', async () => {
    answer('GET /api/v1/segments', page([]));
    const { unmount } = renderSignedIn(<SegmentsPage />, { role: 'admin' });
    expect(await screen.findByText('No segments yet')).toBeTruthy();
    expect(screen.getByRole('button', { name: 'New segment' })).toBeTruthy();
    unmount();
  });

  it('lists saved segments with their number of conditions, read-only for a viewer', async () => {
    answer('GET /api/v1/segments', page([SEGMENT]));
    renderSignedIn(<SegmentsPage />, { role: 'viewer' });
    const row = (await screen.findByRole('link', { name: 'Gmail readers' })).closest('tr')!;
    expect(within(row).getByText('1')).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'New segment' })).toBeNull();
  });

  it('counts an unsaved filter as it is built, once it is complete, and creates the segment', async () => {
    options();
    answer('POST /api/v1/segments/preview-count', (call) => ({ status: 200, body: { count: JSON.stringify(call.body).includes('gmail.com') ? 42 : 7 } }));
    answer('POST /api/v1/segments', { status: 201, body: SEGMENT });
    answer(`GET /api/v1/segments/${ID}`, { status: 200, body: SEGMENT });
    answer(`GET /api/v1/segments/${ID}/members`, { status: 200, body: { items: [] } });
    renderSignedIn(<SegmentEditorPage params={{}} />, { role: 'admin' });
    // The first condition (status is active) is complete: counted.
    await waitFor(() => expect(liveCount()).toContain('7 subscribers match now.'), { timeout: 3000 });
    fireEvent.click(screen.getByRole('button', { name: 'Add condition' }));
    const second = screen.getByRole('group', { name: 'Condition 2' });
    fireEvent.change(within(second).getByLabelText('Field'), { target: { value: 'email' } });
    // Half-filled: no call, and a word about it.
    await waitFor(() => expect(screen.getByText('Complete the conditions to see how many subscribers match.')).toBeTruthy());
    fireEvent.change(within(second).getByLabelText('Domain'), { target: { value: 'gmail.com' } });
    await waitFor(() => expect(liveCount()).toContain('42 subscribers match now.'), { timeout: 3000 });
    const previews = calls.filter((c) => c.path === '/api/v1/segments/preview-count');
    expect(previews.every((c) => !JSON.stringify(c.body).includes('"value":""'))).toBe(true);

    fireEvent.click(screen.getByRole('button', { name: 'Create segment' }));
    expect(await screen.findByText('Fill this in.')).toBeTruthy();
    expect(calls.some((c) => c.method === 'POST' && c.path === '/api/v1/segments')).toBe(false);
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'Gmail readers' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create segment' }));
    await waitFor(() =>
      expect(calls.find((c) => c.method === 'POST' && c.path === '/api/v1/segments')?.body).toEqual({
        name: 'Gmail readers',
        description: null,
        filter: {
          match: 'all',
          conditions: [
            { field: 'status', op: 'eq', value: 'active' },
            { field: 'email', op: 'domain', value: 'gmail.com' },
          ],
        },
      }),
    );
  });

  it("shows the server's objection beside the condition it names, in the dashboard's words for the code", async () => {
    options();
    answer(`GET /api/v1/segments/${ID}`, {
      status: 200,
      body: { ...SEGMENT, filter: { match: 'all', conditions: [{ field: 'tags', op: 'any', value: [NEWS.id] }] } },
    });
    answer(`GET /api/v1/segments/${ID}/members`, {
      status: 200,
      body: { items: [{ id: ID, email: 'ada@gmail.com', status: 'active', first_name: null, last_name: null, created_at: SEGMENT.created_at }] },
    });
    answer('POST /api/v1/segments/preview-count', apiError(422, 'tag_not_found', [{ field: 'filter.conditions.0.value', message: 'no tag "x"' }]));
    renderSignedIn(<SegmentEditorPage params={{ id: ID }} />, { role: 'admin' });
    expect(await screen.findByText('ada@gmail.com')).toBeTruthy();
    await waitFor(() => expect(screen.getByText('A topic in the conditions no longer exists. Choose another one.')).toBeTruthy(), { timeout: 3000 });
    expect(within(screen.getByRole('group', { name: 'Condition 1' })).getByText('no tag "x"')).toBeTruthy();
  });

  it('deletes a segment after asking', async () => {
    options();
    answer(`GET /api/v1/segments/${ID}`, { status: 200, body: SEGMENT });
    answer(`GET /api/v1/segments/${ID}/members`, { status: 200, body: { items: [] } });
    answer('POST /api/v1/segments/preview-count', { status: 200, body: { count: 3 } });
    answer(`DELETE /api/v1/segments/${ID}`, { status: 204 });
    renderSignedIn(<SegmentEditorPage params={{ id: ID }} />, { role: 'admin' });
    fireEvent.click(await screen.findByRole('button', { name: 'Delete' }));
    const dialog = await screen.findByRole('alertdialog');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Delete segment' }));
    await waitFor(() => expect(calls.some((c) => c.method === 'DELETE')).toBe(true));
  });
});

describe('the automation condition step', () => {
  it('edits the full segment filter with the same builder and saves it', async () => {
    const AUTOMATION = '01900000-0000-7000-8000-0000000000a1';
    const automation = {
      id: AUTOMATION,
      name: 'Welcome',
      event: 'subscriber.created',
      tag_id: null,
      template_id: null,
      delay_seconds: 0,
      conditions: null,
      steps: [{ type: 'condition', filter: { match: 'all', conditions: [{ field: 'tags', op: 'none', value: [NEWS.id] }] } }],
      reentry: 'never',
      is_active: false,
      version: 1,
      created_at: SEGMENT.created_at,
      updated_at: SEGMENT.updated_at,
    };
    options();
    answer(`GET /api/v1/triggers/${AUTOMATION}`, { status: 200, body: automation });
    answer(`GET /api/v1/triggers/${AUTOMATION}/steps`, { status: 200, body: { version: 1, runs: { active: 0, completed: 0, exited: 0 }, steps: [] } });
    answer('GET /api/v1/templates', page([]));
    answer(`PATCH /api/v1/triggers/${AUTOMATION}`, { status: 200, body: automation });
    renderSignedIn(<AutomationDetailPage params={{ id: AUTOMATION }} />, { role: 'admin' });
    const builder = await screen.findByRole('group', { name: 'Continue only for subscribers who match' });
    expect(within(builder).getByRole('checkbox', { name: 'News' })).toHaveProperty('checked', true);
    fireEvent.click(within(builder).getByRole('button', { name: 'Add condition' }));
    const second = within(builder).getByRole('group', { name: 'Condition 2' });
    fireEvent.change(within(second).getByLabelText('Field'), { target: { value: 'opened' } });
    fireEvent.change(within(second).getByLabelText('Days'), { target: { value: '' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(await screen.findByText('Enter a whole number of days from 1 to 36500.')).toBeTruthy();
    expect(calls.some((c) => c.method === 'PATCH')).toBe(false);
    fireEvent.change(within(second).getByLabelText('Days'), { target: { value: '14' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() =>
      expect((calls.find((c) => c.method === 'PATCH')?.body as { steps: unknown[] }).steps[0]).toEqual({
        type: 'condition',
        filter: {
          match: 'all',
          conditions: [
            { field: 'tags', op: 'none', value: [NEWS.id] },
            { field: 'opened', op: 'within_days', value: 14 },
          ],
        },
      }),
    );
  });
});
