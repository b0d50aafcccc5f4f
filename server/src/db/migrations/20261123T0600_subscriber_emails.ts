import { sql, type Kysely } from 'kysely';

// The subscriber page lists a subscriber's messages newest first, a page at a time. The index on
// subscriber_id alone finds the rows but must sort all of them for every page; (subscriber_id, id DESC)
// reads one page in order. It replaces the old index, which it also covers for the foreign key's
// ON DELETE SET NULL. organization_id is not needed in it: a subscriber belongs to one organization, and
// the query still filters on it.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE INDEX email_messages_subscriber_idx ON email_messages (subscriber_id, id DESC);
    DROP INDEX email_messages_subscriber_id_idx;
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE INDEX email_messages_subscriber_id_idx ON email_messages (subscriber_id);
    DROP INDEX email_messages_subscriber_idx;
  `.execute(db);
}
