import { sql, type Kysely, type RawBuilder } from 'kysely';
import type pg from 'pg';
import type { DB } from '../../db/types.ts';
import type { Executor, Row } from '../../db/client.ts';
import { resolveTagsSql } from '../tags/index.ts';
import type { SubscriberStatus } from './subscribers.schemas.ts';
import { AppError } from '../../lib/errors.ts';
import { applyFilter, applySort, filterTagRefs, sortKeyColumn, type ListFilterInput, type Position, type Sort, type TagLookup } from './list-query.ts';

/** A search runs under this bound: a term without trigrams (one or two characters) may scan the organization. */
const SEARCH_TIMEOUT_MS = 5000;
/** Rows of the sort order a search looks at first (see `list`). */
const SEARCH_WINDOW = 5000;

/** A subscriber as the API shows it: its columns and the topics it is subscribed to. */
export type SubscriberRow = Row<
  'subscribers',
  'id' | 'email' | 'status' | 'first_name' | 'last_name' | 'locale' | 'metadata' | 'source' | 'confirmed_at' | 'unsubscribed_at' | 'created_at' | 'updated_at',
  { status: SubscriberStatus; metadata: Record<string, unknown> }
> & { tags: { id: string; name: string; slug: string }[] };

export interface HistoryInsert {
  id: string;
  subscriber_id: string;
  tag_id: string | null;
  action: string;
  source: string;
  ip: string | null;
  user_agent: string | null;
  details: Record<string, unknown>;
}

/** Where a change came from: recorded with every consent-history row. */
export interface Origin {
  source: string;
  ip: string | null;
  userAgent: string | null;
  /** Made with an sf_test_ key: the subscriber.created event says so, and automations it starts send to the dev mailbox. */
  test?: boolean;
}

export interface CreateOneInput {
  id: string;
  email: string;
  status: 'active' | 'pending';
  firstName: string | null;
  lastName: string | null;
  locale: string | null;
  metadata: Record<string, unknown>;
  origin: Origin;
  createdHistoryId: string;
  createdEventId: string;
  tags: { newId: string; name: string; slug: string; historyId: string; eventId: string }[];
}

const subscriberColumns = [
  'id',
  'email',
  'status',
  'first_name',
  'last_name',
  'locale',
  'metadata',
  'source',
  'confirmed_at',
  'unsubscribed_at',
  'created_at',
  'updated_at',
] as const;

// The subscriber's current tags, as one JSON array column next to its row.
const tagsOf = (subscriberId: RawBuilder<unknown>) => sql<SubscriberRow['tags']>`coalesce((
  select json_agg(json_build_object('id', t.id, 'name', t.name, 'slug', t.slug) order by t.name)
  from subscriber_tags st join tags t on t.id = st.tag_id
  where st.subscriber_id = ${subscriberId} and st.status = 'subscribed'
), '[]'::json)`;

// The by-id read every GET /subscribers/{id} makes, as a named prepared statement: each pooled
// connection parses and plans it once instead of on every request (Kysely sends unnamed statements).
// The same columns and tag aggregate as `selectSubscribers` below.
const BY_ID_SQL = `
  select id, email, status, first_name, last_name, locale, metadata, source, confirmed_at, unsubscribed_at, created_at, updated_at,
    coalesce((
      select json_agg(json_build_object('id', t.id, 'name', t.name, 'slug', t.slug) order by t.name)
      from subscriber_tags st join tags t on t.id = st.tag_id
      where st.subscriber_id = subscribers.id and st.status = 'subscribed'
    ), '[]'::json) as tags
  from subscribers
  where organization_id = $1 and id = $2`;

