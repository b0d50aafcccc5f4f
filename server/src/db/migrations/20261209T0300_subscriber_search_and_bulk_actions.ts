import { sql, type Kysely } from 'kysely';

// The subscriber list that scales: substring search over address and names, sorting by name and status,
// and bulk actions over a whole filter.
//
// - pg_trgm GIN indexes on lower(email) and on the full name ("first last", lower-cased) answer
//   `like '%term%'` for terms of three characters and more. pg_trgm is a trusted extension, shipped with
//   PostgreSQL's contrib (the official postgres images include it), so the migrating role needs no
//   superuser rights.
// - The name expression doubles as the sort key of "sort by name", with a btree index of its own.
// - "Sort by status" uses subscribers_org_status_idx, (organization_id, status, id) ascending since
//   the migration that made the id indexes ascending, in both directions with the id as tie-breaker.
// - subscriber_bulk_actions: one row per "apply to all N matching" request: the filter it was made for,
//   what it does, its progress (processed, changed) and the keyset position of the last finished chunk,
//   so a retried job continues where it stopped.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE EXTENSION IF NOT EXISTS pg_trgm;

    CREATE INDEX subscribers_email_trgm_idx ON subscribers USING gin (lower(email) gin_trgm_ops);
    CREATE INDEX subscribers_name_trgm_idx ON subscribers
      USING gin (lower(coalesce(first_name, '') || ' ' || coalesce(last_name, '')) gin_trgm_ops);
    CREATE INDEX subscribers_org_name_idx ON subscribers
      (organization_id, (lower(coalesce(first_name, '') || ' ' || coalesce(last_name, ''))), id);

    CREATE TABLE subscriber_bulk_actions (
      id uuid PRIMARY KEY,
      organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
      action text NOT NULL CHECK (action IN ('add_tag', 'remove_tag', 'unsubscribe', 'delete')),
      filter jsonb NOT NULL,
      tag_id uuid REFERENCES tags (id) ON DELETE CASCADE,
      reason text,
      status text NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed')),
      expected integer,
      processed integer NOT NULL DEFAULT 0,
      changed integer NOT NULL DEFAULT 0,
      last_id uuid,
      error text,
      created_by_user_id uuid REFERENCES users (id) ON DELETE SET NULL,
      created_by_api_key_id uuid REFERENCES api_keys (id) ON DELETE SET NULL,
      started_at timestamptz,
      finished_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CHECK ((action IN ('add_tag', 'remove_tag')) = (tag_id IS NOT NULL)),
      CHECK (action <> 'unsubscribe' OR reason IS NOT NULL)
    );
    CREATE INDEX subscriber_bulk_actions_org_id_idx ON subscriber_bulk_actions (organization_id, id DESC);
    CREATE INDEX subscriber_bulk_actions_tag_id_idx ON subscriber_bulk_actions (tag_id);
    CREATE INDEX subscriber_bulk_actions_created_by_user_id_idx ON subscriber_bulk_actions (created_by_user_id);
    CREATE INDEX subscriber_bulk_actions_created_by_api_key_id_idx ON subscriber_bulk_actions (created_by_api_key_id);

    -- Statistics of the new index expressions, so the planner can tell a rare search term from a common
    -- one from the first search on (autovacuum would gather them only after enough writes).
    ANALYZE subscribers;
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    DROP TABLE subscriber_bulk_actions;
    DROP INDEX subscribers_org_name_idx;
    DROP INDEX subscribers_name_trgm_idx;
    DROP INDEX subscribers_email_trgm_idx;
  `.execute(db);
}
