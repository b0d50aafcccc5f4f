import { sql, type Kysely } from 'kysely';
import type pg from 'pg';
import type { DB } from '../../db/types.ts';
import type { Executor } from '../../db/client.ts';
import { deleteInChunks, DELETE_CHUNK } from '../../db/chunked-delete.ts';
import type { SubscriberStatus } from '../subscribers/index.ts';
import type { TagTranslations } from '../tags/index.ts';
import { categoriesOf, grouped } from './topic-order.ts';

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

/** What the preference center's footer shows: the postal address and the legal pages, when set. */
export interface OrganizationFooter {
  postal_address: string | null;
  privacy_url: string | null;
  imprint_url: string | null;
}

export interface ViewRow {
  email: string;
  first_name: string | null;
  status: SubscriberStatus;
  organization: OrganizationProfile & OrganizationFooter;
  tags: {
    id: string;
    name: string;
    description: string | null;
    category: string | null;
    translations: TagTranslations;
    is_subscribed: boolean;
  }[];
}

const organizationColumns = ['id', 'name', 'slug', 'locale', 'email_from_name', 'email_from_address', 'preference_center'] as const;

// The subscriber, their organization, the ids of the topics they are subscribed to, and the version of
// the organization's tags: two primary-key lookups and one index range, whatever the number of topics.
const VIEW_SQL = `
  select s.email, s.first_name, s.status,
    o.id as organization_id, o.name, o.slug, o.locale, o.email_from_name, o.email_from_address, o.preference_center,
    o.postal_address, o.privacy_url, o.imprint_url, o.tags_version,
    array(select st.tag_id::text from subscriber_tags st where st.subscriber_id = s.id and st.status = 'subscribed') as subscribed
  from subscribers s
  join organizations o on o.id = s.organization_id
  where s.organization_id = $1 and s.id = $2`;

// The organization's public topics in the order its admins set (grouped by category after reading).
const PUBLIC_TAGS_SQL = `
  select id, name, description, category, translations from tags
  where organization_id = $1 and is_public
  order by position, lower(name)`;

interface ViewQueryRow extends Omit<OrganizationProfile, 'id'>, OrganizationFooter {
  email: string;
  first_name: string | null;
  status: SubscriberStatus;
  organization_id: string;
  /** int8, read as a number (db/client.ts). */
  tags_version: number;
  subscribed: string[];
}

type PublicTag = Omit<ViewRow['tags'][number], 'is_subscribed'>;

/** Organizations whose public topics one process keeps in memory (a few kilobytes each). */
const CACHED_CATALOGS = 1000;

/**
 * Reads for the preference center and the public flows, and the preference-center settings. Writes to
 * subscribers, tags and consent history go through the subscriber repository, so there is one copy of
 * that SQL.
 */
