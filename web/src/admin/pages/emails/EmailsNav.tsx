import { Link, useLocation } from '../../router';

const TABS = [
  { to: '/emails', label: 'Email log' },
  { to: '/emails/suppressions', label: 'Suppression list' },
];

/** The two views of what was sent: every message, and the addresses nothing is sent to. */
export function EmailsNav() {
  const { path } = useLocation();
  return (
    <nav className="subnav" aria-label="Emails">
      <ul>
        {TABS.map((t) => (
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
