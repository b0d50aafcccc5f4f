import { sql, type Kysely } from 'kysely';
import type { DB } from '../../db/types.ts';
import type { Executor, Row } from '../../db/client.ts';
import type { SendingWindow } from '../../lib/sending-window.ts';

/** Columns of the organization settings view: never Stripe ids or counters. */
export const settingsColumns = [
  'id',
  'name',
  'slug',
  'status',
  'locale',
  'timezone',
  'sending_window',
  'postal_address',
  'email_from_name',
  'email_from_address',
  'email_reply_to',
  'privacy_url',
  'imprint_url',
  'tracking_enabled',
  'tracking_privacy',
  'resend_contact_sync',
  'plan',
  'created_at',
  'updated_at',
] as const;

/** An organization's settings, with its sending window typed. */
export type OrganizationSettings = Row<'organizations', (typeof settingsColumns)[number], { sending_window: SendingWindow | null }>;

export interface OrganizationPatch {
  name?: string;
  slug?: string;
  locale?: string;
  timezone?: string;
  sending_window?: SendingWindow | null;
  postal_address?: string | null;
  email_from_name?: string | null;
  email_from_address?: string | null;
  email_reply_to?: string | null;
  privacy_url?: string | null;
  imprint_url?: string | null;
  tracking_enabled?: boolean;
  tracking_privacy?: boolean;
  /** Not a column write: the contact sync service turns the mirror on and off (contact-sync module). */
  resend_contact_sync?: boolean;
}

// The tables that grow with an organization's audience, purged in batches before the final cascade.
const PURGE_TABLES = ['subscription_history', 'events', 'audit_logs', 'dev_mailbox', 'subscribers'] as const;
export type PurgeTable = (typeof PURGE_TABLES)[number];

