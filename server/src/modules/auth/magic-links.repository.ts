import { sql, type Kysely } from 'kysely';
import { deleteInChunks, DELETE_CHUNK } from '../../db/chunked-delete.ts';
import type { DB } from '../../db/types.ts';

export function createMagicLinkRepository(db: Kysely<DB>) {
  return {
    async insert(row: { id: string; email: string; token_hash: string; expires_at: Date; requested_ip: string | null }): Promise<void> {
      await db.insertInto('magic_link_tokens').values(row).execute();
    },

    /**
     * Marks the token used and returns its email, in one statement: of two concurrent verifications of
     * the same link only one gets a row back. Expired or used tokens return nothing.
     */
    async consume(tokenHash: string) {
      return db
        .updateTable('magic_link_tokens')
        .set({ used_at: sql<Date>`now()` })
        .where('token_hash', '=', tokenHash)
        .where('used_at', 'is', null)
        .where('expires_at', '>', sql<Date>`now()`)
        .returning(['id', 'email'])
        .executeTakeFirst();
    },

    /** Why a token could not be consumed: used, expired, or unknown (undefined). */
    async findByHash(tokenHash: string) {
      return db.selectFrom('magic_link_tokens').select(['used_at', 'expires_at']).where('token_hash', '=', tokenHash).executeTakeFirst();
    },

    /** Old tokens are useless; each new request for an address clears that address's expired ones. */
    async deleteExpired(email: string): Promise<void> {
      await db
        .deleteFrom('magic_link_tokens')
        .where((eb) => eb(eb.fn('lower', ['email']), '=', email.toLowerCase()))
        .where('expires_at', '<', sql<Date>`now() - interval '1 day'`)
        .execute();
    },

    /** Retention: login links that expired before the cutoff (used or not). */
    async deleteExpiredBefore(cutoff: Date, signal?: AbortSignal): Promise<number> {
      return deleteInChunks(
        async () =>
          (
            await db
              .deleteFrom('magic_link_tokens')
              .where('id', 'in', (eb) => eb.selectFrom('magic_link_tokens').select('id').where('expires_at', '<', cutoff).limit(DELETE_CHUNK))
              .executeTakeFirst()
          ).numDeletedRows,
        signal,
      );
    },
  };
}

export type MagicLinkRepository = ReturnType<typeof createMagicLinkRepository>;
