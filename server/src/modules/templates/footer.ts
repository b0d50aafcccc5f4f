/**
 * The compliance footer of marketing email: the organization's name and postal address, a link to the
 * preference center and an unsubscribe link, in the organization's language. It is compiled into the
 * template once (as MJML, so it looks like the rest of the email); its words are variables, filled in for
 * each email from the organization's locale, so changing the locale needs no recompilation.
 */
const STRINGS = {
  en: {
    reason: (organization: string) => `You receive this email because you subscribed to updates from ${organization}.`,
    manage: 'Manage preferences',
    unsubscribe: 'Unsubscribe',
  },
  de: {
    reason: (organization: string) => `Sie erhalten diese E-Mail, weil Sie Nachrichten von ${organization} abonniert haben.`,
    manage: 'Einstellungen verwalten',
    unsubscribe: 'Abmelden',
  },
} as const;

export type FooterLocale = keyof typeof STRINGS;
export const FOOTER_LOCALES = Object.keys(STRINGS) as FooterLocale[];

/** "de-AT" → "de"; unknown languages fall back to English. */
export function footerLocale(locale: string | null | undefined): FooterLocale {
  const language = (locale ?? 'en').toLowerCase().split(/[-_]/)[0] as FooterLocale;
  return language in STRINGS ? language : 'en';
}

/** The footer's words for one email, passed to the template as the `footer` variable. */
export function footerStrings(locale: string | null | undefined, organizationName: string) {
  const strings = STRINGS[footerLocale(locale)];
  return { reason: strings.reason(organizationName), manage: strings.manage, unsubscribe: strings.unsubscribe };
}

// The postal address is escaped before its line breaks become <br>, then printed raw. The name is printed
// only as the first line of the address: the reason already names the organization.
const FOOTER_MJML = `
<mj-section padding="24px 0 8px">
  <mj-column>
    <mj-divider border-width="1px" border-color="#e2e2e2" padding="0 24px 16px" />
    <mj-text align="center" font-size="12px" line-height="18px" color="#6b6b6b">
      {{ footer.reason }}<br />
      {% if organization.postal_address %}{{ organization.name }}<br />{{ organization.postal_address | escape | newline_to_br | raw }}<br />{% endif %}
      <a href="{{ preference_center_url }}" style="color:#6b6b6b">{{ footer.manage }}</a> &#183; <a href="{{ unsubscribe_url }}" style="color:#6b6b6b">{{ footer.unsubscribe }}</a>
    </mj-text>
  </mj-column>
</mj-section>
`;

/** Appends the footer as the last section of the body; undefined when there is no </mj-body>. */
export function withFooter(mjml: string): string | undefined {
  const end = mjml.lastIndexOf('</mj-body>');
  if (end < 0) return undefined;
  return `${mjml.slice(0, end)}${FOOTER_MJML}${mjml.slice(end)}`;
}
