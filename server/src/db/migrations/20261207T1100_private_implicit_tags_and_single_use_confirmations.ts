import { sql, type Kysely } from 'kysely';

// 1. Tags created implicitly (a name on a subscriber, in a batch or an import) are private until an admin
//    publishes them. New rows default to private; only the tags API creates public ones, explicitly.
//    No column recorded how a tag was created, so existing public tags are made private unless an admin
//    evidently meant them as topics: the audit log records their creation or an edit through the tags
//    API (`tag.create`, `tag.update`), or they carry a description or category (set only through that
//    API). A tag wrongly hidden by this rule is one click to publish again; a tag wrongly left public
//    would show an internal label to every subscriber, so doubt resolves to private.
// 2. A double opt-in link confirms once: the hash of each used link is kept until the link would have
//    expired anyway (7 days; the preference-center module's retention deletes older rows).
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE tags ALTER COLUMN is_public SET DEFAULT false;

    UPDATE tags t SET is_public = false, updated_at = now()
    WHERE t.is_public
      AND t.description IS NULL AND t.category IS NULL
      AND NOT EXISTS (
        SELECT 1 FROM audit_logs a
        WHERE a.organization_id = t.organization_id AND a.target_id = t.id AND a.action IN ('tag.create', 'tag.update')
      );

    CREATE TABLE used_confirmation_links (
      token_hash text PRIMARY KEY,
      organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
      subscriber_id uuid NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
      used_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX used_confirmation_links_used_at_idx ON used_confirmation_links (used_at);
    CREATE INDEX used_confirmation_links_subscriber_idx ON used_confirmation_links (subscriber_id);
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    DROP TABLE used_confirmation_links;
    ALTER TABLE tags ALTER COLUMN is_public SET DEFAULT true;
  `.execute(db);
}
