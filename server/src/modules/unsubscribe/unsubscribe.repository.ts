import { sql, type Kysely, type Transaction } from 'kysely';
import type { DB } from '../../db/types.ts';
import { newId } from '../../lib/ids.ts';

export function createUnsubscribeRepository() {
  return {
    async organizationSlug(db: Kysely<DB>, organizationId: string): Promise<string | null> {
      const row = await db.selectFrom('organizations').select('slug').where('id', '=', organizationId).executeTakeFirst();
      return row?.slug ?? null;
    },

    /**
     * The public topics a campaign was sent to (its tag filter's included tags, by id or slug), in the
     * preference center's order, at most `limit`: what "unsubscribe from this topic only" offers. Empty
     * for a campaign sent to a segment, to private tags only, or of another organization.
     */
    async campaignTopics(db: Kysely<DB>, organizationId: string, campaignId: string, limit: number): Promise<string[]> {
      const result = await sql<{ id: string }>`
        select t.id from campaigns c
        cross join lateral jsonb_array_elements_text(coalesce(c.tag_filter->'include_tags', '[]'::jsonb)) as ref(value)
        join tags t on t.organization_id = c.organization_id and (t.id::text = ref.value or t.slug = ref.value)
        where c.organization_id = ${organizationId} and c.id = ${campaignId} and t.is_public
        group by t.id, t.position, t.name
        order by t.position, lower(t.name)
        limit ${limit}
      `.execute(db);
      return result.rows.map((row) => row.id);
    },

    async lockSubscriber(trx: Transaction<DB>, organizationId: string, id: string) {
      return trx
        .selectFrom('subscribers')
        .select(['id', 'email', 'status'])
        .where('organization_id', '=', organizationId)
        .where('id', '=', id)
        .forUpdate()
        .executeTakeFirst();
    },

    async markUnsubscribed(trx: Transaction<DB>, id: string): Promise<void> {
      await trx.updateTable('subscribers').set({ status: 'unsubscribed', unsubscribed_at: new Date(), updated_at: new Date() }).where('id', '=', id).execute();
    },

    async insertHistory(
      trx: Transaction<DB>,
      row: { organizationId: string; subscriberId: string; source: string; ip: string | null; userAgent: string | null; details: Record<string, unknown> },
    ): Promise<void> {
      await trx
        .insertInto('subscription_history')
        .values({
          id: newId(),
          organization_id: row.organizationId,
          subscriber_id: row.subscriberId,
          action: 'unsubscribed',
          source: row.source,
          ip: row.ip,
          user_agent: row.userAgent,
          details: JSON.stringify(row.details),
        })
        .execute();
    },
  };
}

export type UnsubscribeRepository = ReturnType<typeof createUnsubscribeRepository>;
