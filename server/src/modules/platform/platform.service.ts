import type { Kysely } from 'kysely';
import type { DB } from '../../db/types.ts';
import { notFound } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { decodeCursor, toPage } from '../../lib/pagination.ts';
import type { ApiKeyService } from '../api-keys/index.ts';
import type { UserRepository } from '../auth/index.ts';
import type { MemberRepository } from '../members/index.ts';
import type { OrganizationRepository } from '../organizations/index.ts';

type Deps = {
  db: Kysely<DB>;
  organizationRepository: OrganizationRepository;
  userRepository: UserRepository;
  memberRepository: MemberRepository;
  apiKeys: ApiKeyService;
};

/** What platform operators (users.is_platform_admin) do across organizations, and the operator CLI. */
export function createPlatformService(deps: Deps) {
  const { db, organizationRepository: repo, userRepository: users, memberRepository: members, apiKeys } = deps;

  return {
    /**
     * `cli create-admin`: the user (found or created), optionally a member of the organization with the
     * slug (an existing member gets the given role), optionally a platform operator. Safe to repeat.
     */
    async createAdmin(input: { email: string; organizationSlug?: string; role: 'owner' | 'admin'; platformAdmin: boolean }) {
      return db.transaction().execute(async (trx) => {
        const organization = input.organizationSlug ? await repo.findBySlug(input.organizationSlug, trx) : undefined;
        if (input.organizationSlug && !organization) throw notFound('organization');
        const user = await users.upsert(trx, { id: newId(), email: input.email.trim() });
        if (input.platformAdmin) await users.setPlatformAdmin(trx, user.id, true);
        let membership: { id: string; role: string } | undefined;
        if (organization) {
          await members.add(trx, { id: newId(), organization_id: organization.id, user_id: user.id, role: input.role });
          membership = await members.findByUser(trx, organization.id, user.id);
          if (membership && membership.role !== input.role) {
            await members.setRole(trx, organization.id, membership.id, input.role);
            membership = { ...membership, role: input.role };
          }
        }
        return {
          user_id: user.id,
          email: user.email,
          is_platform_admin: input.platformAdmin || user.is_platform_admin,
          organization_id: organization?.id ?? null,
          organization_slug: organization?.slug ?? null,
          role: membership?.role ?? null,
        };
      });
    },

    async listOrganizations(query: { limit?: number; cursor?: string; status?: 'active' | 'suspended'; q?: string }) {
      const limit = query.limit ?? 50;
      const rows = await repo.listAll({ limit, beforeId: decodeCursor(query.cursor), status: query.status, q: query.q });
      return toPage(
        rows.map((r) => ({ ...r, member_count: Number(r.member_count ?? 0) })),
        limit,
      );
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
