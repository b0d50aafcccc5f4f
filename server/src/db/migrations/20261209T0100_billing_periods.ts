import { sql, type Kysely } from 'kysely';

// Billing periods and quota notices:
// - the subscription's current period start is kept beside its end, so the email quota counts the Stripe
//   billing period (organizations without a subscription keep the calendar month);
// - usage_period_start becomes a moment (a billing period starts at any time of day, not on a date);
// - an operator can make any limit unlimited for one organization (unlimited_limits), apart from a number
//   (max_…) and from "the plan decides" (neither);
// - quota_notices holds one row per organization, limit, threshold and period: the unique key is what
//   makes an 80 % or 100 % email go out once per period however many workers run;
// - billing_activation records, once, when an installation first ran with billing on and which plan the
//   organizations that existed then were given (so turning billing on never drops them to Free silently).
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE organizations
      ADD COLUMN current_period_start timestamptz,
      ADD COLUMN unlimited_limits text[] NOT NULL DEFAULT '{}'
        CHECK (unlimited_limits <@ ARRAY['subscribers', 'emails_per_month', 'webhook_endpoints', 'custom_domains']::text[]),
      DROP COLUMN quota_notice_period,
      DROP COLUMN quota_notice_percent;
    ALTER TABLE organizations ALTER COLUMN usage_period_start DROP DEFAULT;
    ALTER TABLE organizations ALTER COLUMN usage_period_start TYPE timestamptz USING (usage_period_start::timestamp AT TIME ZONE 'UTC');
    ALTER TABLE organizations ALTER COLUMN usage_period_start SET DEFAULT (date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC');

    CREATE TABLE quota_notices (
      organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
      limit_kind text NOT NULL CHECK (limit_kind IN ('subscribers', 'emails_per_month')),
      threshold smallint NOT NULL CHECK (threshold IN (80, 100)),
      period_start timestamptz NOT NULL,
      claimed_at timestamptz NOT NULL DEFAULT now(),
      sent_at timestamptz,
      PRIMARY KEY (organization_id, limit_kind, threshold, period_start)
    );

    CREATE TABLE billing_activation (
      id boolean PRIMARY KEY DEFAULT true CHECK (id),
      activated_at timestamptz NOT NULL DEFAULT now(),
      existing_plan text NOT NULL,
      organizations integer NOT NULL
    );
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    DROP TABLE billing_activation;
    DROP TABLE quota_notices;
    ALTER TABLE organizations ALTER COLUMN usage_period_start DROP DEFAULT;
    ALTER TABLE organizations ALTER COLUMN usage_period_start TYPE date USING ((usage_period_start AT TIME ZONE 'UTC')::date);
    ALTER TABLE organizations ALTER COLUMN usage_period_start SET DEFAULT (date_trunc('month', now() AT TIME ZONE 'UTC'))::date;
    ALTER TABLE organizations
      DROP COLUMN current_period_start,
      DROP COLUMN unlimited_limits,
      ADD COLUMN quota_notice_period date,
      ADD COLUMN quota_notice_percent smallint NOT NULL DEFAULT 0;
  `.execute(db);
}
