import { sql, type Kysely } from 'kysely';

// The email engine: templates, one row per sent message, the suppression list, provider events (deduped
// on the provider's event id), sending domains, idempotent dev-mailbox deliveries and the month the usage
// counter belongs to.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE templates (
      id uuid PRIMARY KEY,
      organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
      name text NOT NULL,
      slug text NOT NULL,
      category text NOT NULL CHECK (category IN ('transactional', 'marketing')),
      subject text NOT NULL,
      mjml_content text NOT NULL,
      variables_schema jsonb NOT NULL DEFAULT '{}'::jsonb,
      -- MJML is compiled once when the template is saved; Liquid runs on the result for each email.
      compiled_html text NOT NULL,
      -- Bumped on every change; renderers cache parsed templates by (id, version).
      version integer NOT NULL DEFAULT 1,
      archived_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    -- Archiving frees the slug: it is unique only among active templates.
    CREATE UNIQUE INDEX templates_org_slug_active_key ON templates (organization_id, slug) WHERE archived_at IS NULL;
    CREATE INDEX templates_org_idx ON templates (organization_id, id DESC);

    CREATE TABLE email_messages (
      id uuid PRIMARY KEY,
      organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
      template_id uuid REFERENCES templates (id) ON DELETE SET NULL,
      subscriber_id uuid REFERENCES subscribers (id) ON DELETE SET NULL,
      campaign_id uuid,
      category text NOT NULL CHECK (category IN ('transactional', 'marketing')),
      to_address text NOT NULL,
      from_address text NOT NULL,
      subject text NOT NULL,
      html text NOT NULL,
      text text NOT NULL,
      headers jsonb NOT NULL DEFAULT '{}'::jsonb,
      status text NOT NULL DEFAULT 'queued' CHECK (status IN (
        'queued', 'sending', 'sent', 'delivery_delayed', 'delivered', 'bounced', 'complained', 'failed', 'suppressed'
      )),
      idempotency_key text,
      request_hash text,
      provider text,
      provider_message_id text,
      attempts integer NOT NULL DEFAULT 0,
      error_code text,
      error_message text,
      sending_at timestamptz,
      sent_at timestamptz,
      delivered_at timestamptz,
      opened_at timestamptz,
      clicked_at timestamptz,
      bounced_at timestamptz,
      complained_at timestamptz,
      failed_at timestamptz,
      open_count integer NOT NULL DEFAULT 0,
      click_count integer NOT NULL DEFAULT 0,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX email_messages_idempotency_key ON email_messages (organization_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
    CREATE INDEX email_messages_provider_message_idx ON email_messages (provider_message_id) WHERE provider_message_id IS NOT NULL;
    CREATE INDEX email_messages_org_idx ON email_messages (organization_id, id DESC);
    -- Serves the sweep that re-enqueues messages whose job was lost.
    CREATE INDEX email_messages_unsent_idx ON email_messages (id) WHERE status IN ('queued', 'sending');
    CREATE INDEX email_messages_subscriber_id_idx ON email_messages (subscriber_id);
    CREATE INDEX email_messages_template_id_idx ON email_messages (template_id);

    CREATE TABLE suppressions (
      id uuid PRIMARY KEY,
      organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
      email text NOT NULL,
      reason text NOT NULL CHECK (reason IN ('hard_bounce', 'complaint', 'manual')),
      email_message_id uuid REFERENCES email_messages (id) ON DELETE SET NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX suppressions_org_email_key ON suppressions (organization_id, lower(email));
    CREATE INDEX suppressions_email_message_id_idx ON suppressions (email_message_id);

    -- Provider webhook events already applied, so a redelivered event changes nothing.
    CREATE TABLE provider_events (
      provider text NOT NULL,
      id text NOT NULL,
      type text NOT NULL,
      organization_id uuid REFERENCES organizations (id) ON DELETE CASCADE,
      email_message_id uuid,
      received_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (provider, id)
    );
    CREATE INDEX provider_events_received_at_idx ON provider_events (received_at);
    CREATE INDEX provider_events_organization_id_idx ON provider_events (organization_id);

    CREATE TABLE domains (
      id uuid PRIMARY KEY,
      organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
      name text NOT NULL,
      region text NOT NULL,
      provider_domain_id text,
      status text NOT NULL CHECK (status IN (
        'not_started', 'pending', 'verified', 'failed', 'partially_verified', 'partially_failed', 'temporary_failure'
      )),
      records jsonb NOT NULL DEFAULT '[]'::jsonb,
      last_checked_at timestamptz,
      verified_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    -- The provider knows a domain once per account, so one organization holds it.
    CREATE UNIQUE INDEX domains_name_key ON domains (lower(name));
    CREATE INDEX domains_org_idx ON domains (organization_id, id DESC);
    CREATE INDEX domains_unverified_idx ON domains (id) WHERE status NOT IN ('verified', 'failed');

    ALTER TABLE dev_mailbox ADD COLUMN idempotency_key text;
    CREATE UNIQUE INDEX dev_mailbox_idempotency_key ON dev_mailbox (idempotency_key) WHERE idempotency_key IS NOT NULL;

    -- The first day of the month emails_sent_this_month counts, so the monthly reset is idempotent.
    ALTER TABLE organizations ADD COLUMN usage_period_start date NOT NULL DEFAULT (date_trunc('month', now() AT TIME ZONE 'UTC'))::date;
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE organizations DROP COLUMN usage_period_start;
    DROP INDEX dev_mailbox_idempotency_key;
    ALTER TABLE dev_mailbox DROP COLUMN idempotency_key;
    DROP TABLE domains, provider_events, suppressions, email_messages, templates;
  `.execute(db);
}
