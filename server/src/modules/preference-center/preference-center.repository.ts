import { sql, type Kysely } from 'kysely';
import type pg from 'pg';
import type { DB } from '../../db/types.ts';
import type { Executor } from '../events/events.repository.ts';
import type { SubscriberStatus } from '../subscribers/subscribers.schemas.ts';

/** An organization as the public flows need it: identity, sender, language and preference-center settings. */
export interface OrganizationProfile {
  id: string;
  name: string;
  slug: string;
  locale: string;
  email_from_name: string | null;
  email_from_address: string | null;
  preference_center: unknown;
}

export interface ViewRow {
  email: string;
  first_name: string | null;
  status: SubscriberStatus;
  organization: OrganizationProfile;
  tags: { id: string; name: string; description: string | null; category: string | null; is_subscribed: boolean }[];
}

const organizationColumns = ['id', 'name', 'slug', 'locale', 'email_from_name', 'email_from_address', 'preference_center'] as const;

const VIEW_SQL = `
  select s.email, s.first_name, s.status,
    json_build_object('id', o.id, 'name', o.name, 'slug', o.slug, 'locale', o.locale, 'email_from_name', o.email_from_name,
      'email_from_address', o.email_from_address, 'preference_center', o.preference_center) as organization,
    coalesce((
      select json_agg(json_build_object('id', t.id, 'name', t.name, 'description', t.description, 'category', t.category,
        'is_subscribed', coalesce(st.status = 'subscribed', false)) order by t.category nulls last, lower(t.name))
      from tags t
      left join subscriber_tags st on st.tag_id = t.id and st.subscriber_id = s.id
      where t.organization_id = s.organization_id and t.is_public
    ), '[]'::json) as tags
  from subscribers s
  join organizations o on o.id = s.organization_id
  where s.organization_id = $1 and s.id = $2`;

/**
 * Reads for the preference center and the public flows, and the preference-center settings. Writes to
 * subscribers, tags and consent history go through the subscriber repository, so there is one copy of
 * that SQL.
 */
export function createPreferenceCenterRepository(db: Kysely<DB>, pool: Pick<pg.Pool, 'query'>) {
  return {
    /**
     * Everything the preference page shows, in one round trip: the subscriber, their organization and
     * every public tag with the subscriber's state. This is the page's hot path, so it runs as a named
     * prepared statement on the shared pool: each connection plans it once, where Kysely's unnamed
     * statements are planned on every call, and planning is most of this query's cost.
     */
    async view(organizationId: string, subscriberId: string): Promise<ViewRow | undefined> {
      const result = await pool.query<ViewRow>({ name: 'preference_center_view', text: VIEW_SQL, values: [organizationId, subscriberId] });
      return result.rows[0];
    },

    async organizationById(id: string, executor: Executor = db): Promise<OrganizationProfile | undefined> {
      return executor.selectFrom('organizations').select(organizationColumns).where('id', '=', id).executeTakeFirst();
    },

    async organizationBySlug(slug: string): Promise<OrganizationProfile | undefined> {
      return db.selectFrom('organizations').select(organizationColumns).where('slug', '=', slug).where('status', '=', 'active').executeTakeFirst();
    },

    async updateSettings(organizationId: string, settings: unknown, locale: string | undefined): Promise<void> {
      await db.updateTable('organizations')
        .set({ preference_center: JSON.stringify(settings), ...(locale !== undefined ? { locale } : {}), updated_at: sql<Date>`now()` })
        .where('id', '=', organizationId)
        .execute();
    },

    /** A public tag of the organization, or undefined (private and unknown tags look the same). */
    async findPublicTag(executor: Executor, organizationId: string, tagId: string) {
      return executor.selectFrom('tags').select(['id', 'name', 'slug'])
        .where('organization_id', '=', organizationId).where('id', '=', tagId).where('is_public', '=', true)
        .executeTakeFirst();
    },

    /** Public tags by slug, for website forms, which may only offer public topics. */
    async findPublicTagsBySlugs(executor: Executor, organizationId: string, slugs: string[]) {
      if (slugs.length === 0) return [];
      return executor.selectFrom('tags').select(['id', 'name', 'slug'])
        .where('organization_id', '=', organizationId).where('slug', 'in', slugs).where('is_public', '=', true)
        .execute();
    },

    async findPublicTagsByIds(executor: Executor, organizationId: string, ids: string[]) {
      if (ids.length === 0) return [];
      return executor.selectFrom('tags').select(['id', 'name', 'slug'])
        .where('organization_id', '=', organizationId).where('id', 'in', ids).where('is_public', '=', true)
        .execute();
    },

    /** Every tag row of the subscriber, subscribed or not, for the data export. */
    async tagStates(organizationId: string, subscriberId: string) {
      return db.selectFrom('subscriber_tags as st').innerJoin('tags as t', 't.id', 'st.tag_id')
        .select(['t.name', 't.slug', 'st.status', 'st.source', 'st.subscribed_at', 'st.unsubscribed_at'])
        .where('st.organization_id', '=', organizationId).where('st.subscriber_id', '=', subscriberId)
        .orderBy('t.name').limit(10_000)
        .execute();
    },

    /**
     * The consent-history rows written by one unsubscribe-all (tagged with its batch id), and whether it
     * is still the subscriber's latest status change, which is what makes it undoable.
     */
    async unsubscribeBatch(executor: Executor, organizationId: string, subscriberId: string, batchId: string) {
      const rows = await executor.selectFrom('subscription_history')
        .select(['action', 'tag_id', 'details'])
        .where('organization_id', '=', organizationId).where('subscriber_id', '=', subscriberId)
        .where(sql`details->>'batch'`, '=', batchId)
        .execute();
      const latestStatusChange = await executor.selectFrom('subscription_history')
        .select(sql<string | null>`details->>'batch'`.as('batch'))
        .where('organization_id', '=', organizationId).where('subscriber_id', '=', subscriberId)
        .where('action', 'in', ['status_changed', 'confirmed'])
        .orderBy('id', 'desc').limit(1)
        .executeTakeFirst();
      const statusRow = rows.find((row) => row.action === 'status_changed');
      return {
        tagIds: rows.filter((row) => row.action === 'tag_unsubscribed' && row.tag_id).map((row) => row.tag_id!),
        previousStatus: statusRow ? ((statusRow.details as { from?: SubscriberStatus }).from ?? null) : null,
        isLatestStatusChange: statusRow !== undefined && latestStatusChange?.batch === batchId,
      };
    },

    /** Emails sent to the subscriber, for the data export: what was sent, when, and what became of it. */
    async messages(organizationId: string, subscriberId: string) {
      return db.selectFrom('email_messages')
        .select(['id', 'category', 'from_address', 'to_address', 'subject', 'text', 'status', 'created_at', 'sent_at', 'delivered_at',
          'opened_at', 'clicked_at', 'bounced_at', 'complained_at'])
        .where('organization_id', '=', organizationId).where('subscriber_id', '=', subscriberId)
        .orderBy('id', 'desc').limit(10_000)
        .execute();
    },
  };
}

export type PreferenceCenterRepository = ReturnType<typeof createPreferenceCenterRepository>;
