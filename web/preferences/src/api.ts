import { createApiClient } from '@shared/api/client';
import type { paths } from '@shared/api/client';

/** The API as the preference app uses it; types come from the generated OpenAPI schema. */
export const api = createApiClient({ baseUrl: import.meta.env.VITE_API_URL ?? '' });

type Json<P extends keyof paths, M extends keyof paths[P], S extends number> = paths[P][M] extends {
  responses: Record<S, { content: { 'application/json': infer T } }>;
}
  ? T
  : never;

export type PreferenceView = Json<'/api/v1/preference-center', 'get', 200>;
export type PublicOrganization = PreferenceView['organization'];
export type Topic = PreferenceView['tags'][number];

/** A topic's name and description in the page's language, else the organization's own wording. */
export function topicWords(topic: Pick<Topic, 'display_name' | 'description' | 'translations'>, locale: 'en' | 'de') {
  const translated = topic.translations[locale];
  return { name: translated?.name ?? topic.display_name, description: translated?.description ?? topic.description };
}
export type ConfirmationInfo = Json<'/api/v1/public/confirmation', 'get', 200>;

export const loadView = (token: string) => api.GET('/api/v1/preference-center', { params: { query: { token } } });
