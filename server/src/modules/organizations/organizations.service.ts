import type { Kysely } from 'kysely';
import type { DB } from '../../db/types.ts';
import { conflict, unprocessable } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { randomToken } from '../../lib/crypto.ts';
import { slugify } from '../../lib/slug.ts';
import type { ApiKeyService } from '../api-keys/api-keys.service.ts';
import type { OrganizationRepository } from './organizations.repository.ts';

export function createOrganizationService(deps: { db: Kysely<DB>; organizationRepository: OrganizationRepository; apiKeys: ApiKeyService }) {
  const { db, organizationRepository: repo, apiKeys } = deps;

  return {
    /**
     * Creates an organization with its first owner and a full-scope live API key, in one transaction.
     * Without an explicit slug, one is derived from the name and made unique with a short suffix.
     */
    async createWithOwner(input: { name: string; adminEmail: string; slug?: string; apiKeyName?: string }) {
      const baseSlug = input.slug ?? slugify(input.name, 48);
      if (!baseSlug) throw unprocessable('validation_error', 'The organization needs a name with letters or digits', [{ field: 'name', message: 'cannot derive a slug' }]);
      return db.transaction().execute(async (trx) => {
        let organization = await repo.insert(trx, { id: newId(), name: input.name, slug: baseSlug });
        for (let attempt = 0; !organization && !input.slug && attempt < 5; attempt += 1) {
          organization = await repo.insert(trx, { id: newId(), name: input.name, slug: `${baseSlug}-${randomToken(3).toLowerCase().replace(/[^a-z0-9]/g, 'x')}` });
        }
        if (!organization) throw conflict('organization_slug_taken', `The slug "${baseSlug}" is taken`);
        const user = await repo.upsertUser(trx, { id: newId(), email: input.adminEmail.trim() });
        await repo.addMember(trx, { id: newId(), organization_id: organization.id, user_id: user.id, role: 'owner' });
        const apiKey = await apiKeys.create(organization.id, { name: input.apiKeyName ?? 'Default key', scopes: apiKeys.allScopes(), createdByUserId: user.id }, trx);
        return { organization, user, apiKey };
      });
    },

    /**
     * The demo organization of `npm start`: created once, and given a fresh demo key on every start (the
     * previous one is revoked), because only a hash of a key is ever stored.
     */
    async ensureDemo(input: { slug: string; name: string; adminEmail: string; keyName: string }) {
      const result = await db.transaction().execute(async (trx) => {
        let organization = await repo.findBySlug(input.slug, trx);
        if (!organization) {
          await repo.insert(trx, { id: newId(), name: input.name, slug: input.slug });
          organization = (await repo.findBySlug(input.slug, trx))!;
          const user = await repo.upsertUser(trx, { id: newId(), email: input.adminEmail });
          await repo.addMember(trx, { id: newId(), organization_id: organization.id, user_id: user.id, role: 'owner' });
        }
        await apiKeys.revokeByName(trx, organization.id, input.keyName);
        const apiKey = await apiKeys.create(organization.id, { name: input.keyName, scopes: apiKeys.allScopes() }, trx);
        return { organization, apiKey };
      });
      await apiKeys.forgetOrganization(result.organization.id);
      return result;
    },
  };
}

export type OrganizationService = ReturnType<typeof createOrganizationService>;
