/**
 * The apps' own words for what the API reports. The API's `details[]` carry a stable `code` per field
 * problem (with the bound or format that applies); people read a sentence written here, in their
 * language, never the API's or a validator's wording. Error codes of whole requests map the same way;
 * a code the app does not know yet falls back to the API's message, which is written for people too.
 */
export type ProblemLocale = 'en' | 'de';

export interface FieldProblem {
  field?: string;
  code: string;
  message: string;
  bound?: number;
  minimum?: number;
  maximum?: number;
  format?: string;
}

const FORMATS: Record<ProblemLocale, Record<string, string>> = {
  en: {
    email: 'Enter an email address, like name@example.com.',
    uri: 'Enter a full web address that starts with https://.',
    url: 'Enter a full web address that starts with https://.',
    'date-time': 'Enter a date and a time.',
    date: 'Enter a date.',
    uuid: 'This reference is not valid any more. Reload the page and try again.',
    hostname: 'Enter a domain name, like news.example.com.',
  },
  de: {
    email: 'Geben Sie eine E-Mail-Adresse ein, z. B. name@example.com.',
    uri: 'Geben Sie eine vollständige Webadresse ein, die mit https:// beginnt.',
    url: 'Geben Sie eine vollständige Webadresse ein, die mit https:// beginnt.',
    'date-time': 'Geben Sie ein Datum und eine Uhrzeit ein.',
    date: 'Geben Sie ein Datum ein.',
    uuid: 'Dieser Verweis ist nicht mehr gültig. Laden Sie die Seite neu und versuchen Sie es erneut.',
    hostname: 'Geben Sie einen Domainnamen ein, z. B. news.example.com.',
  },
};

type Words = Record<string, (p: FieldProblem) => string>;

const FIELD_WORDS: Record<ProblemLocale, Words> = {
  en: {
    required: () => 'Fill this in.',
    too_short: (p) => (p.bound === undefined || p.bound <= 1 ? 'Fill this in.' : `Use at least ${p.bound} characters.`),
    too_long: (p) => (p.bound === undefined ? 'This is too long.' : `Use at most ${p.bound} characters.`),
    too_many: (p) => (p.bound === undefined ? 'Choose fewer.' : `Choose at most ${p.bound}.`),
    too_few: (p) => (p.bound === undefined ? 'Choose more.' : `Choose at least ${p.bound}.`),
    out_of_range: (p) =>
      p.minimum !== undefined ? `Enter ${p.minimum} or more.` : p.maximum !== undefined ? `Enter ${p.maximum} or less.` : 'This number is out of range.',
    invalid_format: (p) => FORMATS.en[p.format ?? ''] ?? 'This is not in the expected form.',
    invalid_type: () => 'This value is of the wrong kind.',
    invalid_value: () => 'Choose one of the offered options.',
    not_allowed: () => 'This cannot be set here.',
    invalid_characters: () => 'Remove control characters and invisible symbols.',
    duplicate: () => 'Each entry may appear only once.',
  },
  de: {
    required: () => 'Bitte ausfüllen.',
    too_short: (p) => (p.bound === undefined || p.bound <= 1 ? 'Bitte ausfüllen.' : `Mindestens ${p.bound} Zeichen.`),
    too_long: (p) => (p.bound === undefined ? 'Das ist zu lang.' : `Höchstens ${p.bound} Zeichen.`),
    too_many: (p) => (p.bound === undefined ? 'Bitte weniger auswählen.' : `Höchstens ${p.bound} auswählen.`),
    too_few: (p) => (p.bound === undefined ? 'Bitte mehr auswählen.' : `Mindestens ${p.bound} auswählen.`),
    out_of_range: (p) =>
      p.minimum !== undefined
        ? `Mindestens ${p.minimum}.`
        : p.maximum !== undefined
          ? `Höchstens ${p.maximum}.`
          : 'Die Zahl liegt außerhalb des erlaubten Bereichs.',
    invalid_format: (p) => FORMATS.de[p.format ?? ''] ?? 'Das hat nicht die erwartete Form.',
    invalid_type: () => 'Dieser Wert hat die falsche Art.',
    invalid_value: () => 'Bitte eine der angebotenen Möglichkeiten wählen.',
    not_allowed: () => 'Das kann hier nicht gesetzt werden.',
    invalid_characters: () => 'Bitte Steuerzeichen und unsichtbare Zeichen entfernen.',
    duplicate: () => 'Jeder Eintrag darf nur einmal vorkommen.',
  },
};

const FALLBACK: Record<ProblemLocale, string> = { en: 'This value is not valid.', de: 'Dieser Wert ist ungültig.' };

