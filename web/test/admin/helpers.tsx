import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render } from '@testing-library/react';
import type { ReactNode } from 'react';
import { ConfirmProvider } from '@shared/ui/Confirm';
import { ToastProvider } from '@shared/ui/Toasts';
import type { Me, Role } from '../../src/admin/api';
import { SessionProvider } from '../../src/admin/session';

export const ORG_A = '01900000-0000-7000-8000-00000000000a';
export const ORG_B = '01900000-0000-7000-8000-00000000000b';

export function me(role: Role = 'owner', organizations: { id: string; name: string }[] = [{ id: ORG_A, name: 'Acme' }]): Me {
  return {
    user: { id: '01900000-0000-7000-8000-0000000000u1', email: 'ada@example.com', name: null, is_platform_admin: false },
    memberships: organizations.map((o) => ({ organization: { id: o.id, name: o.name, slug: o.name.toLowerCase(), status: 'active' }, role })),
    current_organization: null,
    session: { id: '01900000-0000-7000-8000-0000000000s1', expires_at: '2030-01-01T00:00:00.000Z' },
    features: { billing: false },
  };
}

export function subscriber(n: number, overrides: Record<string, unknown> = {}) {
  const id = `01900000-0000-7000-8000-${String(n).padStart(12, '0')}`;
  return {
    id,
    email: `person${n}@example.com`,
    status: 'active',
    first_name: null,
    last_name: null,
    metadata: {},
    source: 'api',
    tags: [],
    confirmed_at: null,
    unsubscribed_at: null,
    created_at: '2026-11-01T10:00:00.000Z',
    updated_at: '2026-11-01T10:00:00.000Z',
    ...overrides,
  };
}

export function tag(name: string, overrides: Record<string, unknown> = {}) {
  return {
    id: `01900000-0000-7000-8000-${name.length.toString().padStart(12, '0')}`,
    name,
    slug: name.toLowerCase().replace(/\s+/g, '-'),
    description: null,
    category: null,
    is_public: true,
    position: 0,
    translations: {},
    subscriber_count: 0,
    created_at: '2026-11-01T10:00:00.000Z',
    updated_at: '2026-11-01T10:00:00.000Z',
    ...overrides,
  };
}

/** Renders signed-in UI with the providers the app puts around every page. */
export function renderSignedIn(ui: ReactNode, options: { role?: Role; me?: Me } = {}) {
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false, staleTime: Infinity } } });
  const result = render(
    <QueryClientProvider client={queryClient}>
      <ToastProvider>
        <ConfirmProvider>
          <SessionProvider me={options.me ?? me(options.role)}>{() => ui}</SessionProvider>
        </ConfirmProvider>
      </ToastProvider>
    </QueryClientProvider>,
  );
  return { ...result, queryClient };
}
