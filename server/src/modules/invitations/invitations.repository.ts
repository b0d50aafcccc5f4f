import { sql, type Kysely } from 'kysely';
import type { DB } from '../../db/types.ts';
import type { Role } from '../auth/index.ts';
import type { Executor } from '../../db/client.ts';

const viewColumns = ['id', 'email', 'role', 'invited_by_user_id', 'expires_at', 'accepted_at', 'revoked_at', 'sent_count', 'created_at'] as const;
export type InvitationStatus = 'pending' | 'accepted' | 'revoked' | 'expired';

export function createInvitationRepository(db: Kysely<DB>) {
  return {
    async insert(executor: Executor, row: { id: string; organization_id: string; email: string; role: Role; token_hash: string; invited_by_user_id: string; expires_at: Date }) {
      return executor.insertInto('invitations').values(row).returning(viewColumns).executeTakeFirstOrThrow();
    },

    async list(organizationId: string, options: { limit: number; beforeId?: string; status?: InvitationStatus }) {
      let query = db.selectFrom('invitations').select(viewColumns).where('organization_id', '=', organizationId);
      if (options.beforeId) query = query.where('id', '<', options.beforeId);
      if (options.status === 'accepted') query = query.where('accepted_at', 'is not', null);
      if (options.status === 'revoked') query = query.where('revoked_at', 'is not', null);
      if (options.status === 'pending' || options.status === 'expired') {
        query = query.where('accepted_at', 'is', null).where('revoked_at', 'is', null)
          .where('expires_at', options.status === 'pending' ? '>' : '<=', sql<Date>`now()`);
      }
      return query.orderBy('id', 'desc').limit(options.limit + 1).execute();
    },

    /** Gives an open invitation a new token and a new expiry (resend); nothing when it is closed. */
    async rotate(organizationId: string, id: string, tokenHash: string, expiresAt: Date) {
      return db.updateTable('invitations')
        .set((eb) => ({ token_hash: tokenHash, expires_at: expiresAt, sent_count: eb('sent_count', '+', 1), updated_at: sql<Date>`now()` }))
        .where('organization_id', '=', organizationId).where('id', '=', id)
        .where('accepted_at', 'is', null).where('revoked_at', 'is', null)
        .returning(viewColumns).executeTakeFirst();
    },

    async revoke(organizationId: string, id: string) {
      return db.updateTable('invitations').set({ revoked_at: sql<Date>`now()`, updated_at: sql<Date>`now()` })
        .where('organization_id', '=', organizationId).where('id', '=', id)
        .where('accepted_at', 'is', null).where('revoked_at', 'is', null)
        .returning(['id']).executeTakeFirst();
    },

    async exists(organizationId: string, id: string): Promise<boolean> {
      return Boolean(await db.selectFrom('invitations').select('id').where('organization_id', '=', organizationId).where('id', '=', id).executeTakeFirst());
    },

    /**
     * Accepts an open, unexpired invitation of a live organization in one statement, so a token works
     * once even when two requests race. Returns nothing otherwise.
     */
    async consume(trx: Executor, tokenHash: string, userId: string) {
      return trx.updateTable('invitations')
        .set({ accepted_at: sql<Date>`now()`, accepted_by_user_id: userId, updated_at: sql<Date>`now()` })
        .where('token_hash', '=', tokenHash)
        .where('accepted_at', 'is', null).where('revoked_at', 'is', null)
        .where('expires_at', '>', sql<Date>`now()`)
        .where((eb) => eb.exists(eb.selectFrom('organizations as o').select('o.id').whereRef('o.id', '=', 'invitations.organization_id').where('o.deleted_at', 'is', null)))
        .returning(['id', 'organization_id', 'email', 'role'])
        .executeTakeFirst();
    },

    /** The invitation behind a token, whatever its state: to tell the invitee why it no longer works. */
    /** What the invitation page shows its holder: organization, role, who invited, until when. */
    async detailsByHash(tokenHash: string) {
      return db.selectFrom('invitations')
        .innerJoin('organizations', 'organizations.id', 'invitations.organization_id')
        .leftJoin('users', 'users.id', 'invitations.invited_by_user_id')
        .select(['invitations.email', 'invitations.role', 'invitations.expires_at', 'invitations.accepted_at', 'invitations.revoked_at',
          'organizations.name as organization_name', 'users.email as inviter_email', 'users.name as inviter_name'])
        .where('invitations.token_hash', '=', tokenHash).executeTakeFirst();
    },

    async findByHash(tokenHash: string) {
      return db.selectFrom('invitations').select(['id', 'organization_id', 'email', 'role', 'expires_at', 'accepted_at', 'revoked_at'])
        .where('token_hash', '=', tokenHash).executeTakeFirst();
    },
  };
}

export type InvitationRepository = ReturnType<typeof createInvitationRepository>;
