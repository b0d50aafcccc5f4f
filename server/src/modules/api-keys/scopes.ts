/** Every API-key scope. A route names exactly one; a key may hold any subset. */
export const SCOPES = [
  'subscribers:read',
  'subscribers:write',
  'subscribers:delete',
  'imports:read',
  'imports:write',
  'tags:read',
  'tags:write',
  'templates:read',
  'templates:write',
  'emails:send',
  'campaigns:read',
  'campaigns:write',
  'triggers:read',
  'triggers:write',
  'events:write',
  'webhooks:read',
  'webhooks:manage',
  'api-keys:manage',
] as const;

export type Scope = (typeof SCOPES)[number];

export const isScope = (value: string): value is Scope => (SCOPES as readonly string[]).includes(value);
