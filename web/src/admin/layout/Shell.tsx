import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState, useSyncExternalStore, type ReactNode, type RefObject } from 'react';
import { useToast } from '@shared/ui/Toasts';
import { api, describeError, unwrap, type Role } from '../api';
import { Link, navigate, useLocation } from '../router';
import { useSession } from '../session';
import { PastDueBanner } from './PastDueBanner';

interface NavItem {
  to: string;
  label: string;
  role?: Role;
  match?: string;
}

const NAV: NavItem[] = [
  { to: '/', label: 'Overview' },
  { to: '/subscribers', label: 'Subscribers' },
  { to: '/tags', label: 'Tags' },
  { to: '/templates', label: 'Templates' },
  { to: '/campaigns', label: 'Campaigns' },
  { to: '/segments', label: 'Segments' },
  { to: '/automations', label: 'Automations' },
  { to: '/emails', label: 'Emails' },
  { to: '/mailbox', label: 'Dev mailbox', role: 'admin' },
  { to: '/settings/organization', label: 'Settings', match: '/settings' },
];

function isCurrent(item: NavItem, path: string): boolean {
  const base = item.match ?? item.to;
  return base === '/' ? path === '/' : path === base || path.startsWith(`${base}/`);
}

const PHONE = '(max-width: 900px)';

/**
 * Whether a media query matches now, following changes (rotation, window resize). Where media queries
 * are not available at all, the wide layout is the one shown.
 */
function useMedia(query: string): boolean {
  const supported = typeof window.matchMedia === 'function';
  return useSyncExternalStore(
    (onChange) => {
      if (!supported) return () => undefined;
      const list = window.matchMedia(query);
      list.addEventListener('change', onChange);
      return () => list.removeEventListener('change', onChange);
    },
    () => supported && window.matchMedia(query).matches,
    () => false,
  );
}

/**
 * Tables name their columns in every cell (`data-label`), so that on a phone, where a row becomes a
 * card, each value shows what it is. Done once here for every table of every page, including tables
 * that render later, rather than by hand in each page.
 */
function useTableLabels(root: RefObject<HTMLElement | null>) {
  useEffect(() => {
    const element = root.current;
    if (!element) return;
    const label = () => {
      for (const table of element.querySelectorAll('table')) {
        // A heading that is only there for screen readers ("Actions") is not shown above the value either.
        const names = [...table.querySelectorAll('thead th')].map((th) =>
          th.querySelector('.sf-visually-hidden') && th.children.length === 1 ? '' : (th.textContent?.trim() ?? ''),
        );
        if (names.length === 0) continue;
        for (const row of table.querySelectorAll('tbody tr')) {
          [...row.children].forEach((cell, index) => {
            const name = names[index];
            if (name && cell.getAttribute('data-label') !== name && !cell.hasAttribute('data-label-fixed')) cell.setAttribute('data-label', name);
          });
        }
      }
    };
    label();
    const observer = new MutationObserver(label);
    observer.observe(element, { childList: true, subtree: true });
    return () => observer.disconnect();
  }, [root]);
}

function OrganizationPicker({ idSuffix = '' }: { idSuffix?: string }) {
  const { me, organization, switchOrganization } = useSession();
  return (
    <div className="topbar-org">
      {me.memberships.length > 1 ? (
        <>
          <label htmlFor={`organization-switcher${idSuffix}`} className="sf-visually-hidden">
            Organization
          </label>
          <select
            id={`organization-switcher${idSuffix}`}
            className="sf-input org-select"
            value={organization.id}
            onChange={(event) => {
              switchOrganization(event.currentTarget.value);
              navigate('/');
            }}
          >
            {me.memberships.map((m) => (
              <option key={m.organization.id} value={m.organization.id}>
                {m.organization.name}
              </option>
            ))}
          </select>
        </>
      ) : (
        <span className="org-name">{organization.name}</span>
      )}
      <span className="badge badge--neutral" title="Your role in this organization">
        {ROLE_LABELS[organization.role]}
      </span>
    </div>
  );
}

const ROLE_LABELS: Record<Role, string> = { owner: 'Owner', admin: 'Admin', viewer: 'Viewer' };

/**
 * The frame of every signed-in page: skip link, header, navigation, main. On a desktop the header
 * carries the organization and the account and the navigation sits on the left; on a phone or a
 * narrow tablet the header is one row (name and a Menu button) and the menu opens over the page with
 * the navigation, the organization and the account.
 */
export function Shell({ children }: { children: ReactNode }) {
  const { me, organization, can } = useSession();
  const { path } = useLocation();
  const queryClient = useQueryClient();
  const toast = useToast();
  const phone = useMedia(PHONE);
  const [menuOpen, setMenuOpen] = useState(false);
  const menuButton = useRef<HTMLButtonElement>(null);
  const main = useRef<HTMLElement>(null);
  useTableLabels(main);
  const logout = useMutation({
    mutationFn: () => unwrap(api.POST('/api/v1/auth/logout')),
    onSuccess: () => {
      queryClient.clear();
      navigate('/login', { replace: true });
    },
    onError: (error) => toast.error(describeError(error)),
  });

  // A followed link closes the menu; so does growing to desktop width.
  useEffect(() => setMenuOpen(false), [path, phone]);
  useEffect(() => {
    if (!menuOpen) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== 'Escape') return;
      setMenuOpen(false);
      menuButton.current?.focus();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [menuOpen]);

  const account = (
    <div className="topbar-user">
      <Link to="/account" className="user-link">
        {me.user.email}
      </Link>
      <button
        type="button"
        className="sf-button sf-button--secondary button-small"
        onClick={() => logout.mutate()}
        aria-disabled={logout.isPending || undefined}
      >
        Sign out
      </button>
    </div>
  );

  return (
    <div className={`shell${menuOpen ? ' shell--menu-open' : ''}`}>
      <a className="skip-link" href="#main">
        Skip to main content
      </a>
      <header className="topbar">
        <Link to="/" className="brand">
          Subscribe Flow
        </Link>
        {phone ? (
          <button
            ref={menuButton}
            type="button"
            className="menu-button"
            aria-expanded={menuOpen}
            aria-controls="main-navigation"
            onClick={() => setMenuOpen((open) => !open)}
          >
            <span className="menu-icon" aria-hidden="true" />
            Menu
          </button>
        ) : (
          <>
            <OrganizationPicker />
            {account}
          </>
        )}
      </header>
      <nav
        id="main-navigation"
        className="sidenav"
        aria-label="Main"
        hidden={phone && !menuOpen}
        onClick={(event) => {
          if ((event.target as HTMLElement).closest('a')) setMenuOpen(false);
        }}
      >
        {phone ? (
          <div className="menu-account">
            <OrganizationPicker idSuffix="-menu" />
            {account}
          </div>
        ) : null}
        <ul>
          {NAV.filter((item) => !item.role || can(item.role)).map((item) => (
            <li key={item.to}>
              <Link to={item.to} aria-current={isCurrent(item, path) ? 'page' : undefined}>
                {item.label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" ref={main} className="main" tabIndex={-1}>
        {organization.status === 'suspended' ? (
          <p className="banner banner--warn" role="status">
            This organization is suspended: nothing can be changed or sent until a platform operator lifts it.
          </p>
        ) : null}
        <PastDueBanner />
        {children}
      </main>
    </div>
  );
}
