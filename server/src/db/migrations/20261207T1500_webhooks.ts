import { sql, type Kysely } from 'kysely';

// Outgoing webhooks. An endpoint's signing secret is kept encrypted (it must be readable to sign, so it
// cannot be hashed); during the day after a rotation the previous secret signs too. One delivery per
// (event, endpoint) from the outbox relay, unique so a relay that runs twice creates nothing twice;
// replays add rows of their own. Every attempt is logged with what was sent and what came back.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    -- Deliveries are created in bulk by INSERT … SELECT, so their UUIDv7 ids are made in SQL: the time
    -- in milliseconds over the first 48 bits of a random UUID, version bits set to 7.
    CREATE FUNCTION webhook_delivery_id() RETURNS uuid LANGUAGE sql VOLATILE AS $$
      SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
        PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3) FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid
    $$;

    CREATE TABLE webhook_endpoints (
      id uuid PRIMARY KEY,
      organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      url text NOT NULL,
      description text NOT NULL DEFAULT '',
      event_types text[] NOT NULL,
      enabled boolean NOT NULL DEFAULT true,
      legacy_signature boolean NOT NULL DEFAULT false,
      secret_encrypted text NOT NULL,
      previous_secret_encrypted text,
      previous_secret_expires_at timestamptz,
      disabled_reason text,
      disabled_at timestamptz,
      failing_since timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX webhook_endpoints_organization ON webhook_endpoints (organization_id, id);

    CREATE TABLE webhook_deliveries (
      id uuid PRIMARY KEY,
      organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      endpoint_id uuid NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
      event_id uuid NOT NULL,
      event_type text NOT NULL,
      event_created_at timestamptz NOT NULL,
      payload jsonb NOT NULL,
      replay boolean NOT NULL DEFAULT false,
      status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'failed', 'succeeded', 'dead')),
      attempts integer NOT NULL DEFAULT 0,
      next_attempt_at timestamptz,
      last_status_code integer,
      last_error text,
      last_duration_ms integer,
      delivered_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX webhook_deliveries_event_endpoint ON webhook_deliveries (endpoint_id, event_id) WHERE NOT replay;
    CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);
    CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status IN ('pending', 'failed');

    CREATE TABLE webhook_attempts (
      id uuid PRIMARY KEY,
      delivery_id uuid NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
      attempt integer NOT NULL,
      request_headers jsonb NOT NULL,
      status_code integer,
      response_snippet text,
      duration_ms integer NOT NULL,
      error text,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, attempt);
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    DROP TABLE webhook_attempts;
    DROP TABLE webhook_deliveries;
    DROP TABLE webhook_endpoints;
    DROP FUNCTION webhook_delivery_id();
  `.execute(db);
}
