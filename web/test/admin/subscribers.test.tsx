import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { navigate } from '../../src/admin/router';
import SubscriberFormPage from '../../src/admin/pages/subscribers/SubscriberFormPage';
import SubscribersPage from '../../src/admin/pages/subscribers/SubscribersPage';
import { answer, apiError, calls } from '../support/api';
import { ORG_A, renderSignedIn, subscriber, tag } from './helpers';

const page = (items: unknown[], next: string | null = null) => ({ status: 200, body: { items, next_cursor: next } });
const TAGS = { status: 200, body: { items: [tag('Weekly digest')], next_cursor: null } };
const listCalls = () => calls.filter((c) => c.method === 'GET' && c.path === '/api/v1/subscribers');

afterEach(() => window.history.replaceState(null, '', '/'));

describe('the subscribers page', () => {
  it('asks the server for 50 rows with the filters in the address, and pages with the cursor it returned', async () => {
    navigate('/subscribers?status=active&tag=weekly-digest');
    answer('GET /api/v1/tags', TAGS);
    const withTotal = (total: number, exact: boolean, ...rest: Parameters<typeof page>) => ({
      status: 200,
      body: { ...page(...rest).body, total, total_exact: exact },
    });
    answer('GET /api/v1/subscribers', withTotal(1234567, false, [subscriber(1), subscriber(2)], 'CURSOR-2'), withTotal(3, true, [subscriber(3)]));
    renderSignedIn(<SubscribersPage />);
    expect(await screen.findByRole('link', { name: 'person1@example.com' })).toBeTruthy();
    expect(listCalls()[0]!.query).toEqual({ limit: '50', include_total: 'true', status: 'active', tag: 'weekly-digest' });
    // The total of the filtered list, said to be an estimate when the server could not count it exactly.
    expect(screen.getByText(/^About 1.234.567 matching$/)).toBeTruthy();

    fireEvent.click(screen.getByRole('button', { name: 'Next' }));
    expect(await screen.findByRole('link', { name: 'person3@example.com' })).toBeTruthy();
    expect(listCalls()[1]!.query).toMatchObject({ cursor: 'CURSOR-2', status: 'active' });
    expect(screen.getByText('Page 2')).toBeTruthy();
  });

  it('exports what the list shows: the current filters go with the CSV download, with the organization', async () => {
    window.localStorage.setItem('sf.admin.organization', ORG_A);
    navigate('/subscribers?status=unsubscribed&tag=weekly-digest');
    answer('GET /api/v1/tags', TAGS);
    answer('GET /api/v1/subscribers', page([subscriber(1)]));
    answer('GET /api/v1/subscribers/export', { status: 200, body: 'id,email' });
    const createObjectURL = vi.fn(() => 'blob:export');
    Object.assign(URL, { createObjectURL, revokeObjectURL: vi.fn() });
    const clicked = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => undefined);
    renderSignedIn(<SubscribersPage />);
    fireEvent.click(await screen.findByRole('button', { name: 'Export these as CSV' }));
    expect(await screen.findByText('Export downloaded.')).toBeTruthy();
    const call = calls.find((c) => c.path === '/api/v1/subscribers/export')!;
    expect(call.query).toEqual({ format: 'csv', status: 'unsubscribed', tag: 'weekly-digest' });
    expect(call.headers['x-organization-id']).toBe(ORG_A);
    expect(clicked).toHaveBeenCalledOnce();
    clicked.mockRestore();
    window.localStorage.removeItem('sf.admin.organization');
  });

  it('searches addresses and names after a pause in typing, back on the first page', async () => {
    navigate('/subscribers');
    answer('GET /api/v1/tags', TAGS);
    answer('GET /api/v1/subscribers', page([subscriber(1)]), page([subscriber(7, { email: 'ada@example.com' })]));
    renderSignedIn(<SubscribersPage />);
    await screen.findByRole('link', { name: 'person1@example.com' });
    fireEvent.change(screen.getByLabelText('Search'), { target: { value: 'ada' } });
    expect(await screen.findByRole('link', { name: 'ada@example.com' })).toBeTruthy();
    expect(listCalls().at(-1)!.query).toEqual({ limit: '50', include_total: 'true', q: 'ada' });
    expect(window.location.search).toBe('?q=ada');
  });

  it('tells an empty organization from an empty filter result', async () => {
    navigate('/subscribers');
    answer('GET /api/v1/tags', TAGS);
    answer('GET /api/v1/subscribers', page([]));
    const first = renderSignedIn(<SubscribersPage />);
    expect(await screen.findByText('No subscribers yet')).toBeTruthy();
    first.unmount();

    navigate('/subscribers?status=bounced');
    renderSignedIn(<SubscribersPage />);
    expect(await screen.findByText('No subscribers match these filters')).toBeTruthy();
  });

  it('shows the error with a retry that asks again', async () => {
    navigate('/subscribers');
    answer('GET /api/v1/tags', TAGS);
    answer('GET /api/v1/subscribers', apiError(500, 'internal_error'), page([subscriber(1)]));
    renderSignedIn(<SubscribersPage />);
    const alert = (await screen.findByText('This could not be loaded')).closest<HTMLElement>('[role="alert"]')!;
    fireEvent.click(within(alert).getByRole('button', { name: 'Try again' }));
    expect(await screen.findByRole('link', { name: 'person1@example.com' })).toBeTruthy();
  });

  it('lets an admin tag a selection in bulk, one call per subscriber, then reloads the list', async () => {
    navigate('/subscribers');
    answer('GET /api/v1/tags', TAGS);
    answer('GET /api/v1/subscribers', page([subscriber(1), subscriber(2), subscriber(3)]));
    for (const n of [1, 2]) answer(`POST /api/v1/subscribers/${subscriber(n).id}/tags`, { status: 200, body: subscriber(n) });
    renderSignedIn(<SubscribersPage />, { role: 'admin' });
    await screen.findByRole('link', { name: 'person1@example.com' });
    fireEvent.click(screen.getByLabelText('Select person1@example.com'));
    fireEvent.click(screen.getByLabelText('Select person2@example.com'));
    const bulk = screen.getByRole('region', { name: 'Bulk actions' });
    expect(within(bulk).getByText('2 selected')).toBeTruthy();
    fireEvent.change(within(bulk).getByLabelText('Tag for the selected subscribers'), { target: { value: 'weekly-digest' } });
    fireEvent.click(within(bulk).getByRole('button', { name: 'Add tag' }));
    expect(await screen.findByText('Added Weekly digest to 2 subscribers.')).toBeTruthy();
    expect(calls.filter((c) => c.method === 'POST').map((c) => c.body)).toEqual([{ tags: ['weekly-digest'] }, { tags: ['weekly-digest'] }]);
    await waitFor(() => expect(listCalls().length).toBe(2));
  });

  it('offers a viewer no selection, no bulk actions and no "Add subscriber"', async () => {
    navigate('/subscribers');
    answer('GET /api/v1/tags', TAGS);
    answer('GET /api/v1/subscribers', page([subscriber(1)]));
    renderSignedIn(<SubscribersPage />, { role: 'viewer' });
    await screen.findByRole('link', { name: 'person1@example.com' });
    expect(screen.queryByLabelText('Select person1@example.com')).toBeNull();
    expect(screen.queryByLabelText('Select all subscribers on this page')).toBeNull();
    expect(screen.queryByRole('link', { name: 'Add subscriber' })).toBeNull();
  });
});

