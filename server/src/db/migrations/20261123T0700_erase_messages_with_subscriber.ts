import { sql, type Kysely } from 'kysely';

// GDPR erasure: deleting a subscriber deletes the messages sent to them (address, subject and body are
// personal data). Until now the link was only cleared. Suppressions keep the address on purpose: a hard
// bounce or a spam complaint must keep being honoured, which is a documented legitimate interest.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE email_messages DROP CONSTRAINT email_messages_subscriber_id_fkey;
    ALTER TABLE email_messages ADD CONSTRAINT email_messages_subscriber_id_fkey
      FOREIGN KEY (subscriber_id) REFERENCES subscribers (id) ON DELETE CASCADE;
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE email_messages DROP CONSTRAINT email_messages_subscriber_id_fkey;
    ALTER TABLE email_messages ADD CONSTRAINT email_messages_subscriber_id_fkey
      FOREIGN KEY (subscriber_id) REFERENCES subscribers (id) ON DELETE SET NULL;
  `.execute(db);
}
