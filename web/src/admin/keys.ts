/**
 * Query keys, built in one place so that a mutation invalidates exactly what it changed. Everything an
 * organization owns sits under ['org', id], so switching organizations can never show one tenant's
 * cached data under another's name.
 */
/** The list's query as the URL holds it (search, filters, sort) plus the page's cursor. */
export type SubscriberFilters = Record<string, string | undefined>;

const org = (organizationId: string) => ['org', organizationId] as const;

export const keys = {
  me: () => ['me'] as const,
  sessions: () => ['sessions'] as const,
  org,
  overview: (o: string) => [...org(o), 'stats', 'overview'] as const,
  billing: (o: string) => [...org(o), 'billing'] as const,
  billingStatus: (o: string) => [...org(o), 'billing', 'status'] as const,
  growth: (o: string, days: number) => [...org(o), 'stats', 'growth', days] as const,
  subscribers: {
    all: (o: string) => [...org(o), 'subscribers'] as const,
    lists: (o: string) => [...org(o), 'subscribers', 'list'] as const,
    list: (o: string, filters: SubscriberFilters) => [...org(o), 'subscribers', 'list', filters] as const,
    detail: (o: string, id: string) => [...org(o), 'subscribers', 'detail', id] as const,
    events: (o: string, id: string) => [...org(o), 'subscribers', 'detail', id, 'events'] as const,
    notes: (o: string, id: string) => [...org(o), 'subscribers', 'detail', id, 'notes'] as const,
    emails: (o: string, id: string) => [...org(o), 'subscribers', 'detail', id, 'emails'] as const,
  },
  tags: {
    all: (o: string) => [...org(o), 'tags'] as const,
  },
  campaigns: {
    all: (o: string) => [...org(o), 'campaigns'] as const,
    list: (o: string, status: string) => [...org(o), 'campaigns', 'list', status] as const,
    detail: (o: string, id: string) => [...org(o), 'campaigns', 'detail', id] as const,
  },
  segments: {
    all: (o: string) => [...org(o), 'segments'] as const,
    list: (o: string) => [...org(o), 'segments', 'list'] as const,
    detail: (o: string, id: string) => [...org(o), 'segments', 'detail', id] as const,
    members: (o: string, id: string) => [...org(o), 'segments', 'detail', id, 'members'] as const,
    preview: (o: string, filter: unknown) => [...org(o), 'segments', 'preview', filter] as const,
  },
  automations: {
    all: (o: string) => [...org(o), 'automations'] as const,
    detail: (o: string, id: string) => [...org(o), 'automations', 'detail', id] as const,
    runs: (o: string, subscriberId: string) => [...org(o), 'automations', 'runs', subscriberId] as const,
  },
  templates: {
    all: (o: string) => [...org(o), 'templates'] as const,
    list: (o: string, status: string) => [...org(o), 'templates', 'list', status] as const,
    detail: (o: string, id: string) => [...org(o), 'templates', 'detail', id] as const,
    preview: (o: string, id: string, input: { version: string; variables: string; draft: Record<string, string> }) =>
      [...org(o), 'templates', 'detail', id, 'preview', input] as const,
  },
  emails: {
    list: (o: string, filters: { to?: string; status?: string; category?: string }) => [...org(o), 'emails', 'list', filters] as const,
    detail: (o: string, id: string) => [...org(o), 'emails', 'detail', id] as const,
    content: (o: string, id: string) => [...org(o), 'emails', 'detail', id, 'content'] as const,
  },
  suppressions: {
    all: (o: string) => [...org(o), 'suppressions'] as const,
    list: (o: string, q: string) => [...org(o), 'suppressions', 'list', q] as const,
  },
  mailbox: (o: string, to: string) => [...org(o), 'mailbox', to] as const,
  organization: (o: string) => [...org(o), 'organization'] as const,
  emailSettings: (o: string) => [...org(o), 'settings', 'email'] as const,
  contactSync: (o: string) => [...org(o), 'settings', 'contact-sync'] as const,
  domains: (o: string) => [...org(o), 'settings', 'domains'] as const,
  preferenceCenter: (o: string) => [...org(o), 'settings', 'preference-center'] as const,
  apiKeys: (o: string) => [...org(o), 'api-keys'] as const,
  webhooks: {
    all: (o: string) => [...org(o), 'webhooks'] as const,
    list: (o: string) => [...org(o), 'webhooks', 'list'] as const,
    eventTypes: (o: string) => [...org(o), 'webhooks', 'event-types'] as const,
    deliveries: (o: string, id: string, status: string) => [...org(o), 'webhooks', 'deliveries', id, status] as const,
    delivery: (o: string, id: string) => [...org(o), 'webhooks', 'delivery', id] as const,
  },
  members: (o: string) => [...org(o), 'members'] as const,
  invitations: (o: string) => [...org(o), 'invitations'] as const,
  audit: (o: string, filters: { action?: string; actor_id?: string }) => [...org(o), 'audit', filters] as const,
};
