import { sql, type Kysely } from 'kysely';

// CSV imports: one row per upload with its options, progress and final counts, and the rows that could
// not be imported (row number, column, reason; never the values, so the report holds no personal data).
// The parsed rows themselves are staged in a temporary table of the worker's connection, so a killed
// worker leaves nothing behind and a restart stages the file again.
//
// uuid_v7() exists because an import creates up to millions of subscribers and history rows in one
// statement: their ids are made in the database, time-ordered like the ids the application makes, so
// cursor pagination by id keeps working.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE FUNCTION uuid_v7() RETURNS uuid LANGUAGE sql VOLATILE AS $$
      SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
        PLACING substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3) FROM 1 FOR 6),
        52, 1), 53, 1), 'hex')::uuid
    $$;

    CREATE TABLE imports (
      id uuid PRIMARY KEY,
      organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
      status text NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
      phase text CHECK (phase IN ('staging', 'validating', 'merging')),
      dry_run boolean NOT NULL,
      update_existing boolean NOT NULL,
      file_name text NOT NULL,
      file_bytes bigint NOT NULL,
      options jsonb NOT NULL,
      detected jsonb,
      preview jsonb,
      total integer,
      processed integer NOT NULL DEFAULT 0,
      bytes_processed bigint NOT NULL DEFAULT 0,
      created integer NOT NULL DEFAULT 0,
      updated integer NOT NULL DEFAULT 0,
      unchanged integer NOT NULL DEFAULT 0,
      failed integer NOT NULL DEFAULT 0,
      skipped jsonb NOT NULL DEFAULT '{}'::jsonb,
      error jsonb,
      attempts integer NOT NULL DEFAULT 0,
      created_by_user_id uuid REFERENCES users (id) ON DELETE SET NULL,
      created_by_api_key_id uuid REFERENCES api_keys (id) ON DELETE SET NULL,
      started_at timestamptz,
      finished_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX imports_org_id_idx ON imports (organization_id, id DESC);
    CREATE INDEX imports_created_by_user_id_idx ON imports (created_by_user_id);
    CREATE INDEX imports_created_by_api_key_id_idx ON imports (created_by_api_key_id);

    CREATE TABLE import_errors (
      import_id uuid NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
      row_number integer NOT NULL,
      "column" text NOT NULL,
      reason text NOT NULL,
      PRIMARY KEY (import_id, row_number)
    );
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    DROP TABLE import_errors, imports;
    DROP FUNCTION uuid_v7();
  `.execute(db);
}
