import { screen, waitFor } from '@testing-library/react';
import axe from 'axe-core';
import { describe, expect, it } from 'vitest';
import { Shell } from '../../src/admin/layout/Shell';
import { answer, calls } from '../support/api';
import { me, renderSignedIn } from './helpers';

const withBilling = (role: 'owner' | 'admin' | 'viewer', billing = true) => ({ ...me(role), features: { billing } });
const PAST_DUE = { past_due: true, grace_ends_at: '2026-12-14T10:00:00.000Z', grace_over: false };

function renderShell(role: 'owner' | 'admin' | 'viewer', billing = true) {
  return renderSignedIn(
    <Shell>
      <p>content</p>
    </Shell>,
    { me: withBilling(role, billing) },
  );
}

describe('the past-due banner', () => {
  it('shows owners on every page what happens and by when, with "Manage billing", and is axe-clean', async () => {
    window.history.replaceState(null, '', '/tags');
    answer('GET /api/v1/billing/status', { status: 200, body: PAST_DUE });
    const { container } = renderShell('owner');
    const banner = (await screen.findByText(/The last payment failed/)).closest('.past-due-banner')!;
    expect(banner.getAttribute('role')).toBe('alert');
    expect(banner.textContent).toMatch(/The last payment failed\. Unless the payment method is updated by .*2026.*, the Free plan's limits apply\./);
    expect(screen.getByRole('link', { name: 'Manage billing' }).getAttribute('href')).toBe('/settings/billing');
    const results = await axe.run(container, { rules: { region: { enabled: false } } });
    expect(results.violations.map((v) => v.id)).toEqual([]);
  });

  it('tells admins that an owner can fix it, and says when the grace period is over', async () => {
    window.history.replaceState(null, '', '/');
    answer('GET /api/v1/billing/status', { status: 200, body: { ...PAST_DUE, grace_over: true } });
    renderShell('admin');
    const banner = (await screen.findByText(/The last payment failed/)).closest('.past-due-banner')!;
    expect(banner.textContent).toMatch(/grace period is over: the Free plan's limits apply/);
    expect(banner.textContent).toMatch(/An owner of this organization can update it/);
    expect(screen.queryByRole('link', { name: 'Manage billing' })).toBeNull();
  });

  it('shows nothing while paid, for viewers, without billing, or on the billing page itself', async () => {
    window.history.replaceState(null, '', '/');
    answer('GET /api/v1/billing/status', { status: 200, body: { past_due: false, grace_ends_at: null, grace_over: false } });
    const paid = renderShell('owner');
    await waitFor(() => expect(calls.some((c) => c.path === '/api/v1/billing/status')).toBe(true));
    expect(screen.queryByText(/The last payment failed/)).toBeNull();
    paid.unmount();

    calls.length = 0;
    renderShell('viewer').unmount();
    renderShell('owner', false).unmount();
    expect(calls.filter((c) => c.path.startsWith('/api/v1/billing'))).toEqual([]);

    window.history.replaceState(null, '', '/settings/billing');
    answer('GET /api/v1/billing/status', { status: 200, body: PAST_DUE });
    renderShell('owner');
    await waitFor(() => expect(calls.some((c) => c.path === '/api/v1/billing/status')).toBe(true));
    expect(screen.queryByText(/The last payment failed/)).toBeNull();
    window.history.replaceState(null, '', '/');
  });
});
