import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { App } from '../../preferences/src/App';
import { answer, apiError, calls } from '../support/api';
import { preferenceView, TOKEN } from '../support/fixtures';

const checked = (element: HTMLElement) => (element as HTMLInputElement).checked;

const DIGEST = '01900000-0000-7000-8000-000000000001';
const EVENTS = '01900000-0000-7000-8000-000000000002';

async function renderPage(view = preferenceView()) {
  answer('GET /api/v1/preference-center', { status: 200, body: view });
  render(<App route={{ page: 'preferences', token: TOKEN, organization: null }} />);
  return screen.findByRole('heading', { level: 1, name: 'Your email preferences' });
}

describe('the preference page', () => {
  it('shows topics grouped by category as labelled switches with their state', async () => {
    await renderPage();
    const newsletters = screen.getByRole('group', { name: 'Newsletters' });
    const digest = within(newsletters).getByRole('switch', { name: 'Weekly digest' });
    expect(checked(digest)).toBe(true);
    expect(document.getElementById(digest.getAttribute('aria-describedby')!)?.textContent).toBe('Every Monday');
    expect(checked(within(screen.getByRole('group', { name: 'Other topics' })).getByRole('switch', { name: 'Events' }))).toBe(false);
    expect(screen.getByText(/ada@example\.com/)).toBeTruthy();
    expect(calls[0]!.query).toEqual({ token: TOKEN });
  });

  it('renders the page at once, with no second request, when the data arrived before React started', () => {
    render(<App route={{ page: 'preferences', token: TOKEN, organization: null }} initialData={preferenceView()} />);
    expect(screen.getByRole('switch', { name: 'Weekly digest' })).toBeTruthy();
    expect(calls).toHaveLength(0);
  });

  it('saves a switch immediately and says so', async () => {
    await renderPage();
    answer(`PUT /api/v1/preference-center/tags/${EVENTS}`, { status: 200, body: { tag_id: EVENTS, is_subscribed: true, changed: true } });
    fireEvent.click(screen.getByRole('switch', { name: 'Events' }));
    expect(checked(screen.getByRole('switch', { name: 'Events' }))).toBe(true);
    expect(await screen.findByText('Saved: you will get Events.')).toBeTruthy();
    expect(calls.at(-1)).toMatchObject({ method: 'PUT', body: { subscribed: true }, query: { token: TOKEN } });
  });

  it('puts a switch back and says why right under it when saving fails', async () => {
    await renderPage();
    answer(`PUT /api/v1/preference-center/tags/${DIGEST}`, apiError(500, 'internal_error'), apiError(429, 'rate_limited'));
    fireEvent.click(screen.getByRole('switch', { name: 'Weekly digest' }));
    const note = () => document.getElementById(`topic-${DIGEST}-note`)!;
    await waitFor(() => expect(note().textContent).toContain('Your change could not be saved'));
    expect(note().className).toContain('pc-note--alert');
    expect(checked(screen.getByRole('switch', { name: 'Weekly digest' }))).toBe(true);
    fireEvent.click(screen.getByRole('switch', { name: 'Weekly digest' }));
    await waitFor(() => expect(note().textContent).toBe('Not saved: too many changes in a short time. Wait a moment, then try again.'));
  });

  it('ends on the new-link form naming the organization when the link expires while the page is open', async () => {
    await renderPage();
    answer(`PUT /api/v1/preference-center/tags/${DIGEST}`, apiError(401, 'token_expired'));
    fireEvent.click(screen.getByRole('switch', { name: 'Weekly digest' }));
    await screen.findByRole('heading', { level: 1, name: 'Get a new link' });
    expect(screen.getByText('For emails from Acme News.')).toBeTruthy();
    expect(screen.getByLabelText('Email address')).toBeTruthy();
  });

  it('uses the organization\'s own texts in the chosen language', async () => {
    await renderPage(preferenceView({ organization: { ...preferenceView().organization, texts: { en: { title: 'Acme mail', unsubscribe_all: 'Stop everything', save: 'Got it' } } } }));
    expect((screen.getByRole('heading', { level: 1 })).textContent).toContain('Acme mail');
    expect(screen.getByRole('button', { name: 'Stop everything' })).toBeTruthy();
  });

  it('unsubscribes from everything, moves focus to Undo, and undoes', async () => {
    await renderPage();
    answer('POST /api/v1/preference-center/unsubscribe-all', { status: 200, body: { status: 'unsubscribed', unsubscribed_tags: 1, undo_token: 'undo-token-0123456789', undo_expires_at: new Date(Date.now() + 900_000).toISOString() } });
    fireEvent.click(screen.getByRole('button', { name: 'Unsubscribe from all emails' }));
    const undo = await screen.findByRole('button', { name: 'Undo' });
    await waitFor(() => expect(document.activeElement).toBe(undo));
    // The outcome is said next to the button, not at the bottom of the page.
    const actions = undo.closest('section')!;
    expect(within(actions as HTMLElement).getByRole('status').textContent).toBe('Done: you will get no more emails from Acme News.');
    expect(checked(screen.getByRole('switch', { name: 'Weekly digest' }))).toBe(false);
    expect((screen.getByRole('switch', { name: 'Weekly digest' }) as HTMLInputElement).disabled).toBe(true);

    answer('POST /api/v1/preference-center/unsubscribe-all/undo', { status: 200, body: { status: 'active', resubscribed_tags: 1 } });
    answer('GET /api/v1/preference-center', { status: 200, body: preferenceView() });
    fireEvent.click(undo);
    expect(await screen.findByText('Done: your subscriptions are back.')).toBeTruthy();
    expect(checked(screen.getByRole('switch', { name: 'Weekly digest' }))).toBe(true);
    expect(calls.find((c) => c.path.endsWith('/undo'))!.body).toEqual({ undo_token: 'undo-token-0123456789' });
  });

  it('shows the topics of an unsubscribed person as off, saying they stay off while unsubscribed', async () => {
    const view = preferenceView({ subscriber: { email: 'ada@example.com', first_name: null, status: 'unsubscribed' } });
    expect(view.tags.some((tag) => tag.is_subscribed)).toBe(true);
    await renderPage(view);
    expect(checked(screen.getByRole('switch', { name: 'Weekly digest' }))).toBe(false);
    expect(screen.getByText(/they stay off while you are unsubscribed/)).toBeTruthy();
  });

  it('offers to subscribe again by confirmation email when the person is unsubscribed', async () => {
    await renderPage(preferenceView({ subscriber: { email: 'ada@example.com', first_name: null, status: 'unsubscribed' } }));
    expect(screen.getByText(/You are not receiving emails from Acme News/)).toBeTruthy();
    answer('POST /api/v1/preference-center/resubscribe', { status: 202, body: { status: 'confirmation_sent' } });
    fireEvent.click(screen.getByRole('button', { name: 'Subscribe again' }));
    expect(await screen.findByText(/We sent you an email/)).toBeTruthy();
    expect(calls.at(-1)!.body).toEqual({ locale: 'en' });
  });

  it('downloads the export as a JSON file', async () => {
    await renderPage();
    const createObjectURL = vi.fn(() => 'blob:export');
    Object.assign(URL, { createObjectURL, revokeObjectURL: vi.fn() });
    const clicked = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      expect(this.download).toBe('my-subscription-data.json');
    });
    answer('GET /api/v1/preference-center/export', { status: 200, body: { subscriber: { email: 'ada@example.com' } } });
    fireEvent.click(screen.getByRole('button', { name: 'Download my data' }));
    expect(await screen.findByText('Your download has started.')).toBeTruthy();
    expect(clicked).toHaveBeenCalledOnce();
    const blob = (createObjectURL.mock.calls[0] as unknown as [Blob])[0];
    expect(JSON.parse(await blob.text())).toEqual({ subscriber: { email: 'ada@example.com' } });
    clicked.mockRestore();
  });

  it('deletes only after the explicit confirmation, then says the data is gone', async () => {
    await renderPage();
    fireEvent.click(screen.getByRole('button', { name: 'Delete my data' }));
    const dialog = screen.getByRole('group', { name: 'Delete all your data?' });
    const forever = within(dialog).getByRole('button', { name: 'Delete permanently' });
    expect(forever.getAttribute('aria-disabled')).toBe('true');
    fireEvent.click(forever);
    expect(calls.some((c) => c.method === 'DELETE')).toBe(false);

    answer('DELETE /api/v1/preference-center', { status: 204 });
    fireEvent.click(within(dialog).getByRole('checkbox', { name: 'I understand that this cannot be undone' }));
    fireEvent.click(forever);
    const heading = await screen.findByRole('heading', { level: 1, name: 'Your data has been deleted' });
    await waitFor(() => expect(document.activeElement).toBe(heading));
  });

  it('with a link from a newsletter, offers to email a link for export and erasure instead of the buttons', async () => {
    await renderPage(preferenceView({ can_manage_data: false }));
    expect(screen.queryByRole('button', { name: 'Download my data' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Delete my data' })).toBeNull();
    answer('POST /api/v1/preference-center/request-link', { status: 202, body: { status: 'accepted', message: 'ok' } });
    fireEvent.click(screen.getByRole('button', { name: 'Email me that link' }));
    expect(await screen.findByText('We sent a link to ada@example.com. Open it to download or delete your data.')).toBeTruthy();
    expect(calls.at(-1)!.body).toEqual({ email: 'ada@example.com', organization: 'acme', locale: 'en' });
  });

  it('switches to German and remembers the choice', async () => {
    await renderPage();
    fireEvent.change(screen.getByRole('combobox', { name: 'Language' }), { target: { value: 'de' } });
    expect((screen.getByRole('heading', { level: 1 })).textContent).toContain('Ihre E-Mail-Einstellungen');
    expect(document.documentElement.lang).toBe('de');
    expect(window.localStorage.getItem('sf-locale')).toBe('de');
  });
});

describe('the page an email\'s unsubscribe link opens', () => {
  async function renderUnsubscribe(view = preferenceView()) {
    answer('GET /api/v1/preference-center', { status: 200, body: view });
    render(<App route={{ page: 'preferences', token: TOKEN, organization: null, unsubscribeFirst: true }} />);
    return screen.findByRole('heading', { level: 1, name: 'Unsubscribe' });
  }

  it('leads with the unsubscribe card, before the topics, and sends the optional reason', async () => {
    await renderUnsubscribe();
    const card = screen.getByRole('region', { name: 'Unsubscribe from all emails' });
    const button = within(card).getByRole('button', { name: 'Unsubscribe from all emails' });
    const firstSwitch = screen.getByRole('switch', { name: 'Weekly digest' });
    expect(button.compareDocumentPosition(firstSwitch) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    expect(within(card).getByText(/Stop all emails from Acme News/)).toBeTruthy();
    fireEvent.click(within(card).getByRole('radio', { name: 'Too many emails' }));
    answer('POST /api/v1/preference-center/unsubscribe-all', { status: 200, body: { status: 'unsubscribed', unsubscribed_tags: 1, undo_token: 'undo-token-0123456789', undo_expires_at: new Date(Date.now() + 900_000).toISOString() } });
    fireEvent.click(button);
    await within(card).findByRole('button', { name: 'Undo' });
    expect(within(card).getByRole('status').textContent).toBe('Done: you will get no more emails from Acme News.');
    expect(calls.at(-1)).toMatchObject({ method: 'POST', path: '/api/v1/preference-center/unsubscribe-all', query: { token: TOKEN, reason: 'too_many' } });
    expect(checked(screen.getByRole('switch', { name: 'Weekly digest' }))).toBe(false);
  });

  it('keeps the topics below as the alternative, saving each with its outcome under it', async () => {
    await renderUnsubscribe();
    expect(screen.getByRole('heading', { level: 2, name: 'Or keep only the topics you want' })).toBeTruthy();
    answer(`PUT /api/v1/preference-center/tags/${DIGEST}`, { status: 200, body: { tag_id: DIGEST, is_subscribed: false, changed: true } });
    fireEvent.click(screen.getByRole('switch', { name: 'Weekly digest' }));
    await waitFor(() => expect(document.getElementById(`topic-${DIGEST}-note`)!.textContent).toBe('Saved: you will no longer get Weekly digest.'));
  });
});
