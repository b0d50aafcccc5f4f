import { sql, type Kysely } from 'kysely';

// Exact audience counts without counting a million rows on read (segments/README.md, "Counters").
//
// subscriber_counts holds, per organization and subscriber status, how many subscribers there are;
// subscriber_tag_counts, per organization × tag × subscriber status × subscription status, how many
// subscriber_tags rows there are. Both are append-only ledgers of differences: statement-level triggers
// with transition tables add ONE row per key and statement (never one per subscriber), in the
// transaction of the change, and a read sums the rows of a key. Writers never update a counter row, so
// concurrent writers never wait for each other or deadlock on a counter. The maintenance job
// (audience-counts.compact) folds each key's rows into one; audience-counts.verify recounts from the
// tables in one snapshot and adds the difference, so a drift is repaired exactly even while others write.
//
// The triggers fire ALWAYS, also under session_replication_role = replica (the import's bulk path).
//
// A subscriber's deletion must count its topic rows with the status it had. Before this migration the
// foreign key deleted them first (cascade) and no trigger could still see them; now the delete trigger
// of subscribers counts them and deletes them itself, and the foreign key only checks, at commit.
//
// Rows for an organization or tag being deleted are not written (the statement's EXISTS does not see the
// row any more); their counter rows go with them (foreign keys, cascade).
//
// A topic row's count depends on its subscriber's status: the topic triggers hold their subscribers FOR
// SHARE before reading it, so a concurrent status change either waits for them (and then sees their rows)
// or goes first (and they see the new status). A subscriber erased while another transaction adds a topic
// to it: the later one waits, as with the cascade before; the adding transaction then fails its foreign
// key check at commit, as it did at insert before.
//
// A statement that changes a subscriber's status AND its topic rows at once would be counted twice; none
// does (a status change and a topic change are separate statements everywhere); the verify job repairs it.

const subscriberDelta = `
  INSERT INTO subscriber_counts (organization_id, status, n)
  SELECT d.organization_id, d.status, sum(d.delta) FROM d
  WHERE EXISTS (SELECT 1 FROM organizations o WHERE o.id = d.organization_id)
  GROUP BY 1, 2 HAVING sum(d.delta) <> 0 ORDER BY 1, 2`;

const tagDelta = `
  INSERT INTO subscriber_tag_counts (organization_id, tag_id, subscriber_status, tag_status, n)
  SELECT d.organization_id, d.tag_id, d.subscriber_status, d.tag_status, sum(d.delta) FROM d
  WHERE EXISTS (SELECT 1 FROM tags t WHERE t.id = d.tag_id)
  GROUP BY 1, 2, 3, 4 HAVING sum(d.delta) <> 0 ORDER BY 1, 2, 3, 4`;

/** The subscribers whose status (or organization) changed: -1 with the old values, +1 with the new. */
const changedSubscribers = `c AS (
    SELECT x.id, x.organization_id, x.status, -1 AS delta
    FROM (SELECT id, organization_id, status FROM old_rows EXCEPT ALL SELECT id, organization_id, status FROM new_rows) x
    UNION ALL
    SELECT y.id, y.organization_id, y.status, 1
    FROM (SELECT id, organization_id, status FROM new_rows EXCEPT ALL SELECT id, organization_id, status FROM old_rows) y
  )`;

/**
 * Transition tables have no statistics: the planner guesses their joins large and would hash a whole
 * table (a million topic rows) for ten changed subscribers. The triggers probe the tables' keys
 * instead (nested loops over primary keys), and compare old and new rows with EXCEPT, not a join.
 */
const PLAN = `SET enable_hashjoin = off SET enable_mergejoin = off SET jit = off`;

