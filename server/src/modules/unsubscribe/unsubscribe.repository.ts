import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../../db/types.ts';
import { newId } from '../../lib/ids.ts';

export function createUnsubscribeRepository() {
  return {
    async organizationSlug(db: Kysely<DB>, organizationId: string): Promise<string | null> {
      const row = await db.selectFrom('organizations').select('slug').where('id', '=', organizationId).executeTakeFirst();
      return row?.slug ?? null;
    },

    async lockSubscriber(trx: Transaction<DB>, organizationId: string, id: string) {
      return trx.selectFrom('subscribers').select(['id', 'email', 'status'])
        .where('organization_id', '=', organizationId).where('id', '=', id).forUpdate().executeTakeFirst();
    },

    async markUnsubscribed(trx: Transaction<DB>, id: string): Promise<void> {
      await trx.updateTable('subscribers').set({ status: 'unsubscribed', unsubscribed_at: new Date(), updated_at: new Date() }).where('id', '=', id).execute();
    },

    async insertHistory(trx: Transaction<DB>, row: { organizationId: string; subscriberId: string; source: string; ip: string | null; userAgent: string | null; details: Record<string, unknown> }): Promise<void> {
      await trx.insertInto('subscription_history').values({
        id: newId(), organization_id: row.organizationId, subscriber_id: row.subscriberId, action: 'unsubscribed', source: row.source,
        ip: row.ip, user_agent: row.userAgent, details: JSON.stringify(row.details),
      }).execute();
    },
  };
}

export type UnsubscribeRepository = ReturnType<typeof createUnsubscribeRepository>;
