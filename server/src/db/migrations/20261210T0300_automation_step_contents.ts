import { sql, type Kysely } from 'kysely';

// Automation emails go out on the campaigns' batch path: rendered when they are sent, from what a send
// step's emails are rendered from (template, footer data, sender), frozen once per automation version,
// step and template version in message_contents. This table names that content; its primary key makes
// the first pass that sends a step (after the template last changed) the one that freezes it.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE automation_step_contents (
      version_id uuid NOT NULL REFERENCES automation_versions (id) ON DELETE CASCADE,
      step_index integer NOT NULL CHECK (step_index >= 0),
      template_id uuid NOT NULL REFERENCES templates (id) ON DELETE CASCADE,
      template_version integer NOT NULL,
      organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
      content_id uuid NOT NULL REFERENCES message_contents (id) ON DELETE CASCADE,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (version_id, step_index, template_id, template_version)
    );
    CREATE INDEX automation_step_contents_content_idx ON automation_step_contents (content_id);
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE automation_step_contents`.execute(db);
}
