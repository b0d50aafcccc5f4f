import { sql, type Kysely } from 'kysely';

// Five indexes ended in `id DESC` (or `subscriber_id DESC`) for "newest first" lists. Ids are UUIDv7 and
// grow with time, so every new row went in front of all the others of its organization (or tag, or
// subscriber): never at the right end of the index, where a full page splits 90/10, but in the middle of
// a page, where it splits in half. Those indexes stayed about half empty (1.8 times the pages of the
// same index filled in ascending order) and wrote more WAL per row, for every signup and most of all
// for an import, which adds rows by the million. Ascending, new entries append; "newest first" reads the
// same index backwards (`Index Scan Backward`), with the same conditions and the same cost.
const INDEXES: [name: string, table: string, columns: string, old: string][] = [
  ['subscribers_org_id_idx', 'subscribers', 'organization_id, id', 'organization_id, id DESC'],
  ['subscribers_org_status_idx', 'subscribers', 'organization_id, status, id', 'organization_id, status, id DESC'],
  ['subscriber_tags_tag_idx', 'subscriber_tags', 'tag_id, status, subscriber_id', 'tag_id, status, subscriber_id DESC'],
  ['subscription_history_subscriber_idx', 'subscription_history', 'subscriber_id, id', 'subscriber_id, id DESC'],
  ['subscription_history_org_idx', 'subscription_history', 'organization_id, id', 'organization_id, id DESC'],
];

async function rebuild(db: Kysely<any>, which: 'columns' | 'old'): Promise<void> {
  for (const [name, table, columns, old] of INDEXES) {
    await sql`CREATE INDEX ${sql.id(`${name}_new`)} ON ${sql.id(table)} (${sql.raw(which === 'columns' ? columns : old)})`.execute(db);
    await sql`DROP INDEX ${sql.id(name)}`.execute(db);
    await sql`ALTER INDEX ${sql.id(`${name}_new`)} RENAME TO ${sql.id(name)}`.execute(db);
  }
}

export async function up(db: Kysely<any>): Promise<void> {
  await rebuild(db, 'columns');
}

export async function down(db: Kysely<any>): Promise<void> {
  await rebuild(db, 'old');
}
