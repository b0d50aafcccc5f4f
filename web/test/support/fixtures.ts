import type { PreferenceView } from '../../preferences/src/api';

export const TOKEN = 'test-token-0123456789abcdef';

export function preferenceView(overrides: Partial<PreferenceView> = {}): PreferenceView {
  return {
    subscriber: { email: 'ada@example.com', first_name: 'Ada', status: 'active' },
    organization: {
      name: 'Acme News',
      slug: 'acme',
      locale: 'en',
      logo_url: null,
      accent_color: null,
      texts: {},
      postal_address: null,
      privacy_url: null,
      imprint_url: null,
    },
    categories: [{ name: 'Newsletters', display_name: 'Newsletters' }],
    can_manage_data: true,
    preview: false,
    tags: [
      {
        id: '01900000-0000-7000-8000-000000000001',
        name: 'Weekly digest',
        display_name: 'Weekly digest',
        description: 'Every Monday',
        category: 'Newsletters',
        translations: {},
        is_subscribed: true,
      },
      {
        id: '01900000-0000-7000-8000-000000000002',
        name: 'Events',
        display_name: 'Events',
        description: null,
        category: null,
        translations: {},
        is_subscribed: false,
      },
    ],
    ...overrides,
  };
}
