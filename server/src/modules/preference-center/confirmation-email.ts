import type { Locale } from './preference-center.schemas.ts';
import { greetingName, renderActionEmail } from './email-layout.ts';

const COPY = {
  en: {
    subject: (org: string) => `Please confirm your subscription to ${org}`,
    greeting: (name: string | null) => (name ? `Hello ${name},` : 'Hello,'),
    body: (org: string) => `please confirm that you want to receive emails from ${org}. Until you confirm, we send you nothing else.`,
    action: 'Confirm my subscription',
    footer: 'If you did not sign up, ignore this email and you will not be subscribed. The link works for 7 days.',
  },
  de: {
    subject: (org: string) => `Bitte bestätigen Sie Ihr Abonnement bei ${org}`,
    greeting: (name: string | null) => (name ? `Hallo ${name},` : 'Hallo,'),
    body: (org: string) => `bitte bestätigen Sie, dass Sie E-Mails von ${org} erhalten möchten. Bis dahin senden wir Ihnen nichts weiter.`,
    action: 'Abonnement bestätigen',
    footer: 'Wenn Sie sich nicht angemeldet haben, ignorieren Sie diese E-Mail; Sie werden dann nicht eingetragen. Der Link ist 7 Tage gültig.',
  },
} as const;

/** The double-opt-in email: one link to the confirmation page, which asks for an explicit click. */
export function confirmationEmail(input: { locale: Locale; organizationName: string; firstName: string | null; url: string }) {
  const copy = COPY[input.locale];
  const { html, text } = renderActionEmail({
    lang: input.locale,
    heading: copy.subject(input.organizationName),
    paragraphs: [copy.greeting(greetingName(input.firstName)), copy.body(input.organizationName)],
    action: copy.action,
    url: input.url,
    footer: copy.footer,
  });
  return { subject: copy.subject(input.organizationName), html, text };
}
