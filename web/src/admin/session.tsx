import { useQuery, useQueryClient } from '@tanstack/react-query';
import { createContext, useCallback, useContext, useMemo, type ReactNode } from 'react';
import { api, organizationStore, unwrap, type Me, type Role } from './api';
import { keys } from './keys';

const RANK: Record<Role, number> = { viewer: 0, admin: 1, owner: 2 };

export interface CurrentOrganization {
  id: string;
  name: string;
  slug: string;
  status: string;
  role: Role;
}

interface Session {
  me: Me;
  organization: CurrentOrganization;
  switchOrganization: (id: string) => void;
  /** Whether the signed-in user's role in the current organization is at least `role`. */
  can: (role: Role) => boolean;
}

const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession needs a signed-in <SessionProvider>');
  return session;
}

/** Shorthand for pages: the current organization's id (for query keys) and the role check. */
export function useOrganization() {
  const { organization, can } = useSession();
  return { organizationId: organization.id, organization, can };
}

export const fetchMe = () => unwrap(api.GET('/api/v1/auth/me'));

export function useMe() {
  return useQuery({ queryKey: keys.me(), queryFn: fetchMe, retry: false, staleTime: 60_000 });
}

/**
 * The organization the dashboard acts in: the one remembered in this browser when the user still
 * belongs to it, else their first. Switching drops every cached query of the old organization.
 */
export function SessionProvider({ me, children }: { me: Me; children: (state: 'ready' | 'no-organization') => ReactNode }) {
  const queryClient = useQueryClient();
  const stored = organizationStore.get();
  const membership = me.memberships.find((m) => m.organization.id === stored) ?? me.memberships[0];
  if (membership && membership.organization.id !== stored) organizationStore.set(membership.organization.id);

  const switchOrganization = useCallback(
    (id: string) => {
      organizationStore.set(id);
      queryClient.removeQueries({ queryKey: ['org'] });
      void queryClient.invalidateQueries({ queryKey: keys.me() });
    },
    [queryClient],
  );

  const value = useMemo<Session | null>(() => {
    if (!membership) return null;
    const organization = { ...membership.organization, role: membership.role };
    return { me, organization, switchOrganization, can: (role: Role) => RANK[organization.role] >= RANK[role] };
  }, [me, membership, switchOrganization]);

  if (!value) return <>{children('no-organization')}</>;
  return <SessionContext.Provider value={value}>{children('ready')}</SessionContext.Provider>;
}
