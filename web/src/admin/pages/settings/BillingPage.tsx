import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Button } from '@shared/ui/Button';
import { useToast } from '@shared/ui/Toasts';
import { api, describeError, unwrap, type ResponseOf } from '../../api';
import { keys } from '../../keys';
import { SettingsNav } from '../../layout/SettingsNav';
import { useOrganization, useSession } from '../../session';
import { Badge, formatDate, formatNumber } from '../../ui/misc';
import { Page, Section } from '../../ui/Page';
import { QueryView } from '../../ui/States';
import NotFoundPage from '../NotFoundPage';

type Billing = ResponseOf<'/api/v1/billing', 'get'>;
type LimitName = Billing['usage'][number]['limit'];

const LIMIT_LABEL: Record<LimitName, string> = {
  subscribers: 'Subscribers',
  emails_per_month: 'Emails this period',
  webhook_endpoints: 'Webhook endpoints',
  custom_domains: 'Custom sending domains',
};

const limitText = (max: number | null, unit: string) => (max === null ? `Unlimited ${unit}` : max === 0 ? `No ${unit}` : `${formatNumber(max)} ${unit}`);

/** The browser leaves for Stripe's page (Checkout or the portal); it comes back to this page. */
const leaveFor = (url: string) => window.location.assign(url);

function Usage({ usage }: { usage: Billing['usage'] }) {
  return (
    <dl className="usage-list">
      {usage.map((u) => {
        const share = u.max ? Math.min(1, u.used / u.max) : 0;
        return (
          <div key={u.limit}>
            <dt>{LIMIT_LABEL[u.limit]}</dt>
            <dd>
              {u.max === null ? `${formatNumber(u.used)} (no limit)` : `${formatNumber(u.used)} of ${formatNumber(u.max)}`}
              {u.max !== null && u.max > 0 ? (
                <progress
                  className={`usage${share >= 0.8 ? ' usage--high' : ''}`}
                  max={u.max}
                  value={Math.min(u.used, u.max)}
                  aria-label={`${LIMIT_LABEL[u.limit]}: ${formatNumber(u.used)} of ${formatNumber(u.max)}`}
                />
              ) : null}
            </dd>
          </div>
        );
      })}
    </dl>
  );
}

function BillingDetails({ billing }: { billing: Billing }) {
  const toast = useToast();
  const checkout = useMutation({
    mutationFn: (plan: string) => unwrap(api.POST('/api/v1/billing/checkout', { body: { plan } })),
    onSuccess: ({ url }) => leaveFor(url),
    onError: (error) => toast.error(describeError(error)),
  });
  const portal = useMutation({
    mutationFn: () => unwrap(api.POST('/api/v1/billing/portal')),
    onSuccess: ({ url }) => leaveFor(url),
    onError: (error) => toast.error(describeError(error)),
  });
  const subscribed = billing.status !== null && !['canceled', 'incomplete_expired'].includes(billing.status);
  const busy = checkout.isPending || portal.isPending;
  return (
    <>
      {billing.past_due ? (
        <p className="banner banner--warn" role="alert">
          {billing.subscribed_plan
            ? `The last payment failed and the grace period is over: the ${billing.subscribed_plan.name} plan's limits no longer apply, the Free plan's do. Update the payment method to restore them.`
            : `The last payment failed. Update the payment method by ${formatDate(billing.grace_ends_at)}, or the organization falls back to the Free plan's limits.`}
        </p>
      ) : null}
      <Section
        title="Current plan"
        actions={
          billing.has_billing_account ? (
            <Button onClick={() => portal.mutate()} disabled={busy}>
              Manage billing
            </Button>
          ) : null
        }
      >
        <p>
          <strong>{billing.plan.name}</strong>{' '}
          {billing.status ? (
            <Badge
              status={billing.status === 'past_due' ? 'failed' : billing.status === 'active' ? 'active' : 'pending'}
              label={billing.status.replace(/_/g, ' ')}
            />
          ) : null}
        </p>
        {billing.current_period_end && subscribed ? <p className="muted">Current period ends {formatDate(billing.current_period_end)}.</p> : null}
        <p className="muted">
          Emails count from {formatDate(billing.usage_period.start)} to {formatDate(billing.usage_period.end)}
          {billing.usage_period.basis === 'subscription' ? ' (the billing period).' : ' (the calendar month, UTC).'}
        </p>
        <Usage usage={billing.usage} />
      </Section>
      <Section title="Plans">
        <ul className="plan-cards">
          {billing.plans.map((plan) => {
            const current = plan.id === billing.plan.id;
            return (
              <li key={plan.id} className={`plan-card${current ? ' plan-card--current' : ''}`} aria-current={current ? 'true' : undefined}>
                <h3>{plan.name}</h3>
                <ul>
                  <li>{limitText(plan.limits.subscribers, 'subscribers')}</li>
                  <li>{limitText(plan.limits.emails_per_month, 'emails a month')}</li>
                  <li>{limitText(plan.limits.webhook_endpoints, 'webhook endpoints')}</li>
                  <li>{limitText(plan.limits.custom_domains, 'custom sending domains')}</li>
                </ul>
                {current ? <p className="muted">Your plan</p> : null}
                {!current && plan.purchasable && !subscribed ? (
                  <Button onClick={() => checkout.mutate(plan.id)} disabled={busy}>
                    Upgrade to {plan.name}
                  </Button>
                ) : null}
                {!current && plan.purchasable && subscribed ? (
                  <Button onClick={() => portal.mutate()} disabled={busy}>
                    Change in billing portal
                  </Button>
                ) : null}
              </li>
            );
          })}
        </ul>
      </Section>
    </>
  );
}

// Back from Checkout: Stripe tells the server through its webhook, usually within seconds.
const returnedFromCheckout = () => new URLSearchParams(window.location.search).get('checkout') === 'success';
const POLL_MS = 2000;
const POLL_FOR_MS = 60_000;

function Billing() {
  const { organizationId } = useOrganization();
  const [since] = useState(() => Date.now());
  const waiting = returnedFromCheckout();
  const billing = useQuery({
    queryKey: keys.billing(organizationId),
    queryFn: () => unwrap(api.GET('/api/v1/billing')),
    // Until the subscription shows up, look again every few seconds for a minute.
    refetchInterval: (query) => (waiting && !query.state.data?.status && Date.now() - since < POLL_FOR_MS ? POLL_MS : false),
  });
  return (
    <QueryView query={billing}>
      {(data) => (
        <>
          {waiting && !data.status ? (
            <p className="banner" role="status">
              Thank you. The subscription is being confirmed by Stripe; this page updates by itself.
            </p>
          ) : null}
          <BillingDetails billing={data} />
        </>
      )}
    </QueryView>
  );
}

/** The plan, usage against each limit, upgrades through Stripe Checkout and the portal (owners, billing on). */
export default function BillingPage() {
  const { me } = useSession();
  const { can } = useOrganization();
  if (!me.features.billing || !can('owner')) return <NotFoundPage />;
  return (
    <Page title="Settings">
      <SettingsNav />
      <Billing />
    </Page>
  );
}
