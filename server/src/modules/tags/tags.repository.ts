import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { DB } from '../../db/types.ts';
import type { Executor, Row } from '../../db/client.ts';

const subscriberCount = sql<number>`(select count(*) from subscriber_tags st where st.tag_id = tags.id and st.status = 'subscribed')`;

const columns = ['id', 'name', 'slug', 'description', 'category', 'is_public', 'position', 'translations', 'created_at', 'updated_at'] as const;

/** One language's wording of a topic, as stored in `tags.translations` (keyed by locale). */
export interface TagTranslation {
  name: string;
  description: string | null;
}
export type TagTranslations = Partial<Record<'en' | 'de', TagTranslation>>;

/** A tag's columns and how many subscribers are subscribed to it. */
export type TagRow = Row<'tags', (typeof columns)[number], { translations: TagTranslations }> & { subscriber_count: number };

export interface NewTag {
  id: string;
  name: string;
  slug: string;
  description?: string | null;
  category?: string | null;
  is_public?: boolean;
  translations?: TagTranslations;
}

const stored = <T extends { translations?: TagTranslations }>(tag: T) => {
  const { translations, ...rest } = tag;
  return translations === undefined ? rest : { ...rest, translations: JSON.stringify(translations) };
};

/**
 * The tag find-or-create as common table expressions, shared by `ensure` and by the one-statement
 * subscriber create. `input` names a relation of the statement with columns (new_id, name, slug); the
 * fragment defines `created_tags` (the missing ones, inserted private), `known_tags` and `resolved_tags`
 * (new_id, id, name, slug: one tag per input row). A tag matches by slug or by case-insensitive name;
 * an exact match (slug or name equal to what was typed) wins, then a tag that already existed.
 *
 * Every match is an equality join on one of the unique indexes (slug, lower(name)), never one join with
 * an OR, so the work grows linearly with the number of names (an OR join compared every input with every
 * tag: 8,000 new tags took 44 s). INSERT … ON CONFLICT DO NOTHING takes no row lock, so many writers can
 * share popular tags; a tag created concurrently by a transaction not yet committed when our snapshot was
 * taken is missed, and callers retry for those (see subscribers.service).
 */
export function resolveTagsSql(organizationId: string, input: string, createWhen: RawBuilder<unknown> = sql`true`): RawBuilder<unknown> {
  const from = sql.table(input);
  return sql`
    created_tags as (
      insert into tags (id, organization_id, name, slug, is_public)
      select new_id, ${organizationId}, name, slug, false from ${from} where ${createWhen}
      on conflict do nothing
      returning id, name, slug
    ),
    known_tags as (
      select id, name, slug, 0 as pref from created_tags
      union all
      select id, name, slug, 1 as pref from tags where organization_id = ${organizationId}
    ),
    tag_candidates as (
      select i.new_id, k.id, k.name, k.slug, k.pref, (k.slug = i.name or lower(k.name) = lower(i.name)) as exact
      from ${from} i join known_tags k on k.slug = i.slug
      union all
      select i.new_id, k.id, k.name, k.slug, k.pref, true as exact
      from ${from} i join known_tags k on lower(k.name) = lower(i.name)
    ),
    resolved_tags as (
      select distinct on (new_id) new_id, id, name, slug from tag_candidates order by new_id, exact desc, pref
    )`;
}

