import { sql, type Kysely } from 'kysely';

// A/B tests of campaigns. The campaign carries its test (ab_test: the variants, the test share, the
// metric, the wait and how the winner is chosen). When sending starts, the frozen audience is split in
// the snapshot statement itself: the test share gets a variant (campaign_recipients.variant, 0-based) and
// is queued; the rest is `held` until a winner is chosen, then queued with no variant (it gets the
// winner's content). The decision is a durable timer: ab_decide_at, found by the campaigns' cron tick.
// Each variant's frozen content (message_contents) is recorded per variant.
//
// `held` is a new recipient state, so the counters get a column for it and their trigger functions are
// replaced by the same functions counting it too.
const SHARDS = 8;
const OUTCOME_COLUMNS = ['delivered', 'bounced', 'complained', 'opened', 'clicked'] as const;

const state = (r: string, m: string) =>
  `campaign_recipient_state(${r}.status, ${r}.email_message_id, ${m}.id, ${m}.status, ${m}.provider_message_id, ${m}.error_code)`;

function counterFunctions(stateColumns: readonly string[]): string {
  const upsertStates = `
  INSERT INTO campaign_counters AS c (campaign_id, shard, organization_id, ${stateColumns.join(', ')})
  SELECT d.campaign_id, v_shard, (array_agg(d.organization_id))[1],
    ${stateColumns.map((s) => `coalesce(sum(d.delta) FILTER (WHERE d.state = '${s}'), 0)`).join(', ')}
  FROM d WHERE EXISTS (SELECT 1 FROM campaigns k WHERE k.id = d.campaign_id)
  GROUP BY d.campaign_id
  HAVING ${stateColumns.map((s) => `coalesce(sum(d.delta) FILTER (WHERE d.state = '${s}'), 0) <> 0`).join(' OR ')}
  ORDER BY d.campaign_id
  ON CONFLICT (campaign_id, shard) DO UPDATE SET ${stateColumns.map((s) => `${s} = c.${s} + excluded.${s}`).join(', ')}`;

  const ledgerDelta = (withOld: boolean) => `
  SELECT n.campaign_id, n.organization_id, ${state('n', 'm')} AS state, n.status AS status, n.reason, 1 AS delta
  FROM new_rows n LEFT JOIN email_messages m ON m.id = n.email_message_id
  ${
    withOld
      ? `UNION ALL
  SELECT o.campaign_id, o.organization_id, ${state('o', 'm')}, o.status, o.reason, -1
  FROM old_rows o LEFT JOIN email_messages m ON m.id = o.email_message_id`
      : ''
  }`;

  const ledgerFunction = (name: string, withOld: boolean) => `
  CREATE OR REPLACE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $fn$
  DECLARE v_shard smallint := pg_backend_pid() % ${SHARDS};
  BEGIN
    WITH d AS (${ledgerDelta(withOld)})
    ${upsertStates};
    WITH d AS (${ledgerDelta(withOld)})
    INSERT INTO campaign_skip_counters AS c (campaign_id, reason, shard, organization_id, count)
    SELECT d.campaign_id, coalesce(d.reason, 'unknown'), v_shard, (array_agg(d.organization_id))[1], sum(d.delta)
    FROM d WHERE d.status = 'skipped' AND EXISTS (SELECT 1 FROM campaigns k WHERE k.id = d.campaign_id)
    GROUP BY 1, 2 HAVING sum(d.delta) <> 0 ORDER BY 1, 2
    ON CONFLICT (campaign_id, reason, shard) DO UPDATE SET count = c.count + excluded.count;
    RETURN NULL;
  END
  $fn$;`;

  return `
    ${ledgerFunction('campaign_recipients_count_insert', false)}
    ${ledgerFunction('campaign_recipients_count_update', true)}
    CREATE OR REPLACE FUNCTION campaign_messages_count() RETURNS trigger LANGUAGE plpgsql AS $fn$
    DECLARE v_shard smallint := pg_backend_pid() % ${SHARDS};
    BEGIN
      IF NOT EXISTS (SELECT 1 FROM old_rows WHERE campaign_id IS NOT NULL) THEN RETURN NULL; END IF;
      WITH d AS (
        SELECT r.campaign_id, r.organization_id, ${state('r', 'o')} AS state, -1 AS delta
        FROM old_rows o JOIN campaign_recipients r ON r.email_message_id = o.id
        WHERE o.campaign_id IS NOT NULL
        UNION ALL
        SELECT r.campaign_id, r.organization_id, ${state('r', 'm')}, 1
        FROM old_rows o JOIN campaign_recipients r ON r.email_message_id = o.id LEFT JOIN email_messages m ON m.id = o.id
        WHERE o.campaign_id IS NOT NULL
      )
      ${upsertStates};
      WITH d AS (
        SELECT o.campaign_id, o.organization_id, -1 AS delta, ${OUTCOME_COLUMNS.map((c) => `o.${c}_at IS NOT NULL AS ${c}`).join(', ')}
        FROM old_rows o WHERE o.campaign_id IS NOT NULL
        UNION ALL
        SELECT m.campaign_id, m.organization_id, 1, ${OUTCOME_COLUMNS.map((c) => `m.${c}_at IS NOT NULL`).join(', ')}
        FROM old_rows o JOIN email_messages m ON m.id = o.id WHERE m.campaign_id IS NOT NULL
      )
      INSERT INTO campaign_counters AS c (campaign_id, shard, organization_id, ${OUTCOME_COLUMNS.join(', ')})
      SELECT d.campaign_id, v_shard, (array_agg(d.organization_id))[1],
        ${OUTCOME_COLUMNS.map((c) => `coalesce(sum(d.delta) FILTER (WHERE d.${c}), 0)`).join(', ')}
      FROM d WHERE EXISTS (SELECT 1 FROM campaigns k WHERE k.id = d.campaign_id)
      GROUP BY d.campaign_id
      HAVING ${OUTCOME_COLUMNS.map((c) => `coalesce(sum(d.delta) FILTER (WHERE d.${c}), 0) <> 0`).join(' OR ')}
      ORDER BY d.campaign_id
      ON CONFLICT (campaign_id, shard) DO UPDATE SET ${OUTCOME_COLUMNS.map((c) => `${c} = c.${c} + excluded.${c}`).join(', ')};
      RETURN NULL;
    END
    $fn$;`;
}

