import { sql, type Kysely } from 'kysely';

// Identity and tenancy: admin magic-link tokens, organization invitations, and the mark that an
// organization is being deleted. Sessions live in Redis, not here. Only SHA-256 hashes of tokens are stored.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE magic_link_tokens (
      id uuid PRIMARY KEY,
      email text NOT NULL,
      token_hash text NOT NULL UNIQUE,
      expires_at timestamptz NOT NULL,
      used_at timestamptz,
      requested_ip text,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX magic_link_tokens_email_idx ON magic_link_tokens (lower(email), expires_at);
    CREATE INDEX magic_link_tokens_expires_at_idx ON magic_link_tokens (expires_at);

    CREATE TABLE invitations (
      id uuid PRIMARY KEY,
      organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
      email text NOT NULL,
      role text NOT NULL CHECK (role IN ('owner', 'admin', 'viewer')),
      token_hash text NOT NULL UNIQUE,
      invited_by_user_id uuid REFERENCES users (id) ON DELETE SET NULL,
      accepted_by_user_id uuid REFERENCES users (id) ON DELETE SET NULL,
      expires_at timestamptz NOT NULL,
      accepted_at timestamptz,
      revoked_at timestamptz,
      sent_count integer NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    -- At most one open invitation per address and organization; resending rotates its token instead.
    CREATE UNIQUE INDEX invitations_open_email_key ON invitations (organization_id, lower(email))
      WHERE accepted_at IS NULL AND revoked_at IS NULL;
    CREATE INDEX invitations_org_idx ON invitations (organization_id, id DESC);
    CREATE INDEX invitations_invited_by_user_id_idx ON invitations (invited_by_user_id);
    CREATE INDEX invitations_accepted_by_user_id_idx ON invitations (accepted_by_user_id);

    -- Set when an owner deletes the organization; its data is purged in the background afterwards.
    ALTER TABLE organizations ADD COLUMN deleted_at timestamptz;
    CREATE INDEX organizations_deleted_at_idx ON organizations (deleted_at) WHERE deleted_at IS NOT NULL;
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    DROP INDEX IF EXISTS organizations_deleted_at_idx;
    ALTER TABLE organizations DROP COLUMN deleted_at;
    DROP TABLE invitations, magic_link_tokens;
  `.execute(db);
}
