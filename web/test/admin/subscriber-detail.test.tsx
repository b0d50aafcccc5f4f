import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import SubscriberDetailPage from '../../src/admin/pages/subscribers/SubscriberDetailPage';
import { answer, apiError, calls } from '../support/api';
import { renderSignedIn, subscriber, tag } from './helpers';

const ADA = subscriber(1, { email: 'ada@example.com' });
const EMAILS = `/api/v1/subscribers/${ADA.id}/emails`;
const page = (items: unknown[], next: string | null = null) => ({ status: 200, body: { items, next_cursor: next } });
const emailCalls = () => calls.filter((c) => c.method === 'GET' && c.path === EMAILS);

function message(n: number, overrides: Record<string, unknown> = {}) {
  return {
    id: `01900000-0000-7000-8000-${String(100 + n).padStart(12, '0')}`,
    template: { id: '01900000-0000-7000-8000-0000000000t1', slug: 'receipt', name: 'Receipt' },
    category: 'transactional',
    to_address: 'ada@example.com',
    subject: `Receipt ${n}`,
    status: 'sent',
    esp_message_id: `re_${n}`,
    error: null,
    created_at: '2026-11-02T10:00:00.000Z',
    sent_at: '2026-11-02T10:00:05.000Z',
    delivered_at: null,
    opened_at: null,
    clicked_at: null,
    bounced_at: null,
    complained_at: null,
    failed_at: null,
    ...overrides,
  };
}

/** The detail page with everything but the messages answered. */
function showAda(role: 'owner' | 'viewer' = 'viewer') {
  answer(`GET /api/v1/subscribers/${ADA.id}`, { status: 200, body: ADA });
  answer(`GET /api/v1/subscribers/${ADA.id}/events`, page([]));
  answer(`GET /api/v1/subscribers/${ADA.id}/notes`, page([]));
  answer(`GET /api/v1/subscribers/${ADA.id}/automation-runs`, page([]));
  answer('GET /api/v1/tags', page([tag('Weekly digest')]));
  return renderSignedIn(<SubscriberDetailPage params={{ id: ADA.id }} />, { role });
}
const section = () => screen.getByRole('region', { name: 'Messages sent' });

afterEach(() => vi.restoreAllMocks());

describe("the subscriber page's messages", () => {
  it('lists the messages sent, newest first as the API gives them, and pages to older ones', async () => {
    answer(
      `GET ${EMAILS}`,
      page(
        [message(3, { status: 'delivered', delivered_at: '2026-11-02T10:01:00.000Z' }), message(2, { template: null, to_address: 'old@example.com' })],
        'CURSOR-2',
      ),
      page([message(1, { status: 'bounced', bounced_at: '2026-11-02T10:02:00.000Z', error: { code: 'hard_bounce', message: 'Mailbox does not exist' } })]),
    );
    showAda();
    await screen.findByText('Receipt 3');
    const rows = within(section()).getAllByRole('row').slice(1);
    expect(rows.map((r) => within(r).getAllByRole('cell')[0]!.textContent)).toEqual(['Receipt 3', 'Receipt 2 (to old@example.com)']);
    expect(within(rows[0]!).getByText('delivered')).toBeTruthy();
    expect(within(rows[0]!).getByText(/Delivered/)).toBeTruthy();
    expect(within(rows[0]!).getByText('Receipt')).toBeTruthy();
    expect(within(rows[1]!).getAllByRole('cell')[1]!.textContent).toBe('—');
    expect(emailCalls()[0]!.query).toEqual({ limit: '20' });

    fireEvent.click(within(section()).getByRole('button', { name: 'Load older messages' }));
    expect(await within(section()).findByText('Receipt 1')).toBeTruthy();
    expect(emailCalls()[1]!.query).toEqual({ limit: '20', cursor: 'CURSOR-2' });
    expect(within(section()).getByText('Mailbox does not exist')).toBeTruthy();
    expect(within(section()).queryByRole('button', { name: 'Load older messages' })).toBeNull();
  });

  it('shows loading, then says when nothing was sent', async () => {
    let release!: () => void;
    answer(
      `GET ${EMAILS}`,
      () =>
        new Promise((resolve) => {
          release = () => resolve(page([]));
        }),
    );
    showAda();
    await screen.findByText('Loading messages…');
    release();
    expect(await within(section()).findByText('No messages sent')).toBeTruthy();
  });

  it('shows an error with a retry that asks again', async () => {
    answer(`GET ${EMAILS}`, apiError(500, 'internal_error'), page([message(1)]));
    showAda();
    const error = await screen.findByText('The messages could not be loaded');
    fireEvent.click(within(error.closest<HTMLElement>('[role="alert"]')!).getByRole('button', { name: 'Try again' }));
    expect(await within(section()).findByText('Receipt 1')).toBeTruthy();
  });

  it("puts every message in the subscriber's data export", async () => {
    answer(`GET ${EMAILS}`, (call) => (call.query.cursor === 'CURSOR-2' ? page([message(1)]) : page([message(2)], 'CURSOR-2')));
    const downloads: Blob[] = [];
    vi.spyOn(URL, 'createObjectURL').mockImplementation((blob) => {
      downloads.push(blob as Blob);
      return 'blob:export';
    });
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => undefined);
    showAda('owner');
    await screen.findByText('Receipt 2');
    fireEvent.click(screen.getByRole('button', { name: 'Export data' }));
    await waitFor(() => expect(downloads).toHaveLength(1));
    const exported = JSON.parse(await downloads[0]!.text());
    expect(exported.messages.map((m: { subject: string }) => m.subject)).toEqual(['Receipt 2', 'Receipt 1']);
    expect(exported.subscriber.email).toBe('ada@example.com');
    // The export walks every page, a hundred at a time.
    expect(
      emailCalls()
        .slice(1)
        .map((c) => c.query),
    ).toEqual([{ limit: '100' }, { limit: '100', cursor: 'CURSOR-2' }]);
  });
});

