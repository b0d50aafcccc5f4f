import { sql, type Kysely } from 'kysely';

// An organization's time zone (the one its people schedule in) and its optional sending window: the
// weekdays and local hours when bulk mail may go out. A campaign that reaches a closed window keeps its
// place and records when it resumes.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE organizations
      ADD COLUMN timezone text NOT NULL DEFAULT 'UTC',
      ADD COLUMN sending_window jsonb;
    ALTER TABLE campaigns ADD COLUMN resumes_at timestamptz;
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE campaigns DROP COLUMN resumes_at;
    ALTER TABLE organizations DROP COLUMN timezone, DROP COLUMN sending_window;
  `.execute(db);
}
