import { sql, type Kysely } from 'kysely';

// Optional mirror of subscribers and their public topics to Resend's Contacts and Topics. Contacts there
// are global to the Resend account (one contact per address), so at most one organization of an
// installation mirrors to it. Changes wait in an outbox (one row per subscriber, the newest change wins)
// that worker jobs drain at the provider's rate; a row leaves only when what it announced was sent.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE organizations ADD COLUMN resend_contact_sync boolean NOT NULL DEFAULT false;
    CREATE UNIQUE INDEX organizations_one_resend_contact_sync ON organizations ((true)) WHERE resend_contact_sync;

    CREATE TABLE resend_topics (
      tag_id uuid PRIMARY KEY REFERENCES tags (id) ON DELETE CASCADE,
      organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
      topic_id text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX resend_topics_organization_idx ON resend_topics (organization_id);

    -- Every change takes a new version: a sent row is deleted only if its version is still the one sent.
    CREATE SEQUENCE resend_contact_outbox_version_seq;
    CREATE TABLE resend_contact_outbox (
      organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
      subscriber_id uuid NOT NULL,
      email text NOT NULL,
      deleted boolean NOT NULL DEFAULT false,
      changed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      version bigint NOT NULL DEFAULT nextval('resend_contact_outbox_version_seq'),
      attempts integer NOT NULL DEFAULT 0,
      last_error text,
      PRIMARY KEY (organization_id, subscriber_id)
    );
    CREATE INDEX resend_contact_outbox_order_idx ON resend_contact_outbox (organization_id, changed_at);
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    DROP TABLE resend_contact_outbox;
    DROP SEQUENCE resend_contact_outbox_version_seq;
    DROP TABLE resend_topics;
    DROP INDEX organizations_one_resend_contact_sync;
    ALTER TABLE organizations DROP COLUMN resend_contact_sync;
  `.execute(db);
}
