import { sql, type Kysely } from 'kysely';

// The admin dashboard's growth chart counts unsubscriptions per day over the last 30 or 90 days; without
// this index that means reading every subscriber of the organization.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE INDEX subscribers_org_unsubscribed_at_idx ON subscribers (organization_id, unsubscribed_at) WHERE unsubscribed_at IS NOT NULL;
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX subscribers_org_unsubscribed_at_idx`.execute(db);
}