export function createPreferenceCenterRepository(db: Kysely<DB>, pool: Pick<pg.Pool, 'query'>) {
  const catalogs = new Map<string, { version: number; tags: PublicTag[] }>();

  // Stored under the version read before the tags: a change in between only makes the next view reload.
  async function publicTags(organizationId: string, version: number): Promise<PublicTag[]> {
    const cached = catalogs.get(organizationId);
    if (cached?.version === version) return cached.tags;
    const result = await pool.query<PublicTag>({ name: 'preference_center_public_tags', text: PUBLIC_TAGS_SQL, values: [organizationId] });
    // Grouped by category here, once per version, so the page's read only maps them.
    const tags = grouped(result.rows, categoriesOf(result.rows));
    catalogs.delete(organizationId);
    if (catalogs.size >= CACHED_CATALOGS) catalogs.delete(catalogs.keys().next().value!);
    catalogs.set(organizationId, { version, tags });
    return tags;
  }

  return {
    /**
     * Everything the preference page shows. This is the page's hot path: the subscriber's own data and
     * their organization are read on every call, as a named prepared statement (planned once per
     * connection); the organization's public topics, the same for all its subscribers, come from this
     * process's memory as long as the organization's `tags_version` (bumped by a trigger on every change
     * to its tags) is the one they were read at.
     */
    async view(organizationId: string, subscriberId: string): Promise<ViewRow | undefined> {
      const result = await pool.query<ViewQueryRow>({ name: 'preference_center_view', text: VIEW_SQL, values: [organizationId, subscriberId] });
      const row = result.rows[0];
      if (!row) return undefined;
      const tags = await publicTags(organizationId, row.tags_version);
      const subscribed = new Set(row.subscribed);
      return {
        email: row.email,
        first_name: row.first_name,
        status: row.status,
        organization: {
          id: row.organization_id,
          name: row.name,
          slug: row.slug,
          locale: row.locale,
          email_from_name: row.email_from_name,
          email_from_address: row.email_from_address,
          preference_center: row.preference_center,
          postal_address: row.postal_address,
          privacy_url: row.privacy_url,
          imprint_url: row.imprint_url,
        },
        tags: tags.map((tag) => ({ ...tag, is_subscribed: subscribed.has(tag.id) })),
      };
    },

    async organizationById(id: string, executor: Executor = db): Promise<OrganizationProfile | undefined> {
      return executor.selectFrom('organizations').select(organizationColumns).where('id', '=', id).executeTakeFirst();
    },

    /** The organization with its footer, for the admin's preview of the preference center. */
    async organizationWithFooter(id: string): Promise<(OrganizationProfile & OrganizationFooter) | undefined> {
      return db
        .selectFrom('organizations')
        .select([...organizationColumns, 'postal_address', 'privacy_url', 'imprint_url'])
        .where('id', '=', id)
        .executeTakeFirst();
    },

    /** The organization's public topics, in the preference center's order (cached like the page's). */
    async publicTopics(organizationId: string): Promise<PublicTag[]> {
      const row = await db.selectFrom('organizations').select('tags_version').where('id', '=', organizationId).executeTakeFirst();
      return row ? publicTags(organizationId, Number(row.tags_version)) : [];
    },

    async organizationBySlug(slug: string): Promise<OrganizationProfile | undefined> {
      return db.selectFrom('organizations').select(organizationColumns).where('slug', '=', slug).where('status', '=', 'active').executeTakeFirst();
    },

    async updateSettings(organizationId: string, settings: unknown, locale: string | undefined): Promise<void> {
      await db
        .updateTable('organizations')
        .set({ preference_center: JSON.stringify(settings), ...(locale !== undefined ? { locale } : {}), updated_at: sql<Date>`now()` })
        .where('id', '=', organizationId)
        .execute();
    },

    /** A public tag of the organization, or undefined (private and unknown tags look the same). */
    async findPublicTag(executor: Executor, organizationId: string, tagId: string) {
      return executor
        .selectFrom('tags')
        .select(['id', 'name', 'slug'])
        .where('organization_id', '=', organizationId)
        .where('id', '=', tagId)
        .where('is_public', '=', true)
        .executeTakeFirst();
    },

    /** Public tags by slug, for website forms, which may only offer public topics. */
    async findPublicTagsBySlugs(executor: Executor, organizationId: string, slugs: string[]) {
      if (slugs.length === 0) return [];
      return executor
        .selectFrom('tags')
        .select(['id', 'name', 'slug'])
        .where('organization_id', '=', organizationId)
        .where('slug', 'in', slugs)
        .where('is_public', '=', true)
        .execute();
    },

    async findPublicTagsByIds(executor: Executor, organizationId: string, ids: string[]) {
      if (ids.length === 0) return [];
      return executor
        .selectFrom('tags')
        .select(['id', 'name', 'slug'])
        .where('organization_id', '=', organizationId)
        .where('id', 'in', ids)
        .where('is_public', '=', true)
        .execute();
    },

    /** Every tag row of the subscriber, subscribed or not, for the data export. */
    async tagStates(organizationId: string, subscriberId: string) {
      return db
        .selectFrom('subscriber_tags as st')
        .innerJoin('tags as t', 't.id', 'st.tag_id')
        .select(['t.name', 't.slug', 'st.status', 'st.source', 'st.subscribed_at', 'st.unsubscribed_at'])
        .where('st.organization_id', '=', organizationId)
        .where('st.subscriber_id', '=', subscriberId)
        .orderBy('t.name')
        .limit(10_000)
        .execute();
    },

    /**
     * The consent-history rows written by one unsubscribe-all (tagged with its batch id), and whether it
     * is still the subscriber's latest status change, which is what makes it undoable.
     */
    async unsubscribeBatch(executor: Executor, organizationId: string, subscriberId: string, batchId: string) {
      const rows = await executor
        .selectFrom('subscription_history')
        .select(['action', 'tag_id', 'details'])
        .where('organization_id', '=', organizationId)
        .where('subscriber_id', '=', subscriberId)
        .where(sql`details->>'batch'`, '=', batchId)
        .execute();
      const latestStatusChange = await executor
        .selectFrom('subscription_history')
        .select(sql<string | null>`details->>'batch'`.as('batch'))
        .where('organization_id', '=', organizationId)
        .where('subscriber_id', '=', subscriberId)
        .where('action', 'in', ['status_changed', 'confirmed'])
        .orderBy('id', 'desc')
        .limit(1)
        .executeTakeFirst();
      const statusRow = rows.find((row) => row.action === 'status_changed');
      return {
        tagIds: rows.filter((row) => row.action === 'tag_unsubscribed' && row.tag_id).map((row) => row.tag_id!),
        previousStatus: statusRow ? ((statusRow.details as { from?: SubscriberStatus }).from ?? null) : null,
        isLatestStatusChange: statusRow !== undefined && latestStatusChange?.batch === batchId,
      };
    },

    /**
     * Records that a confirmation link was used; false when it had been used before. Inside the
     * confirming transaction, so a failed confirmation leaves the link usable.
     */
    async useConfirmationLink(executor: Executor, organizationId: string, subscriberId: string, tokenHash: string): Promise<boolean> {
      const inserted = await executor
        .insertInto('used_confirmation_links')
        .values({ token_hash: tokenHash, organization_id: organizationId, subscriber_id: subscriberId })
        .onConflict((oc) => oc.doNothing())
        .returning('token_hash')
        .executeTakeFirst();
      return inserted !== undefined;
    },

    /** Retention: used links older than the cutoff, which have expired by then anyway. */
    async deleteUsedConfirmationLinksBefore(cutoff: Date, signal?: AbortSignal): Promise<number> {
      return deleteInChunks(
        async () =>
          (
            await sql`
        delete from used_confirmation_links where token_hash in (
          select token_hash from used_confirmation_links where used_at < ${cutoff} limit ${DELETE_CHUNK})`.execute(db)
          ).numAffectedRows ?? 0n,
        signal,
      );
    },

    /** Emails sent to the subscriber, for the data export: what was sent, when, and what became of it. */
    async messages(organizationId: string, subscriberId: string) {
      return db
        .selectFrom('email_messages')
        .select([
          'id',
          'category',
          'from_address',
          'to_address',
          'subject',
          'text',
          'status',
          'created_at',
          'sent_at',
          'delivered_at',
          'opened_at',
          'clicked_at',
          'bounced_at',
          'complained_at',
        ])
        .where('organization_id', '=', organizationId)
        .where('subscriber_id', '=', subscriberId)
        .orderBy('id', 'desc')
        .limit(10_000)
        .execute();
    },
  };
}

export type PreferenceCenterRepository = ReturnType<typeof createPreferenceCenterRepository>;
