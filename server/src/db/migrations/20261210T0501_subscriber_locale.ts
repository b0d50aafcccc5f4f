import { sql, type Kysely } from 'kysely';

// A subscriber's language and region (BCP 47 style: "de", "pt-BR", "zh-Hant-TW"), for segments and the
// email footer. Optional: no locale means "the organization's". Bounded and shaped by the database too,
// whatever path writes it.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE subscribers ADD COLUMN locale text;
    ALTER TABLE subscribers ADD CONSTRAINT subscribers_locale_check
      CHECK (locale IS NULL OR (length(locale) <= 35 AND locale ~ '^[a-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$')) NOT VALID;
    ALTER TABLE subscribers VALIDATE CONSTRAINT subscribers_locale_check;
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE subscribers DROP COLUMN locale`.execute(db);
}
