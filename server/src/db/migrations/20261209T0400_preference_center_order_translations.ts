import { sql, type Kysely } from 'kysely';

// What the preference center shows, set by the organization's admins: the order of its topics (one
// position per tag; categories follow the order of their first topic), topic names and descriptions per
// language, and the privacy-policy and imprint pages its footer links to. Updates of `tags` already bump
// `organizations.tags_version`, so the preference center's cached topics follow these columns too.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE tags
      ADD COLUMN position integer NOT NULL DEFAULT 0,
      ADD COLUMN translations jsonb NOT NULL DEFAULT '{}'::jsonb;
    ALTER TABLE organizations
      ADD COLUMN privacy_url text,
      ADD COLUMN imprint_url text;
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE organizations DROP COLUMN privacy_url, DROP COLUMN imprint_url;
    ALTER TABLE tags DROP COLUMN position, DROP COLUMN translations;
  `.execute(db);
}