/**
 * A sentence for one field problem, in the app's words. An operation's own code (an MJML line, an
 * unknown topic) keeps the API's message, which names the problem for people; it is never a validator's.
 */
export function describeFieldProblem(problem: FieldProblem, locale: ProblemLocale = 'en'): string {
  const words = FIELD_WORDS[locale][problem.code];
  if (words) return words(problem);
  return problem.code !== 'invalid' && problem.message ? problem.message : FALLBACK[locale];
}

/** Whole-request error codes the apps word themselves (the rest keep the API's own message). */
const REQUEST_WORDS: Record<ProblemLocale, Record<string, string>> = {
  en: {
    validation_error: 'Some fields need your attention.',
    rate_limited: 'Too many requests in a short time. Wait a minute and try again.',
    insufficient_role: 'Your role in this organization does not allow this.',
    insufficient_scope: 'This key is not allowed to do this.',
    session_required: 'Your session has ended. Sign in again.',
    csrf_failed: 'The request was blocked for your safety. Reload the page and try again.',
    organization_suspended: 'This organization is suspended: nothing can be changed or sent until a platform operator lifts it.',
    idempotency_key_in_use: 'The same change is still being saved. Wait a moment.',
    provider_unavailable: 'The email provider could not be reached. Try again in a few minutes.',
    provider_rate_limited: 'The email provider is busy. Try again in a minute.',
    internal_error: 'Something went wrong on our side. Try again; if it keeps happening, tell your administrator.',
    service_unavailable: 'The service is briefly unavailable. Try again in a moment.',
    token_expired: 'This link has expired.',
    invalid_token: 'This link is not valid.',
    invalid_filter: 'A condition of the segment does not fit its field. Check the marked condition.',
    filter_timeout: 'Counting this segment took too long. Make the conditions narrower and try again.',
    tag_not_found: 'A topic in the conditions no longer exists. Choose another one.',
  },
  de: {
    validation_error: 'Einige Felder brauchen Ihre Aufmerksamkeit.',
    rate_limited: 'Zu viele Anfragen in kurzer Zeit. Bitte warten Sie eine Minute.',
    insufficient_role: 'Ihre Rolle in dieser Organisation erlaubt das nicht.',
    insufficient_scope: 'Dieser Schlüssel darf das nicht.',
    session_required: 'Ihre Sitzung ist abgelaufen. Bitte melden Sie sich erneut an.',
    csrf_failed: 'Die Anfrage wurde zu Ihrer Sicherheit blockiert. Laden Sie die Seite neu.',
    organization_suspended: 'Diese Organisation ist gesperrt.',
    idempotency_key_in_use: 'Dieselbe Änderung wird noch gespeichert. Einen Moment bitte.',
    provider_unavailable: 'Der E-Mail-Dienst ist nicht erreichbar. Bitte später erneut versuchen.',
    provider_rate_limited: 'Der E-Mail-Dienst ist ausgelastet. Bitte in einer Minute erneut versuchen.',
    internal_error: 'Bei uns ist etwas schiefgelaufen. Bitte erneut versuchen.',
    service_unavailable: 'Der Dienst ist kurz nicht verfügbar. Bitte gleich erneut versuchen.',
    token_expired: 'Dieser Link ist abgelaufen.',
    invalid_token: 'Dieser Link ist ungültig.',
    invalid_filter: 'Eine Bedingung des Segments passt nicht zu ihrem Feld. Bitte die markierte Bedingung prüfen.',
    filter_timeout: 'Das Zählen dieses Segments dauerte zu lange. Bitte die Bedingungen enger fassen und erneut versuchen.',
    tag_not_found: 'Ein Thema in den Bedingungen gibt es nicht mehr. Bitte ein anderes wählen.',
  },
};

/** The app's sentence for a whole-request error code, or undefined to keep the API's message. */
export function describeRequestProblem(code: string, locale: ProblemLocale = 'en'): string | undefined {
  return REQUEST_WORDS[locale][code];
}

/** Field name (dotted path) → sentence, the first problem per field. */
export function fieldSentences(details: readonly Partial<FieldProblem>[], locale: ProblemLocale = 'en'): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const detail of details) {
    if (!detail.field || fields[detail.field]) continue;
    fields[detail.field] = describeFieldProblem({ message: '', code: 'invalid', ...detail } as FieldProblem, locale);
  }
  return fields;
}

/** The plain checks a form does before it asks the server: a readable address, a filled-in field. */
export const looksLikeEmail = (value: string): boolean => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value.trim());
