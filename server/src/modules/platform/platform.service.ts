import { notFound } from '../../lib/errors.ts';
import { decodeCursor, toPage } from '../../lib/pagination.ts';
import type { ApiKeyService } from '../api-keys/api-keys.service.ts';
import type { OrganizationRepository } from '../organizations/organizations.repository.ts';

/** What platform operators (users.is_platform_admin) do across organizations. */
export function createPlatformService(deps: { organizationRepository: OrganizationRepository; apiKeys: ApiKeyService }) {
  const { organizationRepository: repo, apiKeys } = deps;

  return {
    async listOrganizations(query: { limit?: number; cursor?: string; status?: 'active' | 'suspended'; q?: string }) {
      const limit = query.limit ?? 50;
      const rows = await repo.listAll({ limit, beforeId: decodeCursor(query.cursor), status: query.status, q: query.q });
      return toPage(rows.map((r) => ({ ...r, member_count: Number(r.member_count ?? 0) })), limit);
    },

    /** Suspension takes effect at once: sessions check the status per request, and cached keys are dropped. */
    async setStatus(organizationId: string, status: 'active' | 'suspended') {
      const organization = await repo.setStatus(organizationId, status);
      if (!organization) throw notFound('organization');
      await apiKeys.forgetOrganization(organizationId);
      return organization;
    },
  };
}

export type PlatformService = ReturnType<typeof createPlatformService>;