export async function up(db: Kysely<any>): Promise<void> {
  await sql
    .raw(
      `
    CREATE TABLE subscriber_counts (
      organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
      status text NOT NULL,
      n bigint NOT NULL
    );
    CREATE INDEX subscriber_counts_key_idx ON subscriber_counts (organization_id, status) INCLUDE (n);

    CREATE TABLE subscriber_tag_counts (
      organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
      tag_id uuid NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
      subscriber_status text NOT NULL,
      tag_status text NOT NULL,
      n bigint NOT NULL
    );
    CREATE INDEX subscriber_tag_counts_key_idx ON subscriber_tag_counts (organization_id, tag_id, subscriber_status, tag_status) INCLUDE (n);
    CREATE INDEX subscriber_tag_counts_tag_idx ON subscriber_tag_counts (tag_id);

    CREATE FUNCTION subscribers_count_insert() RETURNS trigger LANGUAGE plpgsql ${PLAN} AS $fn$
    BEGIN
      WITH d AS (SELECT organization_id, status, 1 AS delta FROM new_rows) ${subscriberDelta};
      RETURN NULL;
    END
    $fn$;

    CREATE FUNCTION subscribers_count_update() RETURNS trigger LANGUAGE plpgsql ${PLAN} AS $fn$
    BEGIN
      -- Most updates change other fields: one look at the changed rows and nothing more.
      IF NOT EXISTS (SELECT id, organization_id, status FROM old_rows EXCEPT ALL SELECT id, organization_id, status FROM new_rows) THEN
        RETURN NULL;
      END IF;
      WITH ${changedSubscribers}, d AS (SELECT organization_id, status, delta FROM c) ${subscriberDelta};
      WITH ${changedSubscribers}, d AS (
        SELECT c.organization_id, st.tag_id, c.status AS subscriber_status, st.status AS tag_status, c.delta
        FROM c JOIN subscriber_tags st ON st.subscriber_id = c.id
      ) ${tagDelta};
      RETURN NULL;
    END
    $fn$;

    -- The subscribers' topic rows are still there (the foreign key no longer cascades): counted with the
    -- status their subscriber had, then deleted here (their own trigger skips rows without a subscriber).
    CREATE FUNCTION subscribers_count_delete() RETURNS trigger LANGUAGE plpgsql ${PLAN} AS $fn$
    BEGIN
      WITH d AS (SELECT organization_id, status, -1 AS delta FROM old_rows) ${subscriberDelta};
      WITH d AS (
        SELECT st.organization_id, st.tag_id, o.status AS subscriber_status, st.status AS tag_status, -1 AS delta
        FROM old_rows o JOIN subscriber_tags st ON st.subscriber_id = o.id
      ) ${tagDelta};
      DELETE FROM subscriber_tags st USING old_rows o WHERE st.subscriber_id = o.id;
      RETURN NULL;
    END
    $fn$;

    CREATE FUNCTION subscriber_tags_count_insert() RETURNS trigger LANGUAGE plpgsql ${PLAN} AS $fn$
    BEGIN
      -- The subscribers' status is read below: hold it (as a foreign key check would, but also against
      -- a status change) until this transaction ends, so a concurrent status change counts these rows.
      PERFORM 1 FROM subscribers s WHERE s.id IN (SELECT subscriber_id FROM new_rows) ORDER BY s.id FOR SHARE;
      WITH d AS (
        SELECT n.organization_id, n.tag_id, s.status AS subscriber_status, n.status AS tag_status, 1 AS delta
        FROM new_rows n JOIN subscribers s ON s.id = n.subscriber_id
      ) ${tagDelta};
      RETURN NULL;
    END
    $fn$;

    CREATE FUNCTION subscriber_tags_count_update() RETURNS trigger LANGUAGE plpgsql ${PLAN} AS $fn$
    BEGIN
      -- A changed key leaves an old row without its new one.
      IF NOT EXISTS (SELECT subscriber_id, tag_id, organization_id, status FROM old_rows
                     EXCEPT ALL SELECT subscriber_id, tag_id, organization_id, status FROM new_rows) THEN
        RETURN NULL;
      END IF;
      -- The subscribers' status is read below: hold it (as a foreign key check would, but also against
      -- a status change) until this transaction ends, so a concurrent status change counts these rows.
      PERFORM 1 FROM subscribers s WHERE s.id IN (SELECT subscriber_id FROM old_rows UNION SELECT subscriber_id FROM new_rows) ORDER BY s.id FOR SHARE;
      WITH d AS (
        SELECT o.organization_id, o.tag_id, s.status AS subscriber_status, o.status AS tag_status, -1 AS delta
        FROM old_rows o JOIN subscribers s ON s.id = o.subscriber_id
        UNION ALL
        SELECT n.organization_id, n.tag_id, s.status, n.status, 1
        FROM new_rows n JOIN subscribers s ON s.id = n.subscriber_id
      ) ${tagDelta};
      RETURN NULL;
    END
    $fn$;

    CREATE FUNCTION subscriber_tags_count_delete() RETURNS trigger LANGUAGE plpgsql ${PLAN} AS $fn$
    BEGIN
      -- The subscribers' status is read below: hold it (as a foreign key check would, but also against
      -- a status change) until this transaction ends, so a concurrent status change counts these rows.
      PERFORM 1 FROM subscribers s WHERE s.id IN (SELECT subscriber_id FROM old_rows) ORDER BY s.id FOR SHARE;
      WITH d AS (
        SELECT o.organization_id, o.tag_id, s.status AS subscriber_status, o.status AS tag_status, -1 AS delta
        FROM old_rows o JOIN subscribers s ON s.id = o.subscriber_id
      ) ${tagDelta};
      RETURN NULL;
    END
    $fn$;

    CREATE TRIGGER subscribers_count_insert AFTER INSERT ON subscribers
      REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION subscribers_count_insert();
    CREATE TRIGGER subscribers_count_update AFTER UPDATE ON subscribers
      REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION subscribers_count_update();
    CREATE TRIGGER subscribers_count_delete AFTER DELETE ON subscribers
      REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION subscribers_count_delete();
    CREATE TRIGGER subscriber_tags_count_insert AFTER INSERT ON subscriber_tags
      REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION subscriber_tags_count_insert();
    CREATE TRIGGER subscriber_tags_count_update AFTER UPDATE ON subscriber_tags
      REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION subscriber_tags_count_update();
    CREATE TRIGGER subscriber_tags_count_delete AFTER DELETE ON subscriber_tags
      REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION subscriber_tags_count_delete();
    ALTER TABLE subscribers ENABLE ALWAYS TRIGGER subscribers_count_insert, ENABLE ALWAYS TRIGGER subscribers_count_update,
      ENABLE ALWAYS TRIGGER subscribers_count_delete;
    ALTER TABLE subscriber_tags ENABLE ALWAYS TRIGGER subscriber_tags_count_insert, ENABLE ALWAYS TRIGGER subscriber_tags_count_update,
      ENABLE ALWAYS TRIGGER subscriber_tags_count_delete;

    -- The topic rows of a deleted subscriber are deleted by its trigger; the key only checks, at commit.
    ALTER TABLE subscriber_tags DROP CONSTRAINT subscriber_tags_subscriber_id_fkey;
    ALTER TABLE subscriber_tags ADD CONSTRAINT subscriber_tags_subscriber_id_fkey FOREIGN KEY (subscriber_id)
      REFERENCES subscribers (id) DEFERRABLE INITIALLY DEFERRED NOT VALID;
    ALTER TABLE subscriber_tags VALIDATE CONSTRAINT subscriber_tags_subscriber_id_fkey;

    -- Counted once from the tables (the triggers above already hold the write locks of this transaction).
    INSERT INTO subscriber_counts (organization_id, status, n)
    SELECT organization_id, status, count(*) FROM subscribers GROUP BY 1, 2;
    INSERT INTO subscriber_tag_counts (organization_id, tag_id, subscriber_status, tag_status, n)
    SELECT st.organization_id, st.tag_id, s.status, st.status, count(*)
    FROM subscriber_tags st JOIN subscribers s ON s.id = st.subscriber_id GROUP BY 1, 2, 3, 4;
  `,
    )
    .execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE subscriber_tags DROP CONSTRAINT subscriber_tags_subscriber_id_fkey;
    ALTER TABLE subscriber_tags ADD CONSTRAINT subscriber_tags_subscriber_id_fkey FOREIGN KEY (subscriber_id)
      REFERENCES subscribers (id) ON DELETE CASCADE;
    DROP TRIGGER subscribers_count_insert ON subscribers;
    DROP TRIGGER subscribers_count_update ON subscribers;
    DROP TRIGGER subscribers_count_delete ON subscribers;
    DROP TRIGGER subscriber_tags_count_insert ON subscriber_tags;
    DROP TRIGGER subscriber_tags_count_update ON subscriber_tags;
    DROP TRIGGER subscriber_tags_count_delete ON subscriber_tags;
    DROP FUNCTION subscribers_count_insert(), subscribers_count_update(), subscribers_count_delete(),
      subscriber_tags_count_insert(), subscriber_tags_count_update(), subscriber_tags_count_delete();
    DROP TABLE subscriber_tag_counts, subscriber_counts;
  `.execute(db);
}
