import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../api';
import { keys } from '../keys';
import { Link, useLocation } from '../router';
import { useOrganization, useSession } from '../session';
import { formatDate } from '../ui/misc';

const BILLING_PAGE = '/settings/billing';

/**
 * On every page, for owners and admins of an organization whose subscription is past due: what happens
 * and by when, with the way to fix it ("Manage billing" for owners, who alone can; admins are told to
 * ask one). Nothing without billing, for viewers, or on the billing page itself (it says the same).
 */
export function PastDueBanner() {
  const { me } = useSession();
  const { organizationId, can } = useOrganization();
  const { path } = useLocation();
  const shown = me.features.billing && can('admin');
  const status = useQuery({
    queryKey: keys.billingStatus(organizationId),
    queryFn: () => unwrap(api.GET('/api/v1/billing/status')),
    enabled: shown,
    staleTime: 5 * 60_000,
  });
  const data = status.data;
  if (!shown || !data?.past_due || path === BILLING_PAGE) return null;
  const what = data.grace_over
    ? "The last payment failed and the grace period is over: the Free plan's limits apply until the payment method is updated."
    : `The last payment failed. Unless the payment method is updated by ${formatDate(data.grace_ends_at)}, the Free plan's limits apply.`;
  return (
    <div className="banner banner--warn past-due-banner" role="alert">
      <p>{what}</p>
      {can('owner') ? (
        <Link to={BILLING_PAGE} className="sf-button sf-button--secondary button-small">
          Manage billing
        </Link>
      ) : (
        <p>An owner of this organization can update it under Settings, Billing.</p>
      )}
    </div>
  );
}
