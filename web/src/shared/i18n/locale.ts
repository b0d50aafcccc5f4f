/**
 * Which language to show: the person's own choice (the switcher, remembered on this device) first, then
 * the browser's languages in order, then the organization's default, then the first supported one.
 */
export function chooseLocale<L extends string>(
  supported: readonly L[],
  sources: { chosen?: string | null; browser?: readonly string[]; organization?: string | null },
): L {
  const match = (tag: string | null | undefined): L | undefined => {
    if (!tag) return undefined;
    const base = tag.toLowerCase().split('-')[0]!;
    return supported.find((l) => l === base);
  };
  return match(sources.chosen) ?? (sources.browser ?? []).map(match).find(Boolean) ?? match(sources.organization) ?? supported[0]!;
}

const STORAGE_KEY = 'sf-locale';

export function rememberedLocale(): string | null {
  try {
    return window.localStorage.getItem(STORAGE_KEY);
  } catch {
    return null; // Storage is off in some embedded or private contexts.
  }
}

export function rememberLocale(locale: string): void {
  try {
    window.localStorage.setItem(STORAGE_KEY, locale);
  } catch {
    // Not remembering is fine; the choice still applies to this page.
  }
}
