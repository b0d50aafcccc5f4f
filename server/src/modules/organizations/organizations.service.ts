import type { Kysely } from 'kysely';
import type { DB } from '../../db/types.ts';
import { conflict, notFound, unprocessable } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { randomToken } from '../../lib/crypto.ts';
import { decodeCursor, toPage } from '../../lib/pagination.ts';
import { isTimeZone, minutesOf } from '../../lib/sending-window.ts';
import { slugify } from '../../lib/slug.ts';
import type { Logger } from '../../logger.ts';
import type { ApiKeyService } from '../api-keys/index.ts';
import type { ContactSyncService } from '../contact-sync/index.ts';
import type { Role } from '../auth/index.ts';
import type { Executor } from '../../db/client.ts';
import type { JobProducer } from '../../jobs/producer.ts';
import type { BackgroundTasks } from '../../lib/background.ts';
import type { OrganizationPatch, OrganizationRepository } from './organizations.repository.ts';

// Small batches keep each purge statement short, so a big tenant's deletion never holds long locks.
const PURGE_BATCH = 5_000;
const isUniqueViolation = (error: unknown) => (error as { code?: string }).code === '23505';

// The rest is optional so scripts that only create organizations (bench, seeds) need not build it.
type Deps = {
  db: Kysely<DB>;
  organizationRepository: OrganizationRepository;
  apiKeys: ApiKeyService;
  background?: BackgroundTasks;
  logger?: Logger;
  jobs?: JobProducer;
  senderDomains?: (organizationId: string) => Promise<readonly string[]>;
  contactSync?: Pick<ContactSyncService, 'setEnabled'>;
};

