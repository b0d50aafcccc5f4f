import { sql, type Kysely } from 'kysely';

// Runs started by an sf_test_ key (a custom event or a subscriber created with one): they walk the same
// steps, but their mail goes to the dev mailbox instead of the provider and they are left out of the
// automation's counts. A test entry never uses up a live one: its entry key is prefixed `test/`.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE automation_runs ADD COLUMN test boolean NOT NULL DEFAULT false;
    -- Copied from the run, so the per-step counts leave test runs out without a join.
    ALTER TABLE automation_run_steps ADD COLUMN test boolean NOT NULL DEFAULT false;
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE automation_run_steps DROP COLUMN test;
    ALTER TABLE automation_runs DROP COLUMN test;
  `.execute(db);
}