describe('filters, sorting and bulk actions over all matching', () => {
  it('combines several statuses and tag rules, and sorts by a column heading in both directions', async () => {
    navigate('/subscribers');
    answer('GET /api/v1/tags', { status: 200, body: { items: [tag('Weekly digest'), tag('Events')], next_cursor: null } });
    answer('GET /api/v1/subscribers', page([subscriber(1)]));
    renderSignedIn(<SubscribersPage />);
    await screen.findByRole('link', { name: 'person1@example.com' });
    fireEvent.click(screen.getByRole('checkbox', { name: 'Active' }));
    fireEvent.click(screen.getByRole('checkbox', { name: 'Bounced' }));
    fireEvent.click(screen.getByRole('checkbox', { name: 'Weekly digest' }));
    fireEvent.click(screen.getByLabelText('Without Events'));
    await waitFor(() => expect(listCalls().at(-1)!.query).toMatchObject({ status: 'active,bounced', tags_any: 'weekly-digest', tags_none: 'events' }));
    fireEvent.click(screen.getByRole('button', { name: /^Email/ }));
    await waitFor(() => expect(listCalls().at(-1)!.query).toMatchObject({ sort: 'email', order: 'asc', status: 'active,bounced' }));
    expect(screen.getByRole('columnheader', { name: /Email/ }).getAttribute('aria-sort')).toBe('ascending');
    fireEvent.click(screen.getByRole('button', { name: /^Email/ }));
    await waitFor(() => expect(listCalls().at(-1)!.query).toMatchObject({ sort: 'email', order: 'desc' }));
    expect(window.location.search).toContain('order=desc');
    // The export takes the same filters, several statuses and "none of" a tag included.
    answer('GET /api/v1/subscribers/export', { status: 200, body: 'id,email' });
    Object.assign(URL, { createObjectURL: vi.fn(() => 'blob:export'), revokeObjectURL: vi.fn() });
    const clicked = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => undefined);
    fireEvent.click(screen.getByRole('button', { name: 'Export these as CSV' }));
    expect(await screen.findByText('Export downloaded.')).toBeTruthy();
    expect(calls.find((c) => c.path === '/api/v1/subscribers/export')!.query).toEqual({
      format: 'csv',
      status: 'active,bounced',
      tags_any: 'weekly-digest',
      tags_none: 'events',
    });
    clicked.mockRestore();
  });

  it('shows chips inline with a count of the rest, so a row stays one line', async () => {
    navigate('/subscribers');
    answer('GET /api/v1/tags', TAGS);
    const many = ['A', 'B', 'C', 'D', 'E'].map((n, i) => ({ id: `00000000-0000-7000-8000-00000000000${i}`, name: `Topic ${n}`, slug: `topic-${n}` }));
    answer('GET /api/v1/subscribers', page([subscriber(1, { tags: many })]));
    renderSignedIn(<SubscribersPage />);
    await screen.findByRole('link', { name: 'person1@example.com' });
    const chips = screen.getByRole('list', { name: /^Tags: Topic A/ });
    expect(
      within(chips)
        .getAllByRole('listitem')
        .map((li) => li.textContent),
    ).toEqual(['Topic A', 'Topic B', 'Topic C', '+2']);
  });

  it('selects all N matching, has the server do the action as one job with a reason, and shows its progress', async () => {
    navigate('/subscribers?status=active&q=example');
    answer('GET /api/v1/tags', TAGS);
    const withTotal = { status: 200, body: { items: [subscriber(1), subscriber(2)], next_cursor: 'C2', total: 4321, total_exact: true } };
    answer('GET /api/v1/subscribers', withTotal, withTotal, withTotal);
    const action = {
      id: '00000000-0000-7000-8000-0000000000aa',
      action: 'unsubscribe',
      status: 'queued',
      filter: {},
      tag: null,
      reason: 'Asked by phone',
      expected: 4321,
    };
    const times = { processed: 0, changed: 0, error: null, created_at: '2026-12-07T10:00:00Z', started_at: null, finished_at: null };
    answer('POST /api/v1/subscribers/bulk-actions', { status: 202, body: { ...action, ...times } });
    answer(
      `GET /api/v1/subscribers/bulk-actions/${action.id}`,
      { status: 200, body: { ...action, ...times, status: 'running', processed: 1000, changed: 990 } },
      { status: 200, body: { ...action, ...times, status: 'completed', processed: 4321, changed: 4300 } },
    );
    renderSignedIn(<SubscribersPage />, { role: 'admin' });
    await screen.findByRole('link', { name: 'person1@example.com' });
    fireEvent.click(screen.getByLabelText('Select all subscribers on this page'));
    fireEvent.click(screen.getByRole('button', { name: /^Select all 4[.,]321 matching$/ }));
    const bulk = screen.getByRole('region', { name: 'Bulk actions' });
    expect(within(bulk).getByText(/^All 4[.,]321 matching selected$/)).toBeTruthy();
    fireEvent.click(within(bulk).getByRole('button', { name: 'Unsubscribe' }));
    expect(await screen.findByText(/Give a reason to unsubscribe/)).toBeTruthy();
    fireEvent.change(within(bulk).getByLabelText('Reason (kept in the consent history)'), { target: { value: 'Asked by phone' } });
    fireEvent.click(within(bulk).getByRole('button', { name: 'Unsubscribe' }));
    const dialog = await screen.findByRole('alertdialog');
    expect(within(dialog).getByText(/^Unsubscribe 4[.,]321 subscribers\?$/)).toBeTruthy();
    fireEvent.click(within(dialog).getByRole('button', { name: 'Unsubscribe' }));
    expect(await screen.findByRole('status')).toBeTruthy();
    await waitFor(() =>
      expect(calls.find((c) => c.method === 'POST')?.body).toEqual({
        action: 'unsubscribe',
        filter: { status: 'active', q: 'example' },
        reason: 'Asked by phone',
      }),
    );
    expect(await screen.findByText(/^Done: 4[.,]300 subscribers changed of 4[.,]321 matching\.$/, {}, { timeout: 4000 })).toBeTruthy();
  });
});