export function createOrganizationService(deps: Deps) {
  const { db, organizationRepository: repo, apiKeys, background, logger, jobs } = deps;

  /** Inserts with the given slug, or one derived from the name and made unique with a short suffix. */
  async function insertWithSlug(trx: Executor, name: string, slug: string | undefined) {
    const baseSlug = slug ?? slugify(name, 48);
    if (!baseSlug)
      throw unprocessable('validation_error', 'The organization needs a name with letters or digits', [{ field: 'name', message: 'cannot derive a slug' }]);
    let organization = await repo.insert(trx, { id: newId(), name, slug: baseSlug });
    for (let attempt = 0; !organization && !slug && attempt < 5; attempt += 1) {
      organization = await repo.insert(trx, {
        id: newId(),
        name,
        slug: `${baseSlug}-${randomToken(3)
          .toLowerCase()
          .replace(/[^a-z0-9]/g, 'x')}`,
      });
    }
    if (!organization) throw conflict('organization_slug_taken', `The slug "${baseSlug}" is taken`);
    return organization;
  }

  /**
   * Removes a deleted organization's data: big tables in batches, then the row with its cascade. Returns
   * false when `signal` stopped it between batches (the caller runs it again later).
   */
  async function purge(organizationId: string, signal?: AbortSignal): Promise<boolean> {
    for (const table of repo.purgeTables) {
      while ((await repo.purgeBatch(table, organizationId, PURGE_BATCH)) > 0) {
        if (signal?.aborted) return false;
      }
    }
    if (await repo.deleteMarked(organizationId)) logger?.info({ organizationId }, 'deleted organization purged');
    return true;
  }

  /** The worker purges (a BullMQ job); should enqueueing fail, this process does it after the response. */
  async function schedulePurge(organizationId: string): Promise<void> {
    if (jobs) {
      try {
        await jobs.enqueue('organization.purge', { organization_id: organizationId });
        return;
      } catch (error) {
        logger?.warn({ err: error, organizationId }, 'could not enqueue the purge job; purging in this process');
      }
    }
    if (background) background.run('purge-organization', () => purge(organizationId));
    else await purge(organizationId);
  }

  return {
    /**
     * Creates an organization with its first owner and a full-scope live API key, in one transaction.
     * Without an explicit slug, one is derived from the name and made unique with a short suffix.
     */
    /** `refuseExistingName`: the operator CLI's setup command, which must not make a second organization of one name when re-run. */
    async createWithOwner(input: { name: string; adminEmail: string; slug?: string | undefined; apiKeyName?: string; refuseExistingName?: boolean }) {
      return db.transaction().execute(async (trx) => {
        const existing = input.refuseExistingName ? await repo.findByName(input.name.trim(), trx) : undefined;
        if (existing)
          throw conflict('organization_exists', `An organization named "${input.name.trim()}" already exists (slug "${existing.slug}")`, [
            { field: 'name', message: 'is taken' },
          ]);
        const organization = await insertWithSlug(trx, input.name, input.slug);
        const user = await repo.upsertUser(trx, { id: newId(), email: input.adminEmail.trim() });
        await repo.addMember(trx, { id: newId(), organization_id: organization.id, user_id: user.id, role: 'owner' });
        const apiKey = await apiKeys.create(
          organization.id,
          { name: input.apiKeyName ?? 'Default key', scopes: apiKeys.allScopes(), createdByUserId: user.id },
          trx,
        );
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

    /** A signed-in user creates an organization and becomes its owner. */
    async createForUser(userId: string, input: { name: string; slug?: string }) {
      const created = await db.transaction().execute(async (trx) => {
        const organization = await insertWithSlug(trx, input.name.trim(), input.slug);
        await repo.addMember(trx, { id: newId(), organization_id: organization.id, user_id: userId, role: 'owner' });
        return organization;
      });
      return { ...(await repo.findById(created.id))!, role: 'owner' as const };
    },

    async listForUser(userId: string, query: { limit?: number; cursor?: string }) {
      const limit = query.limit ?? 50;
      const rows = await repo.listForUser(userId, { limit, beforeId: decodeCursor(query.cursor) });
      return toPage(
        rows.map((row) => ({ ...row, role: row.role as Role })),
        limit,
      );
    },

    async get(organizationId: string) {
      const organization = await repo.findById(organizationId);
      if (!organization) throw notFound('organization');
      return organization;
    },

    async update(organizationId: string, patch: OrganizationPatch) {
      if (patch.timezone !== undefined && !isTimeZone(patch.timezone)) {
        throw unprocessable('invalid_timezone', `"${patch.timezone}" is not a time zone we know`, [
          { field: 'timezone', message: 'Use a time zone name such as Europe/Berlin or America/New_York' },
        ]);
      }
      if (patch.sending_window && minutesOf(patch.sending_window.start) >= minutesOf(patch.sending_window.end)) {
        throw unprocessable('invalid_sending_window', 'The sending window must end after it starts, on the same day', [
          { field: 'sending_window.end', message: 'Choose an end time later than the start time' },
        ]);
      }
      const address = patch.email_from_address;
      if (address && deps.senderDomains) {
        const domain = address.slice(address.lastIndexOf('@') + 1).toLowerCase();
        if (!(await deps.senderDomains(organizationId)).includes(domain)) {
          throw unprocessable('sender_domain_not_allowed', 'The sender address must be on a domain the organization may send from', [
            { field: 'email_from_address', message: `${domain} is not a verified or allowed sending domain` },
          ]);
        }
      }
      const { resend_contact_sync: contactSync, ...fields } = patch;
      if (contactSync !== undefined) {
        if (!deps.contactSync)
          throw unprocessable('resend_not_configured', 'Contact sync is not available here', [{ field: 'resend_contact_sync', message: 'unavailable' }]);
        // Its own checks and transaction (one organization per Resend account; every subscriber queued when turned on).
        await deps.contactSync.setEnabled(organizationId, contactSync);
      }
      try {
        const updated = Object.keys(fields).length > 0 ? await repo.update(db, organizationId, fields) : await repo.findById(organizationId);
        if (!updated) throw notFound('organization');
        return updated;
      } catch (error) {
        if (isUniqueViolation(error)) throw conflict('organization_slug_taken', `The slug "${patch.slug}" is taken`);
        throw error;
      }
    },

    /**
     * Deletes an organization: the owner confirms by typing its slug. The organization is marked at
     * once (its keys and sessions stop working), and its data is purged by the `organization.purge` job,
     * in batches. `purgePending` (CLI `purge-deleted-organizations`) finishes any purge left behind.
     */
    async requestDeletion(organizationId: string, confirmSlug: string): Promise<void> {
      const organization = await repo.findById(organizationId);
      if (!organization) throw notFound('organization');
      if (confirmSlug !== organization.slug) {
        throw unprocessable('confirmation_mismatch', "Type the organization's slug to confirm the deletion", [
          { field: 'confirm_slug', message: 'does not match the organization slug' },
        ]);
      }
      if (!(await repo.markDeleted(db, organizationId))) throw notFound('organization');
      await apiKeys.forgetOrganization(organizationId);
      await schedulePurge(organizationId);
    },

    /** Purges one organization marked deleted (a no-op for one that is not); the `organization.purge` job. */
    purge,

    /** Finishes every purge that has not completed; safe to run at any time and more than once. */
    /** Ids of deleted organizations whose data is not purged yet, oldest deletion first. */
    async pendingPurges(limit: number): Promise<string[]> {
      return (await repo.listDeleted(limit)).map((row) => row.id);
    },

    async purgePending(): Promise<number> {
      const pending = await repo.listDeleted(100);
      for (const { id } of pending) await purge(id);
      return pending.length;
    },
  };
}

export type OrganizationService = ReturnType<typeof createOrganizationService>;
