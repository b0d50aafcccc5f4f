import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import BillingPage from '../../src/admin/pages/settings/BillingPage';
import { SettingsNav } from '../../src/admin/layout/SettingsNav';
import { answer, calls } from '../support/api';
import { me, renderSignedIn } from './helpers';

const withBilling = (role: 'owner' | 'admin' = 'owner') => ({ ...me(role), features: { billing: true } });

const PLANS = [
  { id: 'free', name: 'Free', purchasable: false, limits: { subscribers: 1000, emails_per_month: 4000, webhook_endpoints: 0, custom_domains: 0 } },
  { id: 'starter', name: 'Starter', purchasable: true, limits: { subscribers: 5000, emails_per_month: 50000, webhook_endpoints: 3, custom_domains: 0 } },
  {
    id: 'professional',
    name: 'Professional',
    purchasable: true,
    limits: { subscribers: 50000, emails_per_month: 500000, webhook_endpoints: null, custom_domains: null },
  },
];
const FREE = {
  plan: { id: 'free', name: 'Free' },
  subscribed_plan: null,
  status: null,
  current_period_end: null,
  usage_period: { start: '2026-12-01T00:00:00.000Z', end: '2027-01-01T00:00:00.000Z', basis: 'calendar_month' },
  past_due: false,
  grace_ends_at: null,
  has_billing_account: false,
  usage: [
    { limit: 'subscribers', used: 850, max: 1000 },
    { limit: 'emails_per_month', used: 1200, max: 4000 },
    { limit: 'webhook_endpoints', used: 0, max: 0 },
    { limit: 'custom_domains', used: 0, max: 0 },
  ],
  plans: PLANS,
};

afterEach(() => vi.unstubAllGlobals());

describe('the billing page', () => {
  it('shows the plan, usage bars and plan cards, and upgrades through Stripe Checkout', async () => {
    const assign = vi.fn();
    vi.stubGlobal('location', { ...window.location, assign });
    answer('GET /api/v1/billing', { status: 200, body: FREE });
    answer('POST /api/v1/billing/checkout', { status: 200, body: { url: 'https://checkout.stripe.test/c/pay/cs_1' } });
    renderSignedIn(<BillingPage />, { me: withBilling() });
    expect(await screen.findByText('Free', { selector: 'strong' })).toBeTruthy();
    expect(screen.getByLabelText('Subscribers: 850 of 1,000')).toBeTruthy();
    expect(screen.getByText('Unlimited webhook endpoints')).toBeTruthy();
    expect(screen.getByText(/Emails count from .* \(the calendar month, UTC\)\./)).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Manage billing' })).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Upgrade to Starter' }));
    await waitFor(() => expect(assign).toHaveBeenCalledWith('https://checkout.stripe.test/c/pay/cs_1'));
    expect(calls.find((c) => c.path === '/api/v1/billing/checkout')?.body).toEqual({ plan: 'starter' });
  });

  it('warns when past due and opens the portal from "Manage billing"', async () => {
    const assign = vi.fn();
    vi.stubGlobal('location', { ...window.location, assign });
    answer('GET /api/v1/billing', {
      status: 200,
      body: {
        ...FREE,
        plan: { id: 'starter', name: 'Starter' },
        status: 'past_due',
        past_due: true,
        grace_ends_at: '2026-12-14T10:00:00.000Z',
        has_billing_account: true,
        current_period_end: '2027-01-01T00:00:00.000Z',
      },
    });
    answer('POST /api/v1/billing/portal', { status: 200, body: { url: 'https://billing.stripe.test/p/session/bps_1' } });
    renderSignedIn(<BillingPage />, { me: withBilling() });
    const banner = await screen.findByText(/The last payment failed/);
    expect(banner.getAttribute('role')).toBe('alert');
    expect(banner.textContent).toMatch(/falls back to the Free plan/);
    // A subscribed organization changes plans in the portal, not through a second checkout.
    expect(screen.queryByRole('button', { name: /Upgrade to/ })).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Manage billing' }));
    await waitFor(() => expect(assign).toHaveBeenCalledWith('https://billing.stripe.test/p/session/bps_1'));
  });

  it('after Checkout, says the subscription is being confirmed and updates by itself', async () => {
    window.history.replaceState(null, '', '/settings/billing?checkout=success');
    answer(
      'GET /api/v1/billing',
      { status: 200, body: FREE },
      { status: 200, body: { ...FREE, plan: { id: 'starter', name: 'Starter' }, status: 'active', has_billing_account: true } },
    );
    renderSignedIn(<BillingPage />, { me: withBilling() });
    expect(await screen.findByText(/being confirmed by Stripe/)).toBeTruthy();
    expect(await screen.findByText('Starter', { selector: 'strong' }, { timeout: 5000 })).toBeTruthy();
    expect(screen.queryByText(/being confirmed by Stripe/)).toBeNull();
    window.history.replaceState(null, '', '/');
  });

  it('does not exist without billing, nor for admins, and the settings tab shows only for owners with billing', () => {
    const { unmount } = renderSignedIn(
      <>
        <SettingsNav />
        <BillingPage />
      </>,
      { role: 'owner' },
    );
    expect(screen.getByRole('heading', { name: 'Page not found' })).toBeTruthy();
    expect(within(screen.getByRole('navigation', { name: 'Settings' })).queryByRole('link', { name: 'Billing' })).toBeNull();
    unmount();
    const admin = renderSignedIn(
      <>
        <SettingsNav />
        <BillingPage />
      </>,
      { me: withBilling('admin') },
    );
    expect(screen.getByRole('heading', { name: 'Page not found' })).toBeTruthy();
    expect(screen.queryByRole('link', { name: 'Billing' })).toBeNull();
    admin.unmount();
    renderSignedIn(<SettingsNav />, { me: withBilling('owner') });
    expect(screen.getByRole('link', { name: 'Billing' })).toBeTruthy();
    expect(calls.filter((c) => c.path.startsWith('/api/v1/billing'))).toEqual([]);
  });
});
