import { notFound } from '../../lib/errors.ts';
import type { PreferenceCenterRepository } from './preference-center.repository.ts';
import type { SettingsPatchInput } from './preference-center.schemas.ts';
import { mergeSettings, readSettings, supportedLocale } from './settings.ts';

/** The admin side of the preference center: texts, branding, double opt-in and allowed origins. */
export function createPreferenceSettingsService(deps: { repository: PreferenceCenterRepository }) {
  const { repository: repo } = deps;

  async function get(organizationId: string) {
    const organization = await repo.organizationById(organizationId);
    if (!organization) throw notFound('organization');
    return { ...readSettings(organization.preference_center), locale: supportedLocale(organization.locale) };
  }

  return {
    get,

    /** Read, merge, write: two admins saving at the same instant means the later save wins, as in a form. */
    async update(organizationId: string, patch: SettingsPatchInput) {
      const { locale, ...rest } = await get(organizationId);
      const { locale: nextLocale, ...changes } = patch;
      const merged = mergeSettings(rest, changes);
      await repo.updateSettings(organizationId, merged, nextLocale);
      return { ...merged, locale: nextLocale ?? locale };
    },
  };
}

export type PreferenceSettingsService = ReturnType<typeof createPreferenceSettingsService>;
