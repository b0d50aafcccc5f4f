import type { Role } from '../api';
import { Link, useLocation } from '../router';
import { useSession } from '../session';

const TABS: { to: string; label: string; role?: Role; billing?: true }[] = [
  { to: '/settings/organization', label: 'Organization' },
  { to: '/settings/email', label: 'Sender & domains' },
  { to: '/settings/preference-center', label: 'Preference center', role: 'admin' },
  { to: '/settings/api-keys', label: 'API keys', role: 'admin' },
  { to: '/settings/webhooks', label: 'Webhooks' },
  { to: '/settings/members', label: 'Members' },
  { to: '/settings/audit-log', label: 'Audit log', role: 'admin' },
  // Only where the installation sells plans (Stripe keys configured); self-hosted dashboards never show it.
  { to: '/settings/billing', label: 'Billing', role: 'owner', billing: true },
];

/** The settings sections, as a secondary navigation under the page heading. */
export function SettingsNav() {
  const { path } = useLocation();
  const { can, me } = useSession();
  return (
    <nav className="subnav" aria-label="Settings">
      <ul>
        {TABS.filter((t) => (!t.role || can(t.role)) && (!t.billing || me.features.billing)).map((t) => (
          <li key={t.to}>
            <Link to={t.to} aria-current={path === t.to ? 'page' : undefined}>
              {t.label}
            </Link>
          </li>
        ))}
      </ul>
    </nav>
  );
}
