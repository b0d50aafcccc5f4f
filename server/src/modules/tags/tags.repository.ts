import { sql, type Kysely } from 'kysely';
import type { DB } from '../../db/types.ts';
import type { Executor } from '../../db/client.ts';

const subscriberCount = sql<number>`(select count(*) from subscriber_tags st where st.tag_id = tags.id and st.status = 'subscribed')`;

const columns = ['id', 'name', 'slug', 'description', 'category', 'is_public', 'created_at', 'updated_at'] as const;

export interface TagRow {
  id: string;
  name: string;
  slug: string;
  description: string | null;
  category: string | null;
  is_public: boolean;
  subscriber_count: number;
  created_at: Date;
  updated_at: Date;
}

export interface NewTag {
  id: string;
  name: string;
  slug: string;
  description?: string | null;
  category?: string | null;
  is_public?: boolean;
}

export function createTagRepository(db: Kysely<DB>) {
  const selectTags = (executor: Executor, organizationId: string) =>
    executor.selectFrom('tags').select([...columns, subscriberCount.as('subscriber_count')]).where('organization_id', '=', organizationId);

  return {
    async list(organizationId: string, options: { limit: number; beforeId?: string; category?: string }): Promise<TagRow[]> {
      let query = selectTags(db, organizationId);
      if (options.beforeId) query = query.where('id', '<', options.beforeId);
      if (options.category !== undefined) query = query.where('category', '=', options.category);
      return query.orderBy('id', 'desc').limit(options.limit + 1).execute();
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
        .values({ ...tag, organization_id: organizationId })
        .onConflict((oc) => oc.doNothing())
        .returning('id')
        .executeTakeFirst();
      return inserted ? this.findById(organizationId, inserted.id) : undefined;
    },

    async update(organizationId: string, id: string, changes: Partial<Omit<NewTag, 'id'>>): Promise<'updated' | 'missing' | 'conflict'> {
      try {
        const result = await db
          .updateTable('tags')
          .set({ ...changes, updated_at: sql`now()` })
          .where('organization_id', '=', organizationId)
          .where('id', '=', id)
          .executeTakeFirst();
        return result.numUpdatedRows > 0n ? 'updated' : 'missing';
      } catch (error) {
        if ((error as { code?: string }).code === '23505') return 'conflict';
        throw error;
      }
    },

    async delete(organizationId: string, id: string): Promise<boolean> {
      const result = await db.deleteFrom('tags').where('organization_id', '=', organizationId).where('id', '=', id).executeTakeFirst();
      return result.numDeletedRows > 0n;
    },

    /**
     * Finds or creates tags by slug-or-name, without locking existing rows (INSERT … ON CONFLICT DO
     * NOTHING takes no row lock), so many writers can share popular tags. A tag created concurrently by
     * another transaction that has not committed when our snapshot was taken can be missed; callers
     * retry for those (see subscribers.service).
     */
    async ensure(executor: Executor, organizationId: string, wanted: { id: string; name: string; slug: string }[]): Promise<{ id: string; name: string; slug: string; input: string }[]> {
      if (wanted.length === 0) return [];
      const result = await sql<{ id: string; name: string; slug: string; input: string }>`
        with input as (
          select * from unnest(${wanted.map((w) => w.id)}::uuid[], ${wanted.map((w) => w.name)}::text[], ${wanted.map((w) => w.slug)}::text[]) as i(new_id, name, slug)
        ),
        created as (
          insert into tags (id, organization_id, name, slug)
          select new_id, ${organizationId}, name, slug from input
          on conflict do nothing
          returning id, name, slug
        )
        select distinct on (i.name) t.id, t.name, t.slug, i.name as input
        from input i
        join (
          select id, name, slug, 0 as pref from created
          union all
          select id, name, slug, 1 as pref from tags where organization_id = ${organizationId}
        ) t on t.slug = i.slug or lower(t.name) = lower(i.name)
        order by i.name, (t.slug = i.name or lower(t.name) = lower(i.name)) desc, t.pref
      `.execute(executor);
      return result.rows;
    },
  };
}

export type TagRepository = ReturnType<typeof createTagRepository>;
