import { sql, type Kysely } from 'kysely';

// Billing: the limits an operator sets for one organization beyond the two that existed (webhook endpoints,
// custom sending domains; null = the plan decides), when its subscription became past due (the grace period
// counts from there), which quota email it was last sent in which month, and the Stripe events already
// received (by id, so a redelivery is recognized) with the ids the sync job needs to find the subscription.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE organizations
      ADD COLUMN max_webhook_endpoints integer CHECK (max_webhook_endpoints >= 0),
      ADD COLUMN max_custom_domains integer CHECK (max_custom_domains >= 0),
      ADD COLUMN past_due_since timestamptz,
      ADD COLUMN quota_notice_period date,
      ADD COLUMN quota_notice_percent smallint NOT NULL DEFAULT 0;

    CREATE TABLE stripe_events (
      id text PRIMARY KEY,
      type text NOT NULL,
      organization_id uuid REFERENCES organizations (id) ON DELETE CASCADE,
      customer_id text,
      subscription_id text,
      received_at timestamptz NOT NULL DEFAULT now(),
      applied_at timestamptz
    );
    CREATE INDEX stripe_events_received_at ON stripe_events (received_at);
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    DROP TABLE stripe_events;
    ALTER TABLE organizations
      DROP COLUMN max_webhook_endpoints, DROP COLUMN max_custom_domains, DROP COLUMN past_due_since,
      DROP COLUMN quota_notice_period, DROP COLUMN quota_notice_percent;
  `.execute(db);
}
