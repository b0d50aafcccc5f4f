import { sql, type Kysely } from 'kysely';
import type { DB } from '../../db/types.ts';
import type { Executor } from '../../db/client.ts';

export type { Role } from './access.ts';
import type { Role } from './access.ts';

export interface MembershipRow {
  organization_id: string;
  organization_name: string;
  organization_slug: string;
  organization_status: string;
  role: Role;
}

// A user belongs to a handful of organizations; the bound only protects the per-request query.
const MAX_MEMBERSHIPS = 500;

export function createUserRepository(db: Kysely<DB>) {
  return {
    async findByEmail(email: string, executor: Executor = db) {
      return executor
        .selectFrom('users')
        .select(['id', 'email', 'name', 'is_platform_admin'])
        .where((eb) => eb(eb.fn('lower', ['email']), '=', email.trim().toLowerCase()))
        .executeTakeFirst();
    },

    async findById(id: string, executor: Executor = db) {
      return executor
        .selectFrom('users')
        .select(['id', 'email', 'name', 'is_platform_admin', 'last_login_at', 'created_at'])
        .where('id', '=', id)
        .executeTakeFirst();
    },

    /** Finds the user by email (case-insensitive) or creates them. */
    async upsert(executor: Executor, row: { id: string; email: string }) {
      return executor
        .insertInto('users')
        .values(row)
        .onConflict((oc) => oc.expression(sql`lower(email)`).doUpdateSet({ updated_at: sql<Date>`now()` }))
        .returning(['id', 'email', 'name', 'is_platform_admin'])
        .executeTakeFirstOrThrow();
    },

    async recordLogin(id: string): Promise<void> {
      await db
        .updateTable('users')
        .set({ last_login_at: sql<Date>`now()` })
        .where('id', '=', id)
        .execute();
    },

    async setPlatformAdmin(executor: Executor, id: string, value: boolean): Promise<void> {
      await executor
        .updateTable('users')
        .set({ is_platform_admin: value, updated_at: sql<Date>`now()` })
        .where('id', '=', id)
        .execute();
    },

    /**
     * The user and every organization they belong to, in one query: what each session request needs to
     * pick the organization and check the role. Organizations being deleted are left out.
     */
    async principal(userId: string) {
      const rows = await db
        .selectFrom('users as u')
        .leftJoin('organization_members as m', 'm.user_id', 'u.id')
        .leftJoin('organizations as o', (join) => join.onRef('o.id', '=', 'm.organization_id').on('o.deleted_at', 'is', null))
        .select([
          'u.id',
          'u.email',
          'u.name',
          'u.is_platform_admin',
          'o.id as organization_id',
          'o.name as organization_name',
          'o.slug as organization_slug',
          'o.status as organization_status',
          'm.role',
        ])
        .where('u.id', '=', userId)
        .orderBy('o.name')
        .limit(MAX_MEMBERSHIPS)
        .execute();
      const first = rows[0];
      if (!first) return undefined;
      const memberships: MembershipRow[] = rows
        .filter((r) => r.organization_id !== null && r.role !== null)
        .map((r) => ({
          organization_id: r.organization_id!,
          organization_name: r.organization_name!,
          organization_slug: r.organization_slug!,
          organization_status: r.organization_status!,
          role: r.role as Role,
        }));
      return { id: first.id, email: first.email, name: first.name, is_platform_admin: first.is_platform_admin, memberships };
    },
  };
}

export type UserRepository = ReturnType<typeof createUserRepository>;
