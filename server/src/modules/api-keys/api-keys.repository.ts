import { sql, type Kysely } from 'kysely';
import type { DB } from '../../db/types.ts';
import type { Executor } from '../../db/client.ts';

const listColumns = ['id', 'name', 'key_prefix', 'environment', 'scopes', 'created_by_user_id', 'last_used_at', 'revoked_at', 'created_at'] as const;

export function createApiKeyRepository(db: Kysely<DB>) {
  return {
    async insert(
      executor: Executor,
      row: {
        id: string;
        organization_id: string;
        name: string;
        key_hash: string;
        key_prefix: string;
        environment: 'live' | 'test';
        scopes: string[];
        created_by_user_id: string | null;
      },
    ) {
      return executor.insertInto('api_keys').values(row).returning(listColumns).executeTakeFirstOrThrow();
    },

    /** The lookup behind every API-key request: one indexed read of the key and its organization. */
    async findForAuth(keyHash: string) {
      return db
        .selectFrom('api_keys as k')
        .innerJoin('organizations as o', 'o.id', 'k.organization_id')
        .select(['k.id', 'k.organization_id', 'k.scopes', 'k.environment', 'k.revoked_at', 'k.last_used_at', 'o.status as organization_status'])
        .where('k.key_hash', '=', keyHash)
        .executeTakeFirst();
    },

    async touch(id: string): Promise<void> {
      await db
        .updateTable('api_keys')
        .set({ last_used_at: sql<Date>`now()` })
        .where('id', '=', id)
        .execute();
    },

    async list(organizationId: string, options: { limit: number; beforeId?: string }) {
      let query = db.selectFrom('api_keys').select(listColumns).where('organization_id', '=', organizationId);
      if (options.beforeId) query = query.where('id', '<', options.beforeId);
      return query
        .orderBy('id', 'desc')
        .limit(options.limit + 1)
        .execute();
    },

    async revoke(organizationId: string, id: string) {
      return db
        .updateTable('api_keys')
        .set({ revoked_at: sql<Date>`coalesce(revoked_at, now())` })
        .where('organization_id', '=', organizationId)
        .where('id', '=', id)
        .returning([...listColumns, 'key_hash'])
        .executeTakeFirst();
    },

    /** The users who created keys (by id), for the key list: one query for a whole page. */
    async creators(userIds: readonly string[]) {
      if (userIds.length === 0) return [];
      return db
        .selectFrom('users')
        .select(['id', 'email', 'name'])
        .where('id', 'in', [...new Set(userIds)])
        .execute();
    },

    async revokeByName(executor: Executor, organizationId: string, name: string): Promise<void> {
      await executor
        .updateTable('api_keys')
        .set({ revoked_at: sql<Date>`now()` })
        .where('organization_id', '=', organizationId)
        .where('name', '=', name)
        .where('revoked_at', 'is', null)
        .execute();
    },
  };
}

export type ApiKeyRepository = ReturnType<typeof createApiKeyRepository>;
