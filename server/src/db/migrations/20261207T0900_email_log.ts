import { sql, type Kysely } from 'kysely';

// The organization's email log looks messages up by recipient (any case), newest first. Without this
// index a search for one address reads every message of the organization. A message's detail lists
// the provider's events about it.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE INDEX email_messages_org_recipient_idx ON email_messages (organization_id, lower(to_address), id DESC);
    CREATE INDEX provider_events_email_message_idx ON provider_events (email_message_id) WHERE email_message_id IS NOT NULL;
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX email_messages_org_recipient_idx; DROP INDEX provider_events_email_message_idx`.execute(db);
}