const BEFORE = ['queued', 'sending', 'sent', 'failed', 'skipped', 'cancelled'] as const;
const AFTER = [...BEFORE, 'held'] as const;

export async function up(db: Kysely<any>): Promise<void> {
  await sql
    .raw(
      `
    ALTER TABLE campaigns
      ADD COLUMN ab_test jsonb,
      -- testing: the variants are being sent; waiting: they are sent, the rest waits for the winner; decided.
      ADD COLUMN ab_state text CHECK (ab_state IN ('testing', 'waiting', 'decided')),
      ADD COLUMN ab_decide_at timestamptz,
      ADD COLUMN ab_winner smallint CHECK (ab_winner BETWEEN 0 AND 3),
      ADD COLUMN ab_winner_at timestamptz,
      ADD COLUMN ab_winner_how text CHECK (ab_winner_how IN ('auto', 'manual'));
    -- The cron tick's timer: tests whose winner is due.
    CREATE INDEX campaigns_ab_due_idx ON campaigns (ab_decide_at) WHERE ab_state IN ('testing', 'waiting');

    ALTER TABLE campaign_recipients
      ADD COLUMN variant smallint CHECK (variant BETWEEN 0 AND 3),
      DROP CONSTRAINT campaign_recipients_status_check,
      ADD CONSTRAINT campaign_recipients_status_check CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'skipped', 'cancelled', 'held'));
    -- Per-variant results read the test share only.
    CREATE INDEX campaign_recipients_variant_idx ON campaign_recipients (campaign_id, variant) WHERE variant IS NOT NULL;
    CREATE INDEX campaign_recipients_held_idx ON campaign_recipients (campaign_id, subscriber_id) WHERE status = 'held';

    CREATE TABLE campaign_variant_contents (
      campaign_id uuid NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
      variant smallint NOT NULL CHECK (variant BETWEEN 0 AND 3),
      organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
      content_id uuid NOT NULL REFERENCES message_contents (id) ON DELETE CASCADE,
      PRIMARY KEY (campaign_id, variant)
    );
    CREATE INDEX campaign_variant_contents_org_idx ON campaign_variant_contents (organization_id);
    CREATE INDEX campaign_variant_contents_content_idx ON campaign_variant_contents (content_id);

    ALTER TABLE campaign_counters ADD COLUMN held bigint NOT NULL DEFAULT 0;
    ${counterFunctions(AFTER)}
  `,
    )
    .execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql
    .raw(
      `
    ${counterFunctions(BEFORE)}
    ALTER TABLE campaign_counters DROP COLUMN held;
    DROP TABLE campaign_variant_contents;
    DROP INDEX campaign_recipients_held_idx, campaign_recipients_variant_idx, campaigns_ab_due_idx;
    -- Recipients still waiting for a winner will not get one: cancelled (the counters, already without
    -- the held column, count them as cancelled).
    UPDATE campaign_recipients SET status = 'cancelled', reason = 'ab_test_removed', updated_at = now() WHERE status = 'held';
    ALTER TABLE campaign_recipients
      DROP CONSTRAINT campaign_recipients_status_check,
      ADD CONSTRAINT campaign_recipients_status_check CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'skipped', 'cancelled')),
      DROP COLUMN variant;
    ALTER TABLE campaigns DROP COLUMN ab_test, DROP COLUMN ab_state, DROP COLUMN ab_decide_at, DROP COLUMN ab_winner,
      DROP COLUMN ab_winner_at, DROP COLUMN ab_winner_how;
  `,
    )
    .execute(db);
}
