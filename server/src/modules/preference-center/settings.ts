import type { OrganizationFooter, OrganizationProfile } from './preference-center.repository.ts';
import { LOCALES, type Locale } from './preference-center.schemas.ts';

/** The texts an organization may override, per locale; anything left out falls back to the app's own. */
export interface Texts {
  title?: string;
  intro?: string;
  save?: string;
  unsubscribe_all?: string;
  consent?: string;
}

/** What `organizations.preference_center` holds, after reading it defensively. */
export interface PreferenceCenterSettings {
  texts: Partial<Record<Locale, Texts>>;
  logo_url: string | null;
  accent_color: string | null;
  double_opt_in: boolean;
  embed_origins: string[];
  form_origins: string[];
}

export type SettingsPatch = {
  texts?: Partial<Record<Locale, { [K in keyof Texts]?: string | null }>>;
  logo_url?: string | null;
  accent_color?: string | null;
  double_opt_in?: boolean;
  embed_origins?: string[];
  form_origins?: string[];
};

const TEXT_KEYS = ['title', 'intro', 'save', 'unsubscribe_all', 'consent'] as const;

const isString = (value: unknown): value is string => typeof value === 'string' && value.length > 0;
const stringList = (value: unknown): string[] => (Array.isArray(value) ? value.filter(isString) : []);

/**
 * Reads the stored JSON into a complete settings object. The column is written only through
 * `mergeSettings`, but it predates this module and may hold anything, so unknown or malformed entries are
 * dropped rather than trusted. Double opt-in is on unless an admin turned it off.
 */
export function readSettings(raw: unknown): PreferenceCenterSettings {
  const stored = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const storedTexts = (stored.texts && typeof stored.texts === 'object' ? stored.texts : {}) as Record<string, unknown>;
  const texts: Partial<Record<Locale, Texts>> = {};
  for (const locale of LOCALES) {
    const entry = storedTexts[locale];
    if (!entry || typeof entry !== 'object') continue;
    const picked: Texts = {};
    for (const key of TEXT_KEYS) {
      const value = (entry as Record<string, unknown>)[key];
      if (isString(value)) picked[key] = value;
    }
    if (Object.keys(picked).length > 0) texts[locale] = picked;
  }
  return {
    texts,
    logo_url: isString(stored.logo_url) ? stored.logo_url : null,
    accent_color: isString(stored.accent_color) ? stored.accent_color : null,
    double_opt_in: stored.double_opt_in !== false,
    embed_origins: stringList(stored.embed_origins),
    form_origins: stringList(stored.form_origins),
  };
}

/** Applies a PATCH: top-level fields replace, texts merge per locale and key, and null removes a text. */
export function mergeSettings(current: PreferenceCenterSettings, patch: SettingsPatch): PreferenceCenterSettings {
  const texts: Partial<Record<Locale, Texts>> = { ...current.texts };
  for (const locale of LOCALES) {
    const changes = patch.texts?.[locale];
    if (!changes) continue;
    const merged: Texts = { ...(texts[locale] ?? {}) };
    for (const key of TEXT_KEYS) {
      if (!(key in changes)) continue;
      const value = changes[key];
      if (value === null || value === undefined || value.trim() === '') delete merged[key];
      else merged[key] = value.trim();
    }
    if (Object.keys(merged).length > 0) texts[locale] = merged;
    else delete texts[locale];
  }
  const origins = (list: string[] | undefined, fallback: string[]) =>
    list === undefined ? fallback : [...new Set(list.map((origin) => origin.toLowerCase()))];
  return {
    texts,
    logo_url: patch.logo_url !== undefined ? patch.logo_url : current.logo_url,
    accent_color: patch.accent_color !== undefined ? (patch.accent_color?.toLowerCase() ?? null) : current.accent_color,
    double_opt_in: patch.double_opt_in ?? current.double_opt_in,
    embed_origins: origins(patch.embed_origins, current.embed_origins),
    form_origins: origins(patch.form_origins, current.form_origins),
  };
}

/** The organization's locale when the app supports it, else English. */
export const supportedLocale = (value: string | null | undefined): Locale => ((LOCALES as readonly string[]).includes(value ?? '') ? (value as Locale) : 'en');

/**
 * The organization as a subscriber's browser sees it: name, look and words, and the footer (postal
 * address, privacy and imprint pages) when set; nothing about sending.
 */
export function publicOrganization(profile: OrganizationProfile & Partial<OrganizationFooter>) {
  const settings = readSettings(profile.preference_center);
  return {
    postal_address: profile.postal_address ?? null,
    privacy_url: profile.privacy_url ?? null,
    imprint_url: profile.imprint_url ?? null,
    name: profile.name,
    slug: profile.slug,
    locale: supportedLocale(profile.locale),
    logo_url: settings.logo_url,
    accent_color: settings.accent_color,
    texts: settings.texts,
  };
}

const DEFAULT_CONSENT: Record<Locale, (organization: string) => string> = {
  en: (organization) =>
    `Yes, I want to receive emails from ${organization} about the topics I chose. I can unsubscribe at any time with the link in every email.`,
  de: (organization) =>
    `Ja, ich möchte E-Mails von ${organization} zu den gewählten Themen erhalten. Ich kann mich jederzeit über den Link in jeder E-Mail abmelden.`,
};

/**
 * The consent wording of the confirmation page in every locale. The page shows it and the confirmation
 * records the one shown, so this function is the single source of the text.
 */
export function consentWording(profile: OrganizationProfile): Record<Locale, string> {
  const settings = readSettings(profile.preference_center);
  return Object.fromEntries(LOCALES.map((locale) => [locale, settings.texts[locale]?.consent ?? DEFAULT_CONSENT[locale](profile.name)])) as Record<
    Locale,
    string
  >;
}
