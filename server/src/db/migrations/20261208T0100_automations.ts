import { sql, type Kysely } from 'kysely';

// Automations: an entry event starts a run of the automation's current version for one subscriber;
// the run walks the version's steps in order. Runs and their steps live here, not in a queue: a run's
// next step is due at `next_at`, and the worker picks due runs in batches (FOR UPDATE SKIP LOCKED), so a
// lost job or a flushed Redis loses nothing. One run per (version, subscriber, entry) and one row per
// (run, step) make a replayed event or a second worker create nothing twice. Runs go with their
// subscriber (GDPR erasure) and their automation.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE automations (
      id uuid PRIMARY KEY,
      organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
      name text NOT NULL,
      -- subscriber.created, subscriber.confirmed, tag.subscribed, tag.unsubscribed or custom
      trigger_event text NOT NULL,
      trigger_tag_id uuid REFERENCES tags (id) ON DELETE SET NULL,
      trigger_event_name text,
      -- A segment filter the subscriber must match on entry (null: everyone).
      conditions jsonb,
      reentry text NOT NULL DEFAULT 'never' CHECK (reentry IN ('never', 'after_completion', 'always')),
      is_active boolean NOT NULL DEFAULT false,
      version integer NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX automations_org_idx ON automations (organization_id, id DESC);
    -- The relay's consumer finds the active automations an event starts.
    CREATE INDEX automations_trigger_idx ON automations (organization_id, trigger_event) WHERE is_active;
    CREATE INDEX automations_tag_idx ON automations (trigger_tag_id) WHERE trigger_tag_id IS NOT NULL;

    CREATE TABLE automation_versions (
      id uuid PRIMARY KEY,
      automation_id uuid NOT NULL REFERENCES automations (id) ON DELETE CASCADE,
      organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
      version integer NOT NULL,
      steps jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (automation_id, version)
    );
    CREATE INDEX automation_versions_org_idx ON automation_versions (organization_id);

    CREATE TABLE automation_runs (
      id uuid PRIMARY KEY,
      organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
      automation_id uuid NOT NULL REFERENCES automations (id) ON DELETE CASCADE,
      version_id uuid NOT NULL REFERENCES automation_versions (id) ON DELETE CASCADE,
      subscriber_id uuid NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
      -- 'once' when the automation never lets a subscriber in twice, else the entry event's id.
      entry_key text NOT NULL,
      status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'completed', 'exited')),
      step_index integer NOT NULL DEFAULT 0,
      -- When the step at step_index is due; null once the run is over.
      next_at timestamptz,
      -- Set while the run waits for an event (a wait_for_event step); next_at is then its timeout.
      waiting_for text,
      exit_reason text,
      entered_at timestamptz NOT NULL,
      finished_at timestamptz,
      UNIQUE (version_id, subscriber_id, entry_key)
    );
    -- The worker's pick: due active runs, oldest due first.
    CREATE INDEX automation_runs_due_idx ON automation_runs (next_at) WHERE status = 'active';
    CREATE INDEX automation_runs_subscriber_idx ON automation_runs (subscriber_id, entered_at DESC);
    CREATE INDEX automation_runs_automation_idx ON automation_runs (automation_id, status, step_index);
    CREATE INDEX automation_runs_org_idx ON automation_runs (organization_id);
    CREATE INDEX automation_runs_waiting_idx ON automation_runs (subscriber_id, waiting_for) WHERE waiting_for IS NOT NULL;

    CREATE TABLE automation_run_steps (
      run_id uuid NOT NULL REFERENCES automation_runs (id) ON DELETE CASCADE,
      step_index integer NOT NULL,
      organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
      automation_id uuid NOT NULL REFERENCES automations (id) ON DELETE CASCADE,
      version_id uuid NOT NULL,
      type text NOT NULL,
      -- waiting: a delay or wait is running; completed; exited (the run ended here, see reason).
      status text NOT NULL CHECK (status IN ('waiting', 'completed', 'exited')),
      reason text,
      email_message_id uuid,
      started_at timestamptz NOT NULL,
      finished_at timestamptz,
      PRIMARY KEY (run_id, step_index)
    );
    CREATE INDEX automation_run_steps_counts_idx ON automation_run_steps (automation_id, version_id, step_index, status);
    CREATE INDEX automation_run_steps_org_idx ON automation_run_steps (organization_id);

    -- Custom events an application sent (POST /events): kept for their idempotency key.
    CREATE TABLE custom_events (
      id uuid PRIMARY KEY,
      organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
      subscriber_id uuid NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
      name text NOT NULL,
      idempotency_key text,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX custom_events_key_idx ON custom_events (organization_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
    CREATE INDEX custom_events_subscriber_idx ON custom_events (subscriber_id);

    -- Mail an automation sent is attributed to it.
    ALTER TABLE email_messages ADD COLUMN automation_id uuid REFERENCES automations (id) ON DELETE SET NULL;
    CREATE INDEX email_messages_automation_idx ON email_messages (automation_id) WHERE automation_id IS NOT NULL;
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    DROP INDEX email_messages_automation_idx;
    ALTER TABLE email_messages DROP COLUMN automation_id;
    DROP TABLE custom_events, automation_run_steps, automation_runs, automation_versions, automations;
  `.execute(db);
}