describe('the subscriber form', () => {
  it("puts each of the API's field problems under its field in the dashboard's words, and a conflict under the email", async () => {
    navigate('/subscribers/new');
    answer('GET /api/v1/tags', TAGS);
    answer(
      'POST /api/v1/subscribers',
      apiError(422, 'validation_error', [
        { field: 'email', code: 'invalid_format', format: 'email', message: 'must be an email address' },
        { field: 'first_name', code: 'too_short', bound: 3, message: 'must NOT have fewer than 3 characters' },
        { field: 'metadata.plan', code: 'too_long', bound: 10, message: 'must be at most 10 characters' },
      ]),
      apiError(409, 'subscriber_exists'),
    );
    renderSignedIn(<SubscriberFormPage params={{}} />, { role: 'admin' });
    const email = await screen.findByLabelText('Email address');
    fireEvent.change(email, { target: { value: 'ada@example.com' } });
    fireEvent.click(screen.getByRole('button', { name: 'Add subscriber' }));
    expect(await screen.findByText('Enter an email address, like name@example.com.')).toBeTruthy();
    expect(email.getAttribute('aria-invalid')).toBe('true');
    expect(document.getElementById(email.getAttribute('aria-describedby')!.split(' ').at(-1)!)?.textContent).toBe(
      'Enter an email address, like name@example.com.',
    );
    expect(screen.getByText('Use at least 3 characters.')).toBeTruthy();
    expect(screen.getByText('plan: Use at most 10 characters.')).toBeTruthy();
    // The validator's wording never reaches the page.
    expect(document.body.textContent).not.toMatch(/must NOT|must be an email address|must be at most/);

    fireEvent.click(screen.getByRole('button', { name: 'Add subscriber' }));
    expect(await screen.findByText('subscriber_exists')).toBeTruthy();
    expect(calls.filter((c) => c.method === 'POST')[0]!.headers['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('says an address that cannot be one in plain words before calling the API', async () => {
    navigate('/subscribers/new');
    answer('GET /api/v1/tags', TAGS);
    renderSignedIn(<SubscriberFormPage params={{}} />, { role: 'admin' });
    fireEvent.change(await screen.findByLabelText('Email address'), { target: { value: 'not-an-email' } });
    fireEvent.click(screen.getByRole('button', { name: 'Add subscriber' }));
    expect(await screen.findByText('Enter an email address, like name@example.com.')).toBeTruthy();
    expect(calls.filter((c) => c.method === 'POST')).toEqual([]);
  });

  it('refuses metadata that is not a JSON object before calling the API', async () => {
    navigate('/subscribers/new');
    answer('GET /api/v1/tags', TAGS);
    renderSignedIn(<SubscriberFormPage params={{}} />, { role: 'admin' });
    fireEvent.change(await screen.findByLabelText('Email address'), { target: { value: 'a@example.com' } });
    fireEvent.change(screen.getByLabelText('Metadata (JSON)'), { target: { value: '[1, 2]' } });
    fireEvent.click(screen.getByRole('button', { name: 'Add subscriber' }));
    expect(await screen.findByText(/must be a JSON object/)).toBeTruthy();
    expect(calls.filter((c) => c.method === 'POST')).toEqual([]);
  });
});

describe('unsaved changes', () => {
  it('asks before leaving the subscriber form with edits, stays when told to, and leaves when the form is untouched', async () => {
    navigate('/subscribers/new');
    answer('GET /api/v1/tags', TAGS);
    const { unmount } = renderSignedIn(<SubscriberFormPage params={{}} />, { role: 'admin' });
    const email = await screen.findByLabelText('Email address');
    const ask = vi.spyOn(window, 'confirm').mockReturnValue(false);
    // Untouched: leaving asks nothing.
    navigate('/subscribers');
    expect(ask).not.toHaveBeenCalled();
    navigate('/subscribers/new');

    fireEvent.change(email, { target: { value: 'half-typed@' } });
    navigate('/tags');
    expect(ask).toHaveBeenCalledWith('You have unsaved changes. Leave this page and lose them?');
    expect(window.location.pathname).toBe('/subscribers/new');
    const unload = new Event('beforeunload', { cancelable: true });
    window.dispatchEvent(unload);
    expect(unload.defaultPrevented).toBe(true);

    ask.mockReturnValue(true);
    navigate('/tags');
    expect(window.location.pathname).toBe('/tags');
    ask.mockRestore();
    unmount();
  });
});
