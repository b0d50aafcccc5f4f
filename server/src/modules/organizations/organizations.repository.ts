import { sql, type Kysely } from 'kysely';
import type { DB } from '../../db/types.ts';
import type { Executor } from '../events/events.repository.ts';

export function createOrganizationRepository(db: Kysely<DB>) {
  return {
    async insert(executor: Executor, row: { id: string; name: string; slug: string }) {
      return executor.insertInto('organizations').values(row).onConflict((oc) => oc.column('slug').doNothing())
        .returning(['id', 'name', 'slug', 'created_at']).executeTakeFirst();
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
      await executor.insertInto('organization_members').values(row).onConflict((oc) => oc.columns(['organization_id', 'user_id']).doNothing()).execute();
    },
  };
}

export type OrganizationRepository = ReturnType<typeof createOrganizationRepository>;
