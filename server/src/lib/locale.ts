/**
 * A subscriber's locale: a BCP 47 style language tag of a 2–3 letter language and up to three subtags
 * ("de", "de-AT", "pt-BR", "zh-Hant-TW", "es-419"), at most 35 characters. Stored in one canonical
 * spelling (language lower case, a 4-letter script title case, a 2-letter region upper case), so "DE_at"
 * and "de-AT" are the same locale; the database checks the same shape.
 */
export const LOCALE_PATTERN = '^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8}){0,3}$';
const shape = new RegExp(LOCALE_PATTERN);
export const LOCALE_MAX_LENGTH = 35;

/** The canonical spelling of a locale, or null when it is not one. */
export function normalizeLocale(value: string): string | null {
  const trimmed = value.trim();
  if (trimmed.length > LOCALE_MAX_LENGTH || !shape.test(trimmed)) return null;
  const [language, ...rest] = trimmed.split(/[-_]/);
  return [
    language!.toLowerCase(),
    ...rest.map((part) =>
      /^[A-Za-z]{4}$/.test(part) ? part[0]!.toUpperCase() + part.slice(1).toLowerCase() : part.length === 2 ? part.toUpperCase() : part.toLowerCase(),
    ),
  ].join('-');
}
