import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { PreferenceSettingsService } from './settings.service.ts';
import type { PreferenceCenterService } from './preference-center.service.ts';
import { requireAuth } from '../auth/index.ts';
import { authErrors } from '../common.schemas.ts';
import { PreviewResponse, SettingsPatchBody, SettingsResponse } from './preference-center.schemas.ts';

/**
 * Preference-center settings of the caller's organization. Both routes need `subscribers:write`, which
 * for dashboard sessions means the admin role: what subscribers see and who may embed the page is an
 * admin decision, and viewers have no use for the raw settings.
 */
export const preferenceSettingsRoutes: FastifyPluginAsyncTypebox<{
  settings: PreferenceSettingsService;
  preferenceCenter: Pick<PreferenceCenterService, 'previewLink'>;
}> = async (app, { settings, preferenceCenter }) => {
  app.get(
    '/settings/preference-center',
    {
      schema: {
        tags: ['settings'],
        operationId: 'getPreferenceCenterSettings',
        summary: 'Texts, branding, double opt-in and allowed origins of the preference center',
        response: { 200: SettingsResponse, ...authErrors },
      },
      config: { access: { scope: 'subscribers:write' } },
    },
    async (request) => settings.get(requireAuth(request).organizationId),
  );

  app.patch(
    '/settings/preference-center',
    {
      schema: {
        tags: ['settings'],
        operationId: 'updatePreferenceCenterSettings',
        summary: 'Change preference-center settings; texts merge per locale, null restores a default text',
        body: SettingsPatchBody,
        response: { 200: SettingsResponse, ...authErrors },
      },
      config: { access: { scope: 'subscribers:write' } },
    },
    async (request) => settings.update(requireAuth(request).organizationId, request.body),
  );

  app.post(
    '/settings/preference-center/preview',
    {
      schema: {
        tags: ['settings'],
        operationId: 'previewPreferenceCenter',
        summary: 'A read-only link to the preference center with a sample subscriber, valid for 15 minutes',
        description: 'The link shows the real settings, footer and topics; nothing can be changed through it.',
        response: { 200: PreviewResponse, ...authErrors },
      },
      config: { access: { scope: 'subscribers:write' } },
    },
    async (request) => preferenceCenter.previewLink(requireAuth(request).organizationId),
  );
};
