import { fireEvent, screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import OrganizationSettingsPage from '../../src/admin/pages/settings/OrganizationSettingsPage';
import { answer, calls } from '../support/api';
import { ORG_A, renderSignedIn } from './helpers';

const organization = (resend_contact_sync: boolean) => ({
  id: ORG_A,
  name: 'Acme',
  slug: 'acme',
  status: 'active',
  locale: 'en',
  timezone: 'UTC',
  sending_window: null,
  postal_address: '1 Example Street',
  email_from_name: null,
  email_from_address: null,
  email_reply_to: null,
  tracking_enabled: true,
  tracking_privacy: false,
  resend_contact_sync,
  plan: 'free',
  created_at: '2026-12-01T00:00:00.000Z',
  updated_at: '2026-12-01T00:00:00.000Z',
});

const status = (overrides: Record<string, unknown> = {}) => ({
  enabled: true,
  available: true,
  taken: false,
  full_sync_requested_at: '2026-12-01T10:00:00.000Z',
  full_sync_finished_at: null,
  last_round_at: '2026-12-01T10:05:00.000Z',
  pending: 0,
  failed: 2,
  detached: 1,
  last_error: {
    code: 'unavailable',
    message: 'Resend could not be reached; the changes wait and are sent when it answers again.',
    at: '2026-12-01T10:05:00.000Z',
  },
  ...overrides,
});

describe('the Resend contact sync setting', () => {
  it('turns the sync on for an admin, and says why when the server refuses', async () => {
    answer('GET /api/v1/organizations/current', { status: 200, body: organization(false) });
    answer(
      'PATCH /api/v1/organizations/current',
      {
        status: 409,
        body: {
          error: {
            code: 'resend_sync_taken',
            message: 'Another organization of this installation already mirrors its contacts to the Resend account',
            request_id: 'req',
          },
        },
      },
      { status: 200, body: organization(true) },
    );
    answer('GET /api/v1/contact-sync', { status: 200, body: status({ pending: 3, failed: 0, detached: 0, last_error: null }) });
    renderSignedIn(<OrganizationSettingsPage />, { role: 'admin' });
    const box = await screen.findByLabelText('Copy subscribers and public topics to Resend Contacts');
    expect((box as HTMLInputElement).checked).toBe(false);
    const save = screen.getByRole('button', { name: 'Save contact sync' });
    expect((save as HTMLButtonElement).disabled).toBe(true);
    fireEvent.click(box);
    fireEvent.click(save);
    expect(await screen.findByText(/already mirrors its contacts/)).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Save contact sync' }));
    await waitFor(() => expect(calls.filter((c) => c.method === 'PATCH')).toHaveLength(2));
    expect(calls.filter((c) => c.method === 'PATCH').map((c) => c.body)).toEqual([{ resend_contact_sync: true }, { resend_contact_sync: true }]);
    await waitFor(() => expect((screen.getByLabelText('Copy subscribers and public topics to Resend Contacts') as HTMLInputElement).checked).toBe(true));
    // Turned on, the progress appears: the full sync waits to be sent.
    await waitFor(() => expect(screen.getByText('Waiting to be sent').nextElementSibling!.textContent).toBe('3'));
  });

  it('is read-only for a viewer', async () => {
    answer('GET /api/v1/organizations/current', { status: 200, body: organization(true) });
    renderSignedIn(<OrganizationSettingsPage />, { role: 'viewer' });
    const box = await screen.findByLabelText('Copy subscribers and public topics to Resend Contacts');
    expect((box as HTMLInputElement).checked).toBe(true);
    expect(box.matches(':disabled')).toBe(true);
    expect(screen.queryByRole('button', { name: 'Save contact sync' })).toBeNull();
  });

  it('shows an admin the progress in plain words and starts a full sync', async () => {
    answer('GET /api/v1/organizations/current', { status: 200, body: organization(true) });
    answer('GET /api/v1/contact-sync', { status: 200, body: status() }, { status: 200, body: status({ pending: 40, last_error: null }) });
    answer('POST /api/v1/contact-sync/full-sync', { status: 202, body: { queued: 40 } });
    renderSignedIn(<OrganizationSettingsPage />, { role: 'admin' });
    expect(await screen.findByText(/Resend could not be reached/)).toBeTruthy();
    expect(screen.getByText('Failed (Resend refused them five times)').nextElementSibling!.textContent).toBe('2');
    expect(screen.getByText('Deleted at Resend, no longer copied').nextElementSibling!.textContent).toBe('1');
    expect(screen.getByText(/^Running since/)).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Sync everything now' }));
    expect(await screen.findByText('40 subscribers are queued to be sent to Resend again.')).toBeTruthy();
    await waitFor(() => expect(screen.getByText('Waiting to be sent').nextElementSibling!.textContent).toBe('40'));
    expect(screen.getByText('Last error').nextElementSibling!.textContent).toBe('None.');
  });

  it('says when the status cannot be loaded, and offers to try again', async () => {
    answer('GET /api/v1/organizations/current', { status: 200, body: organization(true) });
    answer('GET /api/v1/contact-sync', { status: 500, body: { error: { code: 'internal_error', message: 'Something went wrong', request_id: 'req' } } });
    renderSignedIn(<OrganizationSettingsPage />, { role: 'admin' });
    expect(await screen.findByText('This could not be loaded')).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Try again' })).toBeTruthy();
  });

  it('shows no progress to a viewer and asks nothing of the status route', async () => {
    answer('GET /api/v1/organizations/current', { status: 200, body: organization(true) });
    renderSignedIn(<OrganizationSettingsPage />, { role: 'viewer' });
    await screen.findByLabelText('Copy subscribers and public topics to Resend Contacts');
    expect(screen.queryByText('Sync progress')).toBeNull();
    expect(calls.some((c) => c.path === '/api/v1/contact-sync')).toBe(false);
  });
});
