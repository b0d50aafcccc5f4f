import { sql, type Kysely } from 'kysely';

// Open and click tracking. Tracking is on or off per organization and per campaign; in privacy mode only
// aggregates are kept. Hits on /t/… are buffered by the API and written in batches: raw events (kept
// 13 months by default), the first hit of each message per kind/link (unique counts) and hourly
// rollups that every analytics read is served from.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE organizations
      ADD COLUMN tracking_enabled boolean NOT NULL DEFAULT true,
      ADD COLUMN tracking_privacy boolean NOT NULL DEFAULT false;
    ALTER TABLE campaigns ADD COLUMN tracking boolean NOT NULL DEFAULT true;

    CREATE TABLE engagement_events (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
      campaign_id uuid NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
      email_message_id uuid,
      subscriber_id uuid,
      kind text NOT NULL CHECK (kind IN ('open', 'click')),
      machine boolean NOT NULL,
      reason text NOT NULL,
      url text,
      user_agent text,
      source text NOT NULL CHECK (source IN ('pixel', 'redirect', 'honeypot', 'resend')),
      occurred_at timestamptz NOT NULL
    );
    CREATE INDEX engagement_events_campaign_idx ON engagement_events (campaign_id, occurred_at);
    CREATE INDEX engagement_events_subscriber_idx ON engagement_events (organization_id, subscriber_id, kind, occurred_at) WHERE subscriber_id IS NOT NULL;
    CREATE INDEX engagement_events_age_idx ON engagement_events (occurred_at);

    -- The first open of a message, its first click on any link (url '') and on each link: unique counts.
    CREATE TABLE engagement_firsts (
      email_message_id uuid NOT NULL,
      kind text NOT NULL,
      machine boolean NOT NULL,
      url text NOT NULL,
      campaign_id uuid NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
      occurred_at timestamptz NOT NULL,
      PRIMARY KEY (email_message_id, kind, machine, url)
    );
    CREATE INDEX engagement_firsts_campaign_idx ON engagement_firsts (campaign_id);

    -- Per campaign, hour, kind, human or machine and link ('' = the campaign as a whole): totals and uniques.
    CREATE TABLE engagement_rollups (
      organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
      campaign_id uuid NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
      bucket timestamptz NOT NULL,
      kind text NOT NULL,
      machine boolean NOT NULL,
      url text NOT NULL,
      total bigint NOT NULL DEFAULT 0,
      uniques bigint NOT NULL DEFAULT 0,
      PRIMARY KEY (campaign_id, kind, machine, url, bucket)
    );
    CREATE INDEX engagement_rollups_org_idx ON engagement_rollups (organization_id, bucket);
    -- The campaign as a whole (totals, the series, the organization's opens and clicks) without the links' rows.
    CREATE INDEX engagement_rollups_whole_idx ON engagement_rollups (campaign_id, bucket) INCLUDE (kind, machine, total, uniques) WHERE url = '';
    CREATE INDEX engagement_rollups_org_whole_idx ON engagement_rollups (organization_id, kind, bucket) INCLUDE (machine, total) WHERE url = '';
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    DROP TABLE engagement_rollups, engagement_firsts, engagement_events;
    ALTER TABLE campaigns DROP COLUMN tracking;
    ALTER TABLE organizations DROP COLUMN tracking_enabled, DROP COLUMN tracking_privacy;
  `.execute(db);
}
