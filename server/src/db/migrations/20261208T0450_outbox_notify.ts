import { sql, type Kysely } from 'kysely';

// The outbox wakes its relay: every statement that writes events notifies the channel `events_outbox`.
// PostgreSQL delivers a notification only when its transaction commits (and folds identical ones of one
// transaction into one), so a listening worker relays right after the commit, never an uncommitted row.
// Statement level: an import writing a million events in one statement sends one notification.
//
// A webhook batch job that has its endpoint's slots goes on with the endpoint's other new deliveries;
// the partial index finds them without reading the endpoint's delivered history.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE FUNCTION events_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify('events_outbox', '');
      RETURN NULL;
    END
    $$;
    CREATE TRIGGER events_outbox_notify AFTER INSERT ON events FOR EACH STATEMENT EXECUTE FUNCTION events_outbox_notify();

    CREATE INDEX webhook_deliveries_new ON webhook_deliveries (endpoint_id, id) WHERE status = 'pending' AND attempts = 0;
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    DROP INDEX webhook_deliveries_new;
    DROP TRIGGER events_outbox_notify ON events;
    DROP FUNCTION events_outbox_notify();
  `.execute(db);
}
