import { sql, type Kysely } from 'kysely';

// Campaigns and segments. A campaign's audience is frozen into campaign_recipients (the per-recipient
// ledger) by one insert-select when sending starts; the ledger is the checkpoint: a recipient is claimed
// (queued → sending, with the id of its email_messages row) in the same transaction that creates the
// message, so a restarted or second worker can never claim them again. No body is stored in the ledger.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE segments (
      id uuid PRIMARY KEY,
      organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
      name text NOT NULL,
      description text,
      filter jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX segments_org_idx ON segments (organization_id, id DESC);

    CREATE TABLE campaigns (
      id uuid PRIMARY KEY,
      organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
      name text NOT NULL,
      status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'scheduled', 'sending', 'paused', 'sent', 'cancelled', 'failed')),
      template_id uuid REFERENCES templates (id) ON DELETE SET NULL,
      segment_id uuid REFERENCES segments (id) ON DELETE SET NULL,
      tag_filter jsonb,
      subject text,
      preheader text,
      from_name text,
      reply_to text,
      scheduled_at timestamptz,
      started_at timestamptz,
      completed_at timestamptz,
      cancelled_at timestamptz,
      -- Bumped by resume and retry: the pump jobs of an earlier round see it and stop.
      round integer NOT NULL DEFAULT 0,
      -- Written by the running pump; the cron tick restarts a pump whose heartbeat stopped.
      heartbeat_at timestamptz,
      targeted_count integer NOT NULL DEFAULT 0,
      last_error text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX campaigns_org_idx ON campaigns (organization_id, id DESC);
    CREATE INDEX campaigns_segment_id_idx ON campaigns (segment_id);
    CREATE INDEX campaigns_template_id_idx ON campaigns (template_id);
    -- Serves the cron tick: due scheduled campaigns and running ones whose pump may have been lost.
    CREATE INDEX campaigns_active_idx ON campaigns (status, scheduled_at) WHERE status IN ('scheduled', 'sending');

    CREATE TABLE campaign_recipients (
      campaign_id uuid NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
      subscriber_id uuid NOT NULL,
      organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
      -- queued: not yet claimed; sending: its message exists (the message's status tells the rest until
      -- the campaign completes and the outcome is copied here); sent, failed, skipped, cancelled: final.
      status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'skipped', 'cancelled')),
      reason text,
      email_message_id uuid,
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (campaign_id, subscriber_id)
    );
    -- The pump claims the next queued recipients in subscriber order.
    CREATE INDEX campaign_recipients_queued_idx ON campaign_recipients (campaign_id, subscriber_id) WHERE status = 'queued';
    CREATE INDEX campaign_recipients_org_idx ON campaign_recipients (organization_id);
    CREATE INDEX campaign_recipients_message_idx ON campaign_recipients (email_message_id) WHERE email_message_id IS NOT NULL;

    -- A campaign's messages by status: its progress, its backlog (the pump's back-pressure) and its stats.
    CREATE INDEX email_messages_campaign_idx ON email_messages (campaign_id, status) WHERE campaign_id IS NOT NULL;
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    DROP INDEX email_messages_campaign_idx;
    DROP TABLE campaign_recipients, campaigns, segments;
  `.execute(db);
}
