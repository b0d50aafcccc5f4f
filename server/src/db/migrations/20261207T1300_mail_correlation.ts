import { sql, type Kysely } from 'kysely';

// - organizations.email_reply_to: where replies to the organization's mail go (Reply-To), when not the sender.
// - suppressions may now be caused by repeated soft bounces (see provider-events/README.md for the policy).
// - email_messages of one address are counted for that policy: (organization, lower(address)) among bounces.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE organizations ADD COLUMN email_reply_to text;
    ALTER TABLE suppressions DROP CONSTRAINT suppressions_reason_check;
    ALTER TABLE suppressions ADD CONSTRAINT suppressions_reason_check CHECK (reason IN ('hard_bounce', 'soft_bounce', 'complaint', 'manual'));
    CREATE INDEX email_messages_soft_bounces_idx ON email_messages (organization_id, lower(to_address), bounced_at) WHERE error_code = 'soft_bounce';
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    DROP INDEX email_messages_soft_bounces_idx;
    DELETE FROM suppressions WHERE reason = 'soft_bounce';
    ALTER TABLE suppressions DROP CONSTRAINT suppressions_reason_check;
    ALTER TABLE suppressions ADD CONSTRAINT suppressions_reason_check CHECK (reason IN ('hard_bounce', 'complaint', 'manual'));
    ALTER TABLE organizations DROP COLUMN email_reply_to;
  `.execute(db);
}
