import { sql, type Kysely } from 'kysely';
import type { DB } from '../../db/types.ts';
import type { Role } from '../auth/index.ts';
import type { Executor } from '../../db/client.ts';

export function createMemberRepository(db: Kysely<DB>) {
  const memberView = (executor: Executor) =>
    executor
      .selectFrom('organization_members as m')
      .innerJoin('users as u', 'u.id', 'm.user_id')
      .select(['m.id', 'm.role', 'm.created_at', 'u.id as user_id', 'u.email', 'u.name', 'u.last_login_at']);

  return {
    async list(organizationId: string, options: { limit: number; beforeId?: string }) {
      let query = memberView(db).where('m.organization_id', '=', organizationId);
      if (options.beforeId) query = query.where('m.id', '<', options.beforeId);
      return query
        .orderBy('m.id', 'desc')
        .limit(options.limit + 1)
        .execute();
    },

    async get(organizationId: string, id: string, executor: Executor = db) {
      return memberView(executor).where('m.organization_id', '=', organizationId).where('m.id', '=', id).executeTakeFirst();
    },

    async findByUser(executor: Executor, organizationId: string, userId: string) {
      return executor
        .selectFrom('organization_members')
        .select(['id', 'role'])
        .where('organization_id', '=', organizationId)
        .where('user_id', '=', userId)
        .executeTakeFirst();
    },

    async findByEmail(organizationId: string, email: string) {
      return db
        .selectFrom('organization_members as m')
        .innerJoin('users as u', 'u.id', 'm.user_id')
        .select(['m.id'])
        .where('m.organization_id', '=', organizationId)
        .where((eb) => eb(eb.fn('lower', ['u.email']), '=', email.trim().toLowerCase()))
        .executeTakeFirst();
    },

    /**
     * Locks the organization's owner rows for the rest of the transaction, so two concurrent demotions
     * or removals cannot each see "another owner remains" and leave none.
     */
    async lockOwners(trx: Executor, organizationId: string): Promise<string[]> {
      const rows = await trx
        .selectFrom('organization_members')
        .select(['id'])
        .where('organization_id', '=', organizationId)
        .where('role', '=', 'owner')
        .forUpdate()
        .execute();
      return rows.map((r) => r.id);
    },

    async add(executor: Executor, row: { id: string; organization_id: string; user_id: string; role: Role }): Promise<void> {
      await executor
        .insertInto('organization_members')
        .values(row)
        .onConflict((oc) => oc.columns(['organization_id', 'user_id']).doNothing())
        .execute();
    },

    async setRole(trx: Executor, organizationId: string, id: string, role: Role): Promise<void> {
      await trx
        .updateTable('organization_members')
        .set({ role, updated_at: sql<Date>`now()` })
        .where('organization_id', '=', organizationId)
        .where('id', '=', id)
        .execute();
    },

    async delete(trx: Executor, organizationId: string, id: string): Promise<boolean> {
      const result = await trx.deleteFrom('organization_members').where('organization_id', '=', organizationId).where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}

export type MemberRepository = ReturnType<typeof createMemberRepository>;
