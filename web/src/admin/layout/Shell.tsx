import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { useToast } from '@shared/ui/Toasts';
import { api, describeError, unwrap, type Role } from '../api';
import { Link, navigate, useLocation } from '../router';
import { useSession } from '../session';

interface NavItem { to: string; label: string; role?: Role; match?: string }

const NAV: NavItem[] = [
  { to: '/', label: 'Overview' },
  { to: '/subscribers', label: 'Subscribers' },
  { to: '/tags', label: 'Tags' },
  { to: '/templates', label: 'Templates' },
  { to: '/campaigns', label: 'Campaigns' },
  { to: '/automations', label: 'Automations' },
  { to: '/emails', label: 'Emails' },
  { to: '/mailbox', label: 'Dev mailbox', role: 'admin' },
  { to: '/settings/organization', label: 'Settings', match: '/settings' },
];

function isCurrent(item: NavItem, path: string): boolean {
  const base = item.match ?? item.to;
  return base === '/' ? path === '/' : path === base || path.startsWith(`${base}/`);
}

/** The frame of every signed-in page: skip link, header with the organization switcher, navigation, main. */
export function Shell({ children }: { children: ReactNode }) {
  const { me, organization, switchOrganization, can } = useSession();
  const { path } = useLocation();
  const queryClient = useQueryClient();
  const toast = useToast();
  const logout = useMutation({
    mutationFn: () => unwrap(api.POST('/api/v1/auth/logout')),
    onSuccess: () => {
      queryClient.clear();
      navigate('/login', { replace: true });
    },
    onError: (error) => toast.error(describeError(error)),
  });

  return (
    <div className="shell">
      <a className="skip-link" href="#main">Skip to main content</a>
      <header className="topbar">
        <Link to="/" className="brand">Subscribe Flow</Link>
        <div className="topbar-org">
          {me.memberships.length > 1 ? (
            <>
              <label htmlFor="organization-switcher" className="sf-visually-hidden">Organization</label>
              <select
                id="organization-switcher"
                className="sf-input org-select"
                value={organization.id}
                onChange={(event) => {
                  switchOrganization(event.currentTarget.value);
                  navigate('/');
                }}
              >
                {me.memberships.map((m) => <option key={m.organization.id} value={m.organization.id}>{m.organization.name}</option>)}
              </select>
            </>
          ) : <span className="org-name">{organization.name}</span>}
          <span className="badge badge--neutral" title="Your role in this organization">{organization.role}</span>
        </div>
        <div className="topbar-user">
          <Link to="/account" className="user-link">{me.user.email}</Link>
          <button type="button" className="sf-button sf-button--secondary button-small" onClick={() => logout.mutate()} aria-disabled={logout.isPending || undefined}>
            Sign out
          </button>
        </div>
      </header>
      <nav className="sidenav" aria-label="Main">
        <ul>
          {NAV.filter((item) => !item.role || can(item.role)).map((item) => (
            <li key={item.to}>
              <Link to={item.to} aria-current={isCurrent(item, path) ? 'page' : undefined}>{item.label}</Link>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" className="main" tabIndex={-1}>
        {organization.status === 'suspended' ? <p className="banner banner--warn" role="status">This organization is suspended: nothing can be changed or sent until a platform operator lifts it.</p> : null}
        {children}
      </main>
    </div>
  );
}