describe("the subscriber page's automation runs", () => {
  it('marks a run started with a test key and says its mail is in the dev mailbox', async () => {
    const step = (index: number, type: string, reason: string | null, status = 'completed') => ({
      index,
      type,
      status,
      reason,
      email_message_id: null,
      started_at: '2026-11-02T10:00:00.000Z',
      finished_at: status === 'waiting' ? null : '2026-11-02T10:00:00.000Z',
    });
    const run = (n: number, test: boolean) => ({
      id: `01900000-0000-7000-8000-${String(200 + n).padStart(12, '0')}`,
      automation: { id: '01900000-0000-7000-8000-0000000000a1', name: test ? 'Welcome (tried)' : 'Welcome', version: 1 },
      status: 'active',
      test,
      exit_reason: null,
      next_step_at: '2026-11-03T10:00:00.000Z',
      entered_at: '2026-11-02T10:00:00.000Z',
      finished_at: null,
      steps: [step(0, 'send_email', test ? 'dev_mailbox' : null), step(1, 'delay', null, 'waiting')],
    });
    answer(`GET /api/v1/subscribers/${ADA.id}`, { status: 200, body: ADA });
    answer(`GET /api/v1/subscribers/${ADA.id}/events`, page([]));
    answer(`GET /api/v1/subscribers/${ADA.id}/notes`, page([]));
    answer(`GET /api/v1/subscribers/${ADA.id}/automation-runs`, page([run(2, true), run(1, false)]));
    answer(`GET ${EMAILS}`, page([]));
    answer('GET /api/v1/tags', page([tag('Weekly digest')]));
    renderSignedIn(<SubscriberDetailPage params={{ id: ADA.id }} />, { role: 'viewer' });

    const tried = (await screen.findByRole('link', { name: 'Welcome (tried)' })).closest('li')!;
    expect(within(tried).getByText('test')).toBeTruthy();
    expect(within(tried).getByRole('link', { name: 'dev mailbox' }).getAttribute('href')).toMatch(/\/mailbox$/);
    expect(within(tried).getByText(/send email: completed \(in the dev mailbox\)/)).toBeTruthy();
    const live = screen.getByRole('link', { name: 'Welcome' }).closest('li')!;
    expect(within(live).queryByText('test')).toBeNull();
    expect(within(live).queryByText(/dev mailbox/)).toBeNull();
  });
});