export function createOrganizationRepository(db: Kysely<DB>) {
  return {
    purgeTables: PURGE_TABLES,

    async insert(executor: Executor, row: { id: string; name: string; slug: string }) {
      return executor
        .insertInto('organizations')
        .values(row)
        .onConflict((oc) => oc.column('slug').doNothing())
        .returning(['id', 'name', 'slug', 'created_at'])
        .executeTakeFirst();
    },

    /** A live organization of this name, compared case-insensitively. */
    async findByName(name: string, executor: Executor = db) {
      return executor
        .selectFrom('organizations')
        .select(['id', 'slug'])
        .where(sql`lower(name)`, '=', name.toLowerCase())
        .where('deleted_at', 'is', null)
        .executeTakeFirst();
    },

    async findBySlug(slug: string, executor: Executor = db) {
      return executor.selectFrom('organizations').select(['id', 'name', 'slug', 'status']).where('slug', '=', slug).executeTakeFirst();
    },

    /** Finds the user by email (case-insensitive) or creates them. */
    async upsertUser(executor: Executor, row: { id: string; email: string }) {
      return executor
        .insertInto('users')
        .values(row)
        .onConflict((oc) => oc.expression(sql`lower(email)`).doUpdateSet({ updated_at: sql<Date>`now()` }))
        .returning(['id', 'email'])
        .executeTakeFirstOrThrow();
    },

    async addMember(executor: Executor, row: { id: string; organization_id: string; user_id: string; role: 'owner' | 'admin' | 'viewer' }) {
      await executor
        .insertInto('organization_members')
        .values(row)
        .onConflict((oc) => oc.columns(['organization_id', 'user_id']).doNothing())
        .execute();
    },

    /** Settings of a live organization (not one being deleted). */
    async findById(id: string, executor: Executor = db) {
      return executor.selectFrom('organizations').select(settingsColumns).where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst() as Promise<
        OrganizationSettings | undefined
      >;
    },

    /** The organizations a user belongs to, with their role, newest first. */
    async listForUser(userId: string, options: { limit: number; beforeId?: string }) {
      let query = db
        .selectFrom('organizations as o')
        .innerJoin('organization_members as m', 'm.organization_id', 'o.id')
        .select(['o.id', 'o.name', 'o.slug', 'o.status', 'o.created_at', 'm.role'])
        .where('m.user_id', '=', userId)
        .where('o.deleted_at', 'is', null);
      if (options.beforeId) query = query.where('o.id', '<', options.beforeId);
      return query
        .orderBy('o.id', 'desc')
        .limit(options.limit + 1)
        .execute();
    },

    /** Every organization, for platform operators; `q` matches the start of the name or slug. */
    async listAll(options: { limit: number; beforeId?: string; status?: string; q?: string }) {
      let query = db
        .selectFrom('organizations as o')
        .select((eb) => [
          'o.id',
          'o.name',
          'o.slug',
          'o.status',
          'o.plan',
          'o.created_at',
          'o.deleted_at',
          eb.selectFrom('organization_members as m').select(eb.fn.countAll<number>().as('n')).whereRef('m.organization_id', '=', 'o.id').as('member_count'),
        ]);
      if (options.beforeId) query = query.where('o.id', '<', options.beforeId);
      if (options.status) query = query.where('o.status', '=', options.status);
      if (options.q) {
        const prefix = `${options.q.toLowerCase().replace(/[\\%_]/g, '\\$&')}%`;
        query = query.where((eb) => eb.or([eb(eb.fn('lower', ['o.name']), 'like', prefix), eb('o.slug', 'like', prefix)]));
      }
      return query
        .orderBy('o.id', 'desc')
        .limit(options.limit + 1)
        .execute();
    },

    async update(executor: Executor, id: string, patch: OrganizationPatch) {
      const { sending_window: window, ...rest } = patch;
      return executor
        .updateTable('organizations')
        .set({ ...rest, ...(window !== undefined ? { sending_window: window === null ? null : JSON.stringify(window) } : {}), updated_at: sql<Date>`now()` })
        .where('id', '=', id)
        .where('deleted_at', 'is', null)
        .returning(settingsColumns)
        .executeTakeFirst() as Promise<OrganizationSettings | undefined>;
    },

    /** Suspends or reactivates; an organization being deleted stays as it is. */
    async setStatus(id: string, status: 'active' | 'suspended') {
      return db
        .updateTable('organizations')
        .set({ status, updated_at: sql<Date>`now()` })
        .where('id', '=', id)
        .where('deleted_at', 'is', null)
        .returning(['id', 'name', 'slug', 'status'])
        .executeTakeFirst();
    },

    /**
     * Marks the organization deleted and suspended: its sessions and keys stop working at once, before
     * the purge has removed anything. Returns nothing when it was already marked.
     */
    async markDeleted(executor: Executor, id: string) {
      return executor
        .updateTable('organizations')
        .set({ deleted_at: sql<Date>`now()`, status: 'suspended', updated_at: sql<Date>`now()` })
        .where('id', '=', id)
        .where('deleted_at', 'is', null)
        .returning(['id'])
        .executeTakeFirst();
    },

    async listDeleted(limit: number) {
      return db.selectFrom('organizations').select(['id']).where('deleted_at', 'is not', null).orderBy('deleted_at').limit(limit).execute();
    },

    /** Deletes up to `batch` rows of one big table for a deleted organization; returns how many went. */
    async purgeBatch(table: PurgeTable, organizationId: string, batch: number): Promise<number> {
      const result = await sql`
        DELETE FROM ${sql.table(table)} WHERE ctid = ANY (ARRAY(
          SELECT ctid FROM ${sql.table(table)} WHERE organization_id = ${organizationId} LIMIT ${batch}
        ))`.execute(db);
      return Number(result.numAffectedRows ?? 0);
    },

    /** The final step: the row itself, cascading to every remaining tenant table. Only once marked deleted. */
    async deleteMarked(id: string): Promise<boolean> {
      const result = await db.deleteFrom('organizations').where('id', '=', id).where('deleted_at', 'is not', null).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}

export type OrganizationRepository = ReturnType<typeof createOrganizationRepository>;