export function createTagRepository(db: Kysely<DB>) {
  const selectTags = (executor: Executor, organizationId: string) =>
    executor
      .selectFrom('tags')
      .select([...columns.filter((c) => c !== 'translations'), sql<TagTranslations>`translations`.as('translations'), subscriberCount.as('subscriber_count')])
      .where('organization_id', '=', organizationId);

  return {
    async list(organizationId: string, options: { limit: number; beforeId?: string; category?: string }): Promise<TagRow[]> {
      let query = selectTags(db, organizationId);
      if (options.beforeId) query = query.where('id', '<', options.beforeId);
      if (options.category !== undefined) query = query.where('category', '=', options.category);
      return query
        .orderBy('id', 'desc')
        .limit(options.limit + 1)
        .execute();
    },

    async findById(organizationId: string, id: string, executor: Executor = db): Promise<TagRow | undefined> {
      return selectTags(executor, organizationId).where('id', '=', id).executeTakeFirst();
    },

    /** A tag is found by its slug or, case-insensitively, by its name. */
    async findByName(organizationId: string, name: string): Promise<TagRow | undefined> {
      return selectTags(db, organizationId)
        .where((eb) => eb.or([eb('slug', '=', name), eb(sql`lower(name)`, '=', name.toLowerCase())]))
        .orderBy(sql`slug = ${name}`, 'desc')
        .limit(1)
        .executeTakeFirst();
    },

    /** Inserts a tag; returns undefined when its slug or name is taken in the organization. */
    async insert(organizationId: string, tag: NewTag): Promise<TagRow | undefined> {
      const inserted = await db
        .insertInto('tags')
        // A new topic comes last in the preference center.
        .values({
          ...stored(tag),
          organization_id: organizationId,
          position: sql<number>`(select coalesce(max(position) + 1, 0) from tags where organization_id = ${organizationId})`,
        })
        .onConflict((oc) => oc.doNothing())
        .returning('id')
        .executeTakeFirst();
      return inserted ? this.findById(organizationId, inserted.id) : undefined;
    },

    async update(organizationId: string, id: string, changes: Partial<Omit<NewTag, 'id'>>): Promise<'updated' | 'missing' | 'conflict'> {
      try {
        const result = await db
          .updateTable('tags')
          .set({ ...stored(changes), updated_at: sql`now()` })
          .where('organization_id', '=', organizationId)
          .where('id', '=', id)
          .executeTakeFirst();
        return result.numUpdatedRows > 0n ? 'updated' : 'missing';
      } catch (error) {
        if ((error as { code?: string }).code === '23505') return 'conflict';
        throw error;
      }
    },

    /**
     * Gives the listed tags positions 0, 1, 2, … in one statement; tags of other organizations match
     * nothing. Returns how many of the ids are the organization's and how many positions changed.
     */
    async setOrder(executor: Executor, organizationId: string, ids: string[]): Promise<{ known: number; updated: number }> {
      const result = await sql<{ known: number; updated: number }>`
        with wanted as (
          select id, ord - 1 as position from unnest(${ids}::uuid[]) with ordinality as i(id, ord)
        ),
        known as (
          select t.id, w.position from wanted w join tags t on t.id = w.id and t.organization_id = ${organizationId}
        ),
        moved as (
          update tags t set position = k.position, updated_at = now()
          from known k
          where t.id = k.id and t.organization_id = ${organizationId} and t.position <> k.position
          returning t.id
        )
        select (select count(*) from known)::int as known, (select count(*) from moved)::int as updated
      `.execute(executor);
      return result.rows[0]!;
    },

    async delete(organizationId: string, id: string): Promise<boolean> {
      const result = await db.deleteFrom('tags').where('organization_id', '=', organizationId).where('id', '=', id).executeTakeFirst();
      return result.numDeletedRows > 0n;
    },

    /**
     * How many of `wanted` match no tag of the organization by slug or name: the tags `ensure` would
     * create. Two anti-joins on the unique indexes, so the count is linear in the input.
     */
    async countMissing(executor: Executor, organizationId: string, wanted: { name: string; slug: string }[]): Promise<number> {
      if (wanted.length === 0) return 0;
      const result = await sql<{ missing: number }>`
        select count(*)::int as missing
        from unnest(${wanted.map((w) => w.name)}::text[], ${wanted.map((w) => w.slug)}::text[]) as i(name, slug)
        where not exists (select 1 from tags t where t.organization_id = ${organizationId} and t.slug = i.slug)
          and not exists (select 1 from tags t where t.organization_id = ${organizationId} and lower(t.name) = lower(i.name))
      `.execute(executor);
      return result.rows[0]?.missing ?? 0;
    },

    /**
     * Finds or creates tags by slug-or-name (see `resolveTagsSql`), one row per distinct input name.
     * Tags created here are private (`is_public = false`): a name typed on a subscriber or in an import is
     * an internal label until an admin publishes it as a topic of the preference center.
     */
    async ensure(
      executor: Executor,
      organizationId: string,
      wanted: { id: string; name: string; slug: string }[],
    ): Promise<{ id: string; name: string; slug: string; input: string }[]> {
      if (wanted.length === 0) return [];
      const result = await sql<{ id: string; name: string; slug: string; input: string }>`
        with tag_input as (
          select * from unnest(${wanted.map((w) => w.id)}::uuid[], ${wanted.map((w) => w.name)}::text[], ${wanted.map((w) => w.slug)}::text[]) as i(new_id, name, slug)
        ),
        ${resolveTagsSql(organizationId, 'tag_input')}
        select distinct on (i.name) r.id, r.name, r.slug, i.name as input
        from resolved_tags r join tag_input i on i.new_id = r.new_id
        order by i.name
      `.execute(executor);
      return result.rows;
    },
  };
}

export type TagRepository = ReturnType<typeof createTagRepository>;
