import { sql, type Kysely } from 'kysely';

// Campaign emails are rendered when they are sent, not stored rendered. What a campaign's emails are
// rendered from (the template's subject and compiled HTML, the organization's footer data, the sender,
// tracking) is frozen once per campaign in message_contents; each message keeps its subject, headers and
// a reference to that content, and its body is rendered again on demand (the email log's detail view).
//
// Campaign emails go to the provider in batches: batch_key is the provider idempotency key of the batch a
// message was claimed into (one key for up to 100 messages), so a retried or re-found batch repeats
// exactly the same request.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE message_contents (
      id uuid PRIMARY KEY,
      organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
      recipe jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX message_contents_organization_idx ON message_contents (organization_id);
    ALTER TABLE campaigns ADD COLUMN content_id uuid REFERENCES message_contents (id) ON DELETE SET NULL;
    ALTER TABLE email_messages
      ADD COLUMN content_id uuid REFERENCES message_contents (id) ON DELETE RESTRICT,
      ADD COLUMN batch_key text CHECK (char_length(batch_key) <= 256),
      ALTER COLUMN html DROP NOT NULL,
      ALTER COLUMN text DROP NOT NULL,
      ADD CONSTRAINT email_messages_body_or_content CHECK ((html IS NOT NULL AND text IS NOT NULL) OR content_id IS NOT NULL);
    CREATE INDEX email_messages_content_idx ON email_messages (content_id) WHERE content_id IS NOT NULL;
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    DROP INDEX email_messages_content_idx;
    ALTER TABLE email_messages DROP CONSTRAINT email_messages_body_or_content, DROP COLUMN batch_key, DROP COLUMN content_id;
    UPDATE email_messages SET html = '', text = '' WHERE html IS NULL OR text IS NULL;
    ALTER TABLE email_messages ALTER COLUMN html SET NOT NULL, ALTER COLUMN text SET NOT NULL;
    ALTER TABLE campaigns DROP COLUMN content_id;
    DROP TABLE message_contents;
  `.execute(db);
}
