import { sql, type Kysely } from 'kysely';

// The contact sync closes its gaps: topic renames and deletions reach Resend, a contact deleted at
// Resend is left alone from then on, and the dashboard can show how the mirror is doing.
//
// - resend_topics keeps the name and description last sent, so a sync round finds renamed topics by
//   comparing them with the tag; the row no longer goes with its tag (no foreign key): a row whose tag
//   is gone or no longer public is the topic still to delete at Resend, and leaves once it is deleted.
// - resend_contact_detached: subscribers whose contact was deleted at Resend; they are not mirrored
//   again (the row goes with the subscriber, so an erasure leaves nothing behind).
// - resend_contact_sync_state: one row per organization with the last full sync and the last error.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE resend_topics DROP CONSTRAINT resend_topics_tag_id_fkey;
    ALTER TABLE resend_topics ADD COLUMN name text, ADD COLUMN description text;
    UPDATE resend_topics rt SET name = t.name, description = t.description FROM tags t WHERE t.id = rt.tag_id;
    CREATE INDEX resend_topics_topic_idx ON resend_topics (organization_id, topic_id);

    CREATE TABLE resend_contact_detached (
      subscriber_id uuid PRIMARY KEY REFERENCES subscribers (id) ON DELETE CASCADE,
      organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
      provider_event_id text NOT NULL,
      detached_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX resend_contact_detached_organization_idx ON resend_contact_detached (organization_id);

    CREATE TABLE resend_contact_sync_state (
      organization_id uuid PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
      full_sync_requested_at timestamptz,
      full_sync_finished_at timestamptz,
      last_round_at timestamptz,
      last_error_code text,
      last_error_at timestamptz
    );
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    DROP TABLE resend_contact_sync_state;
    DROP TABLE resend_contact_detached;
    DROP INDEX resend_topics_topic_idx;
    ALTER TABLE resend_topics DROP COLUMN name, DROP COLUMN description;
    DELETE FROM resend_topics rt WHERE NOT EXISTS (SELECT 1 FROM tags t WHERE t.id = rt.tag_id);
    ALTER TABLE resend_topics ADD CONSTRAINT resend_topics_tag_id_fkey FOREIGN KEY (tag_id) REFERENCES tags (id) ON DELETE CASCADE;
  `.execute(db);
}
