import type { Locale } from './preference-center.schemas.ts';
import { greetingName, renderActionEmail } from './email-layout.ts';

const COPY = {
  en: {
    subject: (org: string) => `Your link to manage your subscription to ${org}`,
    greeting: (name: string | null) => (name ? `Hello ${name},` : 'Hello,'),
    body: (org: string, days: number) =>
      `here is your personal link to choose which emails you get from ${org}, download your data or delete it. It works for ${days} days.`,
    action: 'Manage my subscription',
    footer: 'If you did not ask for this link, you can ignore this email.',
  },
  de: {
    subject: (org: string) => `Ihr Link zur Verwaltung Ihres Abonnements bei ${org}`,
    greeting: (name: string | null) => (name ? `Hallo ${name},` : 'Hallo,'),
    body: (org: string, days: number) =>
      `hier ist Ihr persönlicher Link, mit dem Sie wählen, welche E-Mails Sie von ${org} erhalten, und Ihre Daten herunterladen oder löschen. Er ist ${days} Tage gültig.`,
    action: 'Abonnement verwalten',
    footer: 'Wenn Sie diesen Link nicht angefordert haben, können Sie diese E-Mail ignorieren.',
  },
} as const;

/** The "here is a fresh link" email of the request-link flow. */
export function preferenceLinkEmail(input: { locale: Locale; organizationName: string; firstName: string | null; url: string; validDays: number }) {
  const copy = COPY[input.locale];
  const { html, text } = renderActionEmail({
    lang: input.locale,
    heading: copy.subject(input.organizationName),
    paragraphs: [copy.greeting(greetingName(input.firstName)), copy.body(input.organizationName, input.validDays)],
    action: copy.action,
    url: input.url,
    footer: copy.footer,
  });
  return { subject: copy.subject(input.organizationName), html, text };
}
