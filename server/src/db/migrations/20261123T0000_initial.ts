import { sql, type Kysely } from 'kysely';

// Foundation schema: tenancy, identity, API keys, subscribers, tags, consent history, notes, the event
// outbox and the audit log. Migrations are frozen in time: they use Kysely<any> and never import app code.

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE organizations (
      id uuid PRIMARY KEY,
      name text NOT NULL,
      slug text NOT NULL UNIQUE,
      status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
      locale text NOT NULL DEFAULT 'en',
      postal_address text,
      email_from_name text,
      email_from_address text,
      plan text NOT NULL DEFAULT 'free',
      max_subscribers integer,
      max_emails_per_month integer,
      emails_sent_this_month integer NOT NULL DEFAULT 0,
      preference_center jsonb NOT NULL DEFAULT '{}'::jsonb,
      stripe_customer_id text UNIQUE,
      stripe_subscription_id text UNIQUE,
      subscription_status text,
      current_period_end timestamptz,
      billing_email text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE users (
      id uuid PRIMARY KEY,
      email text NOT NULL,
      name text,
      is_platform_admin boolean NOT NULL DEFAULT false,
      last_login_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX users_email_key ON users (lower(email));

    CREATE TABLE organization_members (
      id uuid PRIMARY KEY,
      organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
      user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      role text NOT NULL CHECK (role IN ('owner', 'admin', 'viewer')),
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (organization_id, user_id)
    );
    CREATE INDEX organization_members_user_id_idx ON organization_members (user_id);

    CREATE TABLE api_keys (
      id uuid PRIMARY KEY,
      organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
      name text NOT NULL,
      key_hash text NOT NULL UNIQUE,
      key_prefix text NOT NULL,
      environment text NOT NULL CHECK (environment IN ('live', 'test')),
      scopes text[] NOT NULL,
      created_by_user_id uuid REFERENCES users (id) ON DELETE SET NULL,
      last_used_at timestamptz,
      revoked_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX api_keys_organization_id_idx ON api_keys (organization_id, id);
    CREATE INDEX api_keys_created_by_user_id_idx ON api_keys (created_by_user_id);

    CREATE TABLE subscribers (
      id uuid PRIMARY KEY,
      organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
      email text NOT NULL,
      status text NOT NULL CHECK (status IN ('pending', 'active', 'unsubscribed', 'bounced', 'complained')),
      first_name text,
      last_name text,
      metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
      source text NOT NULL DEFAULT 'api',
      confirmed_at timestamptz,
      unsubscribed_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX subscribers_org_email_key ON subscribers (organization_id, lower(email));
    CREATE INDEX subscribers_org_id_idx ON subscribers (organization_id, id DESC);
    CREATE INDEX subscribers_org_status_idx ON subscribers (organization_id, status, id DESC);
    CREATE INDEX subscribers_org_email_prefix_idx ON subscribers (organization_id, lower(email) text_pattern_ops);

    CREATE TABLE tags (
      id uuid PRIMARY KEY,
      organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
      name text NOT NULL,
      slug text NOT NULL,
      description text,
      category text,
      is_public boolean NOT NULL DEFAULT true,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (organization_id, slug)
    );
    CREATE UNIQUE INDEX tags_org_name_key ON tags (organization_id, lower(name));
    CREATE INDEX tags_org_id_idx ON tags (organization_id, id DESC);
    CREATE INDEX tags_org_category_idx ON tags (organization_id, category, id DESC);

    CREATE TABLE subscriber_tags (
      subscriber_id uuid NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
      tag_id uuid NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
      organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
      status text NOT NULL CHECK (status IN ('subscribed', 'unsubscribed')),
      source text NOT NULL,
      subscribed_at timestamptz,
      unsubscribed_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (subscriber_id, tag_id)
    );
    -- Serves the tag filter of the subscriber list and the subscriber_count of tags.
    CREATE INDEX subscriber_tags_tag_idx ON subscriber_tags (tag_id, status, subscriber_id DESC);
    CREATE INDEX subscriber_tags_organization_id_idx ON subscriber_tags (organization_id);

    CREATE TABLE subscription_history (
      id uuid PRIMARY KEY,
      organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
      subscriber_id uuid NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
      tag_id uuid REFERENCES tags (id) ON DELETE SET NULL,
      action text NOT NULL,
      source text NOT NULL,
      ip text,
      user_agent text,
      details jsonb NOT NULL DEFAULT '{}'::jsonb,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX subscription_history_subscriber_idx ON subscription_history (subscriber_id, id DESC);
    CREATE INDEX subscription_history_tag_id_idx ON subscription_history (tag_id);
    CREATE INDEX subscription_history_org_idx ON subscription_history (organization_id, id DESC);

    CREATE TABLE subscriber_notes (
      id uuid PRIMARY KEY,
      organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
      subscriber_id uuid NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
      body text NOT NULL,
      author_user_id uuid REFERENCES users (id) ON DELETE SET NULL,
      author_api_key_id uuid REFERENCES api_keys (id) ON DELETE SET NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX subscriber_notes_subscriber_idx ON subscriber_notes (subscriber_id, id DESC);
    CREATE INDEX subscriber_notes_organization_id_idx ON subscriber_notes (organization_id);
    CREATE INDEX subscriber_notes_author_user_id_idx ON subscriber_notes (author_user_id);
    CREATE INDEX subscriber_notes_author_api_key_id_idx ON subscriber_notes (author_api_key_id);

    -- The transactional outbox: written in the same transaction as the change it describes.
    CREATE TABLE events (
      id uuid PRIMARY KEY,
      organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
      type text NOT NULL,
      subject_id uuid,
      payload jsonb NOT NULL,
      relayed_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX events_unrelayed_idx ON events (id) WHERE relayed_at IS NULL;
    CREATE INDEX events_org_idx ON events (organization_id, id DESC);

    CREATE TABLE audit_logs (
      id uuid PRIMARY KEY,
      organization_id uuid REFERENCES organizations (id) ON DELETE CASCADE,
      actor_type text NOT NULL CHECK (actor_type IN ('user', 'api_key', 'system')),
      actor_id uuid,
      action text NOT NULL,
      target_type text,
      target_id uuid,
      ip text,
      user_agent text,
      request_id text,
      details jsonb NOT NULL DEFAULT '{}'::jsonb,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX audit_logs_org_idx ON audit_logs (organization_id, id DESC);
    CREATE INDEX audit_logs_org_actor_idx ON audit_logs (organization_id, actor_id, id DESC);
    CREATE INDEX audit_logs_org_action_idx ON audit_logs (organization_id, action, id DESC);
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    DROP TABLE audit_logs, events, subscriber_notes, subscription_history, subscriber_tags, tags,
      subscribers, api_keys, organization_members, users, organizations;
  `.execute(db);
}
