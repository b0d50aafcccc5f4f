import type { DocsVariant } from './site.ts';
import { INTERNAL_DIR } from './site.ts';

/**
 * The sidebar follows a reader's path: understand the product, make a first API call, build on it, run it
 * yourself, then look things up. The internal build appends the team's pages at the end; the public build
 * never references them (Starlight fails the build on a sidebar link to a page that does not exist).
 */

type SidebarItem =
  | string
  | { label: string; link: string; badge?: string }
  | { label: string; items: SidebarItem[]; collapsed?: boolean; badge?: string }
  | { autogenerate: { directory: string; collapsed?: boolean } };

const publicSidebar: SidebarItem[] = [
  {
    label: 'Start here',
    items: ['start/overview', 'start/concepts', 'start/quickstart'],
  },
  {
    label: 'Guides',
    items: [
      'guides/email',
      'guides/subscriber-list',
      'guides/campaigns',
      'guides/automations',
      'guides/signup-forms',
      'guides/preference-center',
      'guides/gdpr-and-consent',
      'guides/sdk',
      'guides/mcp',
      'guides/webhooks',
    ],
  },
  {
    label: 'Self-hosting',
    items: [
      'self-hosting/overview',
      'self-hosting/docker-compose',
      'self-hosting/cloudflare-tunnel',
      'self-hosting/dokploy',
      'self-hosting/backups',
      'self-hosting/billing',
    ],
  },
  {
    label: 'Reference',
    items: ['reference/configuration', 'reference/events', { label: 'API reference', items: [{ autogenerate: { directory: 'reference/api' } }] }],
  },
  'troubleshooting',
];

const internalSidebar: SidebarItem[] = [
  {
    label: 'Internal',
    badge: 'Team',
    items: [
      `${INTERNAL_DIR}/overview`,
      `${INTERNAL_DIR}/architecture`,
      { label: 'Decision records', collapsed: true, items: [{ autogenerate: { directory: `${INTERNAL_DIR}/adr` } }] },
      { label: 'Runbooks', items: [{ autogenerate: { directory: `${INTERNAL_DIR}/runbooks` } }] },
      `${INTERNAL_DIR}/releasing`,
    ],
  },
];

export function sidebarFor(variant: DocsVariant): SidebarItem[] {
  return variant === 'internal' ? [...publicSidebar, ...internalSidebar] : publicSidebar;
}
