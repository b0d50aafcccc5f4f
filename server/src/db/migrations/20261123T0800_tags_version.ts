import { sql, type Kysely } from 'kysely';

// The preference page reads an organization's public topics on every view. Every process keeps them in
// memory, keyed by this counter: any statement that inserts, updates or deletes tags bumps it in the
// same transaction, so a page read sees the change at once and no code path can forget to invalidate.
// Statement-level triggers: one bump per statement and organization, none when a statement changed no
// rows (an `insert ... on conflict do nothing` that found every tag).
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE organizations ADD COLUMN tags_version bigint NOT NULL DEFAULT 0;

    CREATE FUNCTION bump_tags_version() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE organizations SET tags_version = tags_version + 1
      WHERE id IN (SELECT DISTINCT organization_id FROM changed_tags);
      RETURN NULL;
    END $$;

    CREATE TRIGGER tags_version_on_insert AFTER INSERT ON tags
      REFERENCING NEW TABLE AS changed_tags FOR EACH STATEMENT EXECUTE FUNCTION bump_tags_version();
    CREATE TRIGGER tags_version_on_update AFTER UPDATE ON tags
      REFERENCING NEW TABLE AS changed_tags FOR EACH STATEMENT EXECUTE FUNCTION bump_tags_version();
    CREATE TRIGGER tags_version_on_delete AFTER DELETE ON tags
      REFERENCING OLD TABLE AS changed_tags FOR EACH STATEMENT EXECUTE FUNCTION bump_tags_version();
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    DROP TRIGGER tags_version_on_insert ON tags;
    DROP TRIGGER tags_version_on_update ON tags;
    DROP TRIGGER tags_version_on_delete ON tags;
    DROP FUNCTION bump_tags_version();
    ALTER TABLE organizations DROP COLUMN tags_version;
  `.execute(db);
}
