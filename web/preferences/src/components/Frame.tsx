import { useEffect, useRef, type CSSProperties, type ReactNode } from 'react';
import { accessibleAccent } from '@shared/ui/contrast';
import { LOCALE_NAMES, LOCALES, type Locale } from '../i18n';
import { useUi } from '../context';
import type { PublicOrganization } from '../api';

/**
 * The page around every view: the organization's logo, name and colour, the language switcher, and a
 * main region. Views the person reached by an action (`focusTitle`) move focus to their heading, so
 * keyboard and screen-reader users land on the new content; first loads leave focus alone.
 */
export function Frame(props: { organization?: PublicOrganization | null; title: string; focusTitle?: boolean; children: ReactNode }) {
  const { locale, t, setLocale } = useUi();
  const heading = useRef<HTMLHeadingElement>(null);
  const organization = props.organization ?? null;

  useEffect(() => {
    document.title = organization ? `${props.title} – ${organization.name}` : props.title;
  }, [props.title, organization]);
  useEffect(() => {
    if (props.focusTitle) heading.current?.focus();
  }, [props.focusTitle, props.title]);

  const style = { '--sf-accent': accessibleAccent(organization?.accent_color) } as CSSProperties;
  return (
    <div className="pc-page" style={style}>
      <header className="pc-header">
        <div className="pc-brand">
          {organization?.logo_url ? <img className="pc-logo" src={organization.logo_url} alt="" /> : null}
          {organization ? <span className="pc-org">{organization.name}</span> : null}
        </div>
        <div className="pc-language">
          <label htmlFor="pc-language">{t.language}</label>
          <select id="pc-language" className="pc-select" value={locale} onChange={(event) => setLocale(event.currentTarget.value as Locale)}>
            {LOCALES.map((l) => (
              <option key={l} value={l} lang={l}>
                {LOCALE_NAMES[l]}
              </option>
            ))}
          </select>
        </div>
      </header>
      <main className="pc-main">
        <h1 ref={heading} tabIndex={-1} className="pc-title">
          {props.title}
        </h1>
        {props.children}
      </main>
      <Footer organization={organization} />
    </div>
  );
}

/** The organization's postal address and its privacy and imprint pages, when it set them. */
function Footer({ organization }: { organization: PublicOrganization | null }) {
  const { t } = useUi();
  if (!organization || !(organization.postal_address || organization.privacy_url || organization.imprint_url)) return null;
  return (
    <footer className="pc-footer" aria-label={t.footerLabel}>
      {organization.postal_address ? (
        <address className="pc-address">
          {organization.name}
          {'\n'}
          {organization.postal_address}
        </address>
      ) : null}
      {organization.privacy_url || organization.imprint_url ? (
        <ul className="pc-legal">
          {organization.privacy_url ? (
            <li>
              <a href={organization.privacy_url} rel="noopener noreferrer">
                {t.privacy}
              </a>
            </li>
          ) : null}
          {organization.imprint_url ? (
            <li>
              <a href={organization.imprint_url} rel="noopener noreferrer">
                {t.imprint}
              </a>
            </li>
          ) : null}
        </ul>
      ) : null}
    </footer>
  );
}
