import { sql, type Kysely } from 'kysely';

// The dev mailbox: where email goes when no provider is configured, so the stack runs with no account.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE dev_mailbox (
      id uuid PRIMARY KEY,
      organization_id uuid REFERENCES organizations (id) ON DELETE CASCADE,
      from_address text NOT NULL,
      to_address text NOT NULL,
      subject text NOT NULL,
      html text NOT NULL,
      text text NOT NULL,
      headers jsonb NOT NULL DEFAULT '{}'::jsonb,
      tags jsonb NOT NULL DEFAULT '[]'::jsonb,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX dev_mailbox_org_idx ON dev_mailbox (organization_id, id DESC);
    CREATE INDEX dev_mailbox_to_idx ON dev_mailbox (lower(to_address), id DESC);
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE dev_mailbox`.execute(db);
}