export function createSubscriberRepository(db: Kysely<DB>, pool?: Pick<pg.Pool, 'query'>) {
  const selectSubscribers = (executor: Executor, organizationId: string) =>
    executor
      .selectFrom('subscribers')
      .select([...subscriberColumns, tagsOf(sql.ref('subscribers.id')).as('tags')])
      .where('subscribers.organization_id', '=', organizationId);

  /** The organization's tags a filter names, by slug or by name (case-insensitive), as one lookup. */
  async function tagLookup(executor: Executor, organizationId: string, filter: ListFilterInput): Promise<TagLookup> {
    const refs = filterTagRefs(filter);
    if (refs.length === 0) return () => undefined;
    const rows = await executor
      .selectFrom('tags')
      .select(['id', 'slug', sql<string>`lower(name)`.as('lower_name')])
      .where('organization_id', '=', organizationId)
      .where((eb) =>
        eb.or([
          eb('slug', 'in', refs),
          eb(
            sql`lower(name)`,
            'in',
            refs.map((r) => r.toLowerCase()),
          ),
        ]),
      )
      .execute();
    // By slug first, else by name: people type the name they see in the dashboard.
    return (ref) => rows.find((r) => r.slug === ref)?.id ?? rows.find((r) => r.lower_name === ref.toLowerCase())?.id;
  }

  /**
   * The organization's subscribers matching a list filter; undefined when the filter cannot match (a
   * required tag does not exist). Tag ids are looked up first so the planner sees them as values: it
   * then knows how common a tag is and, for a rare one, walks the tag's own index.
   */
  async function filtered(executor: Executor, organizationId: string, filter: ListFilterInput) {
    return applyFilter(selectSubscribers(executor, organizationId), filter, await tagLookup(executor, organizationId, filter));
  }

  /** Runs a list read; with a search term under a statement timeout (503 search_timeout past it). */
  async function bounded<T>(filter: ListFilterInput, work: (executor: Executor) => Promise<T>): Promise<T> {
    if (!filter.q) return work(db);
    try {
      return await db.transaction().execute(async (trx) => {
        await sql`select set_config('statement_timeout', ${String(SEARCH_TIMEOUT_MS)}, true)`.execute(trx);
        return work(trx);
      });
    } catch (error) {
      if ((error as { code?: string }).code === '57014')
        throw new AppError(503, 'search_timeout', 'The search took too long; type a longer search term or add a filter', { cause: error });
      throw error;
    }
  }

  return {
    /**
     * The ids of the organization's subscribers matching a list filter, as a subquery built by the list's
     * own compiler (the export embeds it, so it matches exactly what the list shows); undefined when the
     * filter cannot match anyone (a required tag does not exist).
     */
    async matchingIds(organizationId: string, filter: ListFilterInput) {
      const ids = db.selectFrom('subscribers').select('subscribers.id').where('subscribers.organization_id', '=', organizationId);
      return applyFilter(ids, filter, await tagLookup(db, organizationId, filter));
    },

    /**
     * Creates a subscriber with its tags, consent history and outbox events in ONE statement (one round
     * trip, atomic without an explicit transaction). Returns undefined when the email already exists.
     * `resolvedTagInputs` below the number of tags asked for means a tag was being created concurrently
     * by another transaction; the caller adds those in a second step.
     */
    async createOne(organizationId: string, input: CreateOneInput): Promise<(SubscriberRow & { resolved_tag_inputs: number }) | undefined> {
      const { origin, tags } = input;
      const result = await sql<SubscriberRow & { resolved_tag_inputs: number }>`
        with input_tags as (
          select * from unnest(
            ${tags.map((t) => t.newId)}::uuid[], ${tags.map((t) => t.name)}::text[], ${tags.map((t) => t.slug)}::text[],
            ${tags.map((t) => t.historyId)}::uuid[], ${tags.map((t) => t.eventId)}::uuid[]
          ) as i(new_id, name, slug, history_id, event_id)
        ),
        existing as (
          select 1 from subscribers where organization_id = ${organizationId} and lower(email) = lower(${input.email})
        ),
        -- Created private (a name on a subscriber is an internal label, not a topic), and only for a new subscriber.
        ${resolveTagsSql(organizationId, 'input_tags', sql`not exists (select 1 from existing)`)},
        resolved as (
          select distinct on (r.id) r.id, r.name, r.slug, i.history_id, i.event_id
          from resolved_tags r join input_tags i on i.new_id = r.new_id
          order by r.id
        ),
        new_subscriber as (
          insert into subscribers (id, organization_id, email, status, first_name, last_name, locale, metadata, source, confirmed_at)
          values (${input.id}, ${organizationId}, ${input.email}, ${input.status}, ${input.firstName}, ${input.lastName}, ${input.locale},
                  ${JSON.stringify(input.metadata)}::jsonb, ${origin.source}, ${input.status === 'active' ? sql`now()` : null})
          on conflict (organization_id, lower(email)) do nothing
          returning id, email, status, first_name, last_name, locale, metadata, source, confirmed_at, unsubscribed_at, created_at, updated_at
        ),
        links as (
          insert into subscriber_tags (subscriber_id, tag_id, organization_id, status, source, subscribed_at)
          select s.id, r.id, ${organizationId}, 'subscribed', ${origin.source}, now() from new_subscriber s cross join resolved r
        ),
        history as (
          insert into subscription_history (id, organization_id, subscriber_id, tag_id, action, source, ip, user_agent, details)
          select ${input.createdHistoryId}::uuid, ${organizationId}::uuid, s.id, null::uuid, 'created', ${origin.source}, ${origin.ip}, ${origin.userAgent}, jsonb_build_object('status', s.status)
          from new_subscriber s
          union all
          select r.history_id, ${organizationId}::uuid, s.id, r.id, 'tag_subscribed', ${origin.source}, ${origin.ip}, ${origin.userAgent}, '{}'::jsonb
          from new_subscriber s cross join resolved r
        ),
        outbox as (
          insert into events (id, organization_id, type, subject_id, payload)
          select ${input.createdEventId}::uuid, ${organizationId}::uuid, 'subscriber.created', s.id, jsonb_build_object(
            'subscriber', jsonb_build_object('id', s.id, 'email', s.email, 'status', s.status, 'first_name', s.first_name, 'last_name', s.last_name,
              'tags', (select coalesce(jsonb_agg(r.slug order by r.slug), '[]'::jsonb) from resolved r)),
            'source', ${origin.source}::text) || case when ${origin.test === true} then '{"test": true}'::jsonb else '{}'::jsonb end
          from new_subscriber s
          union all
          select r.event_id, ${organizationId}::uuid, 'tag.subscribed', s.id, jsonb_build_object(
            'subscriber', jsonb_build_object('id', s.id, 'email', s.email),
            'tag', jsonb_build_object('id', r.id, 'name', r.name, 'slug', r.slug),
            'source', ${origin.source}::text) || case when ${origin.test === true} then '{"test": true}'::jsonb else '{}'::jsonb end
          from new_subscriber s cross join resolved r
        )
        select s.*,
          (select coalesce(json_agg(json_build_object('id', r.id, 'name', r.name, 'slug', r.slug) order by r.name), '[]'::json) from resolved r) as tags,
          (select count(*)::int from resolved_tags) as resolved_tag_inputs
        from new_subscriber s
      `.execute(db);
      return result.rows[0];
    },

    async findById(organizationId: string, id: string, executor: Executor = db): Promise<SubscriberRow | undefined> {
      // Inside a transaction the read must run on the transaction's connection.
      if (pool && executor === db) {
        const result = await pool.query<SubscriberRow>({ name: 'subscriber_by_id', text: BY_ID_SQL, values: [organizationId, id] });
        return result.rows[0];
      }
      return selectSubscribers(executor, organizationId).where('id', '=', id).executeTakeFirst() as Promise<SubscriberRow | undefined>;
    },

    async findByEmail(organizationId: string, email: string): Promise<SubscriberRow | undefined> {
      return selectSubscribers(db, organizationId)
        .where(sql`lower(email)`, '=', email.trim().toLowerCase())
        .executeTakeFirst() as Promise<SubscriberRow | undefined>;
    },

    /** Locks the subscriber row for the rest of the caller's transaction. */
    async lock(executor: Executor, organizationId: string, id: string) {
      const row = await executor
        .selectFrom('subscribers')
        .select(['id', 'email', 'status', 'first_name', 'last_name', 'locale', 'metadata', 'unsubscribed_at'])
        .where('organization_id', '=', organizationId)
        .where('id', '=', id)
        .forUpdate()
        .executeTakeFirst();
      return row as (typeof row & { status: SubscriberStatus }) | undefined;
    },

    /**
     * One page of the filtered list in the sort's order, after `after`; `limit + 1` rows (the extra one
     * says "more"). A search is answered in two steps, because the planner assumes matches are spread
     * evenly through the sort order and walks the sort's index for a term that is in fact rare or
     * bunched (a 1% term whose matches are all old: seconds). First the window of the next
     * SEARCH_WINDOW rows in sort order is searched; when it holds a full page, that page is exact (the
     * window is a contiguous run of the order). Otherwise the matches are found through the trigram
     * indexes and sorted, with plain index walks switched off for that one statement.
     */
    async list(
      organizationId: string,
      filter: ListFilterInput,
      page: { sort: Sort; after?: Position; limit: number },
    ): Promise<(SubscriberRow & { sort_key: string | null })[]> {
      return bounded(filter, async (executor) => {
        const query = await filtered(executor, organizationId, filter);
        if (!query) return [];
        const pageOf = (q: typeof query) =>
          applySort(q.select(sortKeyColumn(page.sort.field)), page.sort, page.after)
            .limit(page.limit + 1)
            .execute() as Promise<(SubscriberRow & { sort_key: string | null })[]>;
        if (!filter.q) return pageOf(query);
        const window = applySort(
          executor.selectFrom('subscribers').select('subscribers.id').where('subscribers.organization_id', '=', organizationId),
          page.sort,
          page.after,
        ).limit(SEARCH_WINDOW);
        const probe = await pageOf(query.where('subscribers.id', 'in', executor.selectFrom(window.as('w')).select('w.id')));
        if (probe.length > page.limit) return probe;
        await sql`select set_config('enable_indexscan', 'off', true), set_config('enable_indexonlyscan', 'off', true)`.execute(executor);
        return pageOf(query);
      });
    },

    /**
     * How many subscribers match a list filter. Counted exactly up to `cap` (an index walk of at most that
     * many rows); above it the planner's estimate is returned, marked as not exact, so a total over a
     * million subscribers costs no scan of them all.
     */
    async count(organizationId: string, filter: ListFilterInput, cap: number): Promise<{ total: number; exact: boolean }> {
      return bounded(filter, async (executor) => {
        const query = await filtered(executor, organizationId, filter);
        if (!query) return { total: 0, exact: true };
        const matches = query.clearSelect().select(sql<number>`1`.as('one'));
        const counted = await executor
          .selectFrom(matches.limit(cap + 1).as('m'))
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow();
        if (Number(counted.n) <= cap) return { total: Number(counted.n), exact: true };
        const plan = await sql<{ 'QUERY PLAN': [{ Plan: { 'Plan Rows': number } }] }>`explain (format json) ${matches}`.execute(executor);
        return { total: Math.max(cap + 1, Math.round(plan.rows[0]!['QUERY PLAN'][0].Plan['Plan Rows'])), exact: false };
      });
    },

    /**
     * The next chunk of a bulk action: ids (and addresses, for the events) of subscribers matching the
     * filter, created before `createdBefore`, below `beforeId` in id order. Locked, so a concurrent
     * change waits for the chunk's transaction.
     */
    async chunkForBulk(
      executor: Executor,
      organizationId: string,
      filter: ListFilterInput,
      options: { createdBefore: Date; beforeId: string | null; limit: number },
    ): Promise<{ id: string; email: string; status: SubscriberStatus }[]> {
      const query = await filtered(executor, organizationId, filter);
      if (!query) return [];
      let q = query
        .clearSelect()
        .select(['subscribers.id', 'subscribers.email', 'subscribers.status'])
        .where('subscribers.created_at', '<=', options.createdBefore);
      if (options.beforeId) q = q.where('subscribers.id', '<', options.beforeId);
      return q.orderBy('subscribers.id', 'desc').limit(options.limit).forUpdate().execute() as Promise<
        { id: string; email: string; status: SubscriberStatus }[]
      >;
    },

    async update(
      executor: Executor,
      organizationId: string,
      id: string,
      changes: {
        email?: string;
        first_name?: string | null;
        last_name?: string | null;
        locale?: string | null;
        metadata?: Record<string, unknown>;
        status?: SubscriberStatus;
      },
    ): Promise<void> {
      await executor
        .updateTable('subscribers')
        .set({
          ...(changes.email !== undefined ? { email: changes.email } : {}),
          ...(changes.first_name !== undefined ? { first_name: changes.first_name } : {}),
          ...(changes.last_name !== undefined ? { last_name: changes.last_name } : {}),
          ...(changes.locale !== undefined ? { locale: changes.locale } : {}),
          ...(changes.metadata !== undefined ? { metadata: JSON.stringify(changes.metadata) } : {}),
          ...(changes.status !== undefined
            ? {
                status: changes.status,
                unsubscribed_at: changes.status === 'unsubscribed' ? sql<Date>`now()` : null,
                ...(changes.status === 'active' ? { confirmed_at: sql<Date>`coalesce(confirmed_at, now())` } : {}),
              }
            : {}),
          updated_at: sql<Date>`now()`,
        })
        .where('organization_id', '=', organizationId)
        .where('id', '=', id)
        .execute();
    },

    async delete(executor: Executor, organizationId: string, id: string): Promise<{ id: string; email: string } | undefined> {
      return executor
        .deleteFrom('subscribers')
        .where('organization_id', '=', organizationId)
        .where('id', '=', id)
        .returning(['id', 'email'])
        .executeTakeFirst();
    },

    /** Subscribes to tags; returns the ids whose state actually changed (new or re-subscribed). */
    async subscribeTags(
      executor: Executor,
      organizationId: string,
      pairs: { subscriberId: string; tagId: string }[],
      source: string,
    ): Promise<{ subscriber_id: string; tag_id: string }[]> {
      if (pairs.length === 0) return [];
      const result = await sql<{ subscriber_id: string; tag_id: string }>`
        insert into subscriber_tags (subscriber_id, tag_id, organization_id, status, source, subscribed_at)
        select s, t, ${organizationId}, 'subscribed', ${source}, now()
        from unnest(${pairs.map((p) => p.subscriberId)}::uuid[], ${pairs.map((p) => p.tagId)}::uuid[]) as x(s, t)
        on conflict (subscriber_id, tag_id) do update
          set status = 'subscribed', source = excluded.source, subscribed_at = now(), unsubscribed_at = null, updated_at = now()
          where subscriber_tags.status <> 'subscribed'
        returning subscriber_id, tag_id
      `.execute(executor);
      return result.rows;
    },

    /** Unsubscribes from tags; returns the tag ids that were subscribed until now. */
    async unsubscribeTags(executor: Executor, organizationId: string, subscriberId: string, tagIds: string[], source: string): Promise<string[]> {
      if (tagIds.length === 0) return [];
      const rows = await executor
        .updateTable('subscriber_tags')
        .set({ status: 'unsubscribed', source, unsubscribed_at: sql<Date>`now()`, updated_at: sql<Date>`now()` })
        .where('organization_id', '=', organizationId)
        .where('subscriber_id', '=', subscriberId)
        .where('tag_id', 'in', tagIds)
        .where('status', '=', 'subscribed')
        .returning('tag_id')
        .execute();
      return rows.map((r) => r.tag_id);
    },

    /**
     * Unsubscribes from every tag the subscriber holds (only public ones when `publicOnly`); returns the
     * tags whose state changed, for history and events.
     */
    async unsubscribeAllTags(
      executor: Executor,
      organizationId: string,
      subscriberId: string,
      source: string,
      options: { publicOnly: boolean },
    ): Promise<{ id: string; name: string; slug: string }[]> {
      const result = await sql<{ id: string; name: string; slug: string }>`
        update subscriber_tags st
        set status = 'unsubscribed', source = ${source}, unsubscribed_at = now(), updated_at = now()
        from tags t
        where st.organization_id = ${organizationId} and st.subscriber_id = ${subscriberId} and st.status = 'subscribed'
          and t.id = st.tag_id and (t.is_public or not ${options.publicOnly})
        returning t.id, t.name, t.slug
      `.execute(executor);
      return result.rows;
    },

    /**
     * One statement for any number of rows: the columns go in as arrays (`unnest`), so a large batch
     * (1,000 subscribers with 50 tags each) stays far below PostgreSQL's 65,535 bind parameters.
     */
    async insertHistory(executor: Executor, organizationId: string, rows: HistoryInsert[]): Promise<void> {
      if (rows.length === 0) return;
      await sql`
        insert into subscription_history (id, organization_id, subscriber_id, tag_id, action, source, ip, user_agent, details)
        select id, ${organizationId}::uuid, subscriber_id, tag_id, action, source, ip, user_agent, details
        from unnest(${rows.map((r) => r.id)}::uuid[], ${rows.map((r) => r.subscriber_id)}::uuid[], ${rows.map((r) => r.tag_id)}::uuid[],
                    ${rows.map((r) => r.action)}::text[], ${rows.map((r) => r.source)}::text[], ${rows.map((r) => r.ip)}::text[],
                    ${rows.map((r) => r.user_agent)}::text[], ${rows.map((r) => JSON.stringify(r.details))}::jsonb[])
          as h(id, subscriber_id, tag_id, action, source, ip, user_agent, details)
        order by id`.execute(executor);
    },

    async listHistory(organizationId: string, subscriberId: string, options: { limit: number; beforeId?: string }) {
      let query = db
        .selectFrom('subscription_history as h')
        .leftJoin('tags as t', 't.id', 'h.tag_id')
        .select([
          'h.id',
          'h.action',
          'h.source',
          'h.ip',
          'h.user_agent',
          'h.details',
          'h.created_at',
          't.id as tag_id',
          't.name as tag_name',
          't.slug as tag_slug',
        ])
        .where('h.organization_id', '=', organizationId)
        .where('h.subscriber_id', '=', subscriberId);
      if (options.beforeId) query = query.where('h.id', '<', options.beforeId);
      return query
        .orderBy('h.id', 'desc')
        .limit(options.limit + 1)
        .execute();
    },

    async insertNote(
      executor: Executor,
      organizationId: string,
      note: { id: string; subscriber_id: string; body: string; author_user_id: string | null; author_api_key_id: string | null },
    ) {
      return executor
        .insertInto('subscriber_notes')
        .values({ ...note, organization_id: organizationId })
        .returning(['id', 'body', 'author_user_id', 'author_api_key_id', 'created_at'])
        .executeTakeFirstOrThrow();
    },

    async listNotes(organizationId: string, subscriberId: string, options: { limit: number; beforeId?: string }) {
      let query = db
        .selectFrom('subscriber_notes')
        .select(['id', 'body', 'author_user_id', 'author_api_key_id', 'created_at'])
        .where('organization_id', '=', organizationId)
        .where('subscriber_id', '=', subscriberId);
      if (options.beforeId) query = query.where('id', '<', options.beforeId);
      return query
        .orderBy('id', 'desc')
        .limit(options.limit + 1)
        .execute();
    },

    async findExistingByEmails(executor: Executor, organizationId: string, lowerEmails: string[]) {
      if (lowerEmails.length === 0) return [];
      const rows = await executor
        .selectFrom('subscribers')
        .select(['id', 'email', 'status', 'first_name', 'last_name', 'locale', 'metadata', 'unsubscribed_at'])
        .where('organization_id', '=', organizationId)
        .where(sql`lower(email)`, '=', sql<string>`any(${lowerEmails}::text[])`)
        .forUpdate()
        .execute();
      return rows as ((typeof rows)[number] & { status: SubscriberStatus })[];
    },

    /** Set-based insert-or-update of many subscribers whose final field values the caller computed. */
    async upsertMany(
      executor: Executor,
      organizationId: string,
      rows: {
        id: string;
        email: string;
        status: SubscriberStatus;
        first_name: string | null;
        last_name: string | null;
        locale: string | null;
        metadata: Record<string, unknown>;
        source: string;
      }[],
    ): Promise<{ id: string; email: string; status: SubscriberStatus; first_name: string | null; last_name: string | null; inserted: boolean }[]> {
      if (rows.length === 0) return [];
      const result = await sql<{ id: string; email: string; status: SubscriberStatus; first_name: string | null; last_name: string | null; inserted: boolean }>`
        insert into subscribers (id, organization_id, email, status, first_name, last_name, locale, metadata, source, confirmed_at, unsubscribed_at)
        select id, ${organizationId}, email, status, first_name, last_name, locale, metadata, source,
          case when status = 'active' then now() end, case when status = 'unsubscribed' then now() end
        from unnest(${rows.map((r) => r.id)}::uuid[], ${rows.map((r) => r.email)}::text[], ${rows.map((r) => r.status)}::text[],
                    ${rows.map((r) => r.first_name)}::text[], ${rows.map((r) => r.last_name)}::text[], ${rows.map((r) => r.locale)}::text[],
                    ${rows.map((r) => JSON.stringify(r.metadata))}::jsonb[], ${rows.map((r) => r.source)}::text[])
          as x(id, email, status, first_name, last_name, locale, metadata, source)
        on conflict (organization_id, lower(email)) do update set
          email = excluded.email,
          status = excluded.status,
          first_name = excluded.first_name,
          last_name = excluded.last_name,
          locale = excluded.locale,
          metadata = excluded.metadata,
          confirmed_at = case when excluded.status = 'active' then coalesce(subscribers.confirmed_at, now()) else subscribers.confirmed_at end,
          unsubscribed_at = case when excluded.status = 'unsubscribed' then coalesce(subscribers.unsubscribed_at, now()) else null end,
          updated_at = now()
        returning id, email, status, first_name, last_name, (xmax = 0) as inserted
      `.execute(executor);
      return result.rows;
    },
  };
}

export type SubscriberRepository = ReturnType<typeof createSubscriberRepository>;
