import { sql, type Kysely } from 'kysely';

// The index on subscription_history.tag_id serves the foreign key (a deleted tag sets its entries' tag_id
// to null) and lookups by topic; both ask for one tag, never for entries without one. Entries that name
// no topic ("created", "updated", status changes: half of what an import writes) leave it, so each of
// them costs one index entry fewer. `tag_id = $1` implies `tag_id IS NOT NULL`, so the same statements
// use the partial index.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE INDEX subscription_history_tag_id_partial_idx ON subscription_history (tag_id) WHERE tag_id IS NOT NULL;
    DROP INDEX subscription_history_tag_id_idx;
    ALTER INDEX subscription_history_tag_id_partial_idx RENAME TO subscription_history_tag_id_idx;
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE INDEX subscription_history_tag_id_full_idx ON subscription_history (tag_id);
    DROP INDEX subscription_history_tag_id_idx;
    ALTER INDEX subscription_history_tag_id_full_idx RENAME TO subscription_history_tag_id_idx;
  `.execute(db);
}
