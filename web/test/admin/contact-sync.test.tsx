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
  });

  it('is read-only for a viewer', async () => {
    answer('GET /api/v1/organizations/current', { status: 200, body: organization(true) });
    renderSignedIn(<OrganizationSettingsPage />, { role: 'viewer' });
    const box = await screen.findByLabelText('Copy subscribers and public topics to Resend Contacts');
    expect((box as HTMLInputElement).checked).toBe(true);
    expect(box.matches(':disabled')).toBe(true);
    expect(screen.queryByRole('button', { name: 'Save contact sync' })).toBeNull();
  });
});
