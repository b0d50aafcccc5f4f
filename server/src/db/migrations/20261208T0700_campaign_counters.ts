import { sql, type Kysely } from 'kysely';

// A campaign's progress and stats are read from counters, not by counting its ledger on every GET.
// campaign_counters holds, per campaign, the number of recipients in each state (the state a recipient
// shows: its ledger row, or its message while it is in flight, as campaign_recipient_state decides) and
// the outcomes of its messages; campaign_skip_counters the skipped recipients by reason.
//
// They are kept by statement-level triggers with transition tables, in the transaction of the change:
// each statement that changes the ledger (snapshot, claim, skip, cancel, retry, settle) or a campaign's
// messages (send result, provider events, cancel) adds the difference of the states it changed, one
// upsert per campaign and statement, never one per recipient. Concurrent writers (lanes, pumps, email
// senders) would queue on one row, so each connection writes its own shard row (backend pid mod 8); a
// read sums the shards of one campaign (at most 8 rows through the primary key).
//
// A statement that changes both a recipient's ledger row and its message is not counted right; none does
// (cancel changes queued recipients and claimed recipients' messages: disjoint).
const SHARDS = 8;

const STATE_COLUMNS = ['queued', 'sending', 'sent', 'failed', 'skipped', 'cancelled'] as const;
const OUTCOME_COLUMNS = ['delivered', 'bounced', 'complained', 'opened', 'clicked'] as const;

/** Upsert of the state differences in "d" (campaign_id, organization_id, state, delta). */
const upsertStates = `
  INSERT INTO campaign_counters AS c (campaign_id, shard, organization_id, ${STATE_COLUMNS.join(', ')})
  SELECT d.campaign_id, v_shard, (array_agg(d.organization_id))[1],
    ${STATE_COLUMNS.map((s) => `coalesce(sum(d.delta) FILTER (WHERE d.state = '${s}'), 0)`).join(', ')}
  FROM d WHERE EXISTS (SELECT 1 FROM campaigns k WHERE k.id = d.campaign_id)
  GROUP BY d.campaign_id
  HAVING ${STATE_COLUMNS.map((s) => `coalesce(sum(d.delta) FILTER (WHERE d.state = '${s}'), 0) <> 0`).join(' OR ')}
  ORDER BY d.campaign_id
  ON CONFLICT (campaign_id, shard) DO UPDATE SET ${STATE_COLUMNS.map((s) => `${s} = c.${s} + excluded.${s}`).join(', ')}`;

const state = (r: string, m: string) =>
  `campaign_recipient_state(${r}.status, ${r}.email_message_id, ${m}.id, ${m}.status, ${m}.provider_message_id, ${m}.error_code)`;

/** Ledger rows as state differences: +1 for "new_rows", -1 for "old_rows" (when the event has them). */
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
  CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $fn$
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

export async function up(db: Kysely<any>): Promise<void> {
  await sql
    .raw(
      `
    -- The state a recipient shows: once a message exists, the message decides (its provider id means it
    -- was accepted, whatever happened to the row after).
    CREATE FUNCTION campaign_recipient_state(r_status text, r_message uuid, m_id uuid, m_status text, m_provider text, m_error text)
    RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT CASE
        WHEN m_provider IS NOT NULL THEN 'sent'
        WHEN r_message IS NULL OR r_status <> 'sending' AND m_id IS NULL THEN r_status
        WHEN m_id IS NULL THEN 'skipped'
        WHEN m_status IN ('queued', 'sending') THEN 'sending'
        WHEN m_status = 'suppressed' THEN 'skipped'
        WHEN m_error = 'campaign_cancelled' THEN 'cancelled'
        WHEN m_status = 'failed' THEN 'failed'
        ELSE 'sent' END
    $$;

    CREATE TABLE campaign_counters (
      campaign_id uuid NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
      shard smallint NOT NULL,
      organization_id uuid NOT NULL,
      ${[...STATE_COLUMNS, ...OUTCOME_COLUMNS].map((c) => `${c} bigint NOT NULL DEFAULT 0`).join(',\n      ')},
      PRIMARY KEY (campaign_id, shard)
    );
    CREATE INDEX campaign_counters_org_idx ON campaign_counters (organization_id);

    CREATE TABLE campaign_skip_counters (
      campaign_id uuid NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
      reason text NOT NULL,
      shard smallint NOT NULL,
      organization_id uuid NOT NULL,
      count bigint NOT NULL DEFAULT 0,
      PRIMARY KEY (campaign_id, reason, shard)
    );
    CREATE INDEX campaign_skip_counters_org_idx ON campaign_skip_counters (organization_id);

    ${ledgerFunction('campaign_recipients_count_insert', false)}
    ${ledgerFunction('campaign_recipients_count_update', true)}
    CREATE TRIGGER campaign_recipients_count_insert AFTER INSERT ON campaign_recipients
      REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION campaign_recipients_count_insert();
    CREATE TRIGGER campaign_recipients_count_update AFTER UPDATE ON campaign_recipients
      REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION campaign_recipients_count_update();

    -- A campaign message changed or went away: the state of its recipient (old message against the
    -- message now) and the message's outcomes. Messages of no campaign cost one scan of the changed rows.
    CREATE FUNCTION campaign_messages_count() RETURNS trigger LANGUAGE plpgsql AS $fn$
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
    $fn$;
    CREATE TRIGGER campaign_messages_count_update AFTER UPDATE ON email_messages
      REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION campaign_messages_count();
    CREATE TRIGGER campaign_messages_count_delete AFTER DELETE ON email_messages
      REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION campaign_messages_count();

    -- Unsubscribes attributed to a campaign (its stats): found without reading the organization's history.
    CREATE INDEX subscription_history_campaign_idx ON subscription_history (organization_id, (details ->> 'campaign_id'))
      WHERE details ->> 'campaign_id' IS NOT NULL;

    -- Campaigns sent before the counters: counted once from their ledger and messages.
    INSERT INTO campaign_counters (campaign_id, shard, organization_id, ${STATE_COLUMNS.join(', ')})
    SELECT r.campaign_id, 0, (array_agg(r.organization_id))[1],
      ${STATE_COLUMNS.map((s) => `count(*) FILTER (WHERE ${state('r', 'm')} = '${s}')`).join(', ')}
    FROM campaign_recipients r LEFT JOIN email_messages m ON m.id = r.email_message_id GROUP BY r.campaign_id;
    UPDATE campaign_counters c SET ${OUTCOME_COLUMNS.map((col) => `${col} = x.${col}`).join(', ')}
    FROM (SELECT campaign_id, ${OUTCOME_COLUMNS.map((col) => `count(*) FILTER (WHERE ${col}_at IS NOT NULL) AS ${col}`).join(', ')}
          FROM email_messages WHERE campaign_id IS NOT NULL GROUP BY campaign_id) x
    WHERE c.campaign_id = x.campaign_id AND c.shard = 0;
    INSERT INTO campaign_skip_counters (campaign_id, reason, shard, organization_id, count)
    SELECT campaign_id, coalesce(reason, 'unknown'), 0, (array_agg(organization_id))[1], count(*)
    FROM campaign_recipients WHERE status = 'skipped' GROUP BY 1, 2;
  `,
    )
    .execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    DROP INDEX subscription_history_campaign_idx;
    DROP TRIGGER campaign_messages_count_update ON email_messages;
    DROP TRIGGER campaign_messages_count_delete ON email_messages;
    DROP TRIGGER campaign_recipients_count_insert ON campaign_recipients;
    DROP TRIGGER campaign_recipients_count_update ON campaign_recipients;
    DROP FUNCTION campaign_messages_count(), campaign_recipients_count_insert(), campaign_recipients_count_update();
    DROP TABLE campaign_skip_counters, campaign_counters;
    DROP FUNCTION campaign_recipient_state(text, uuid, uuid, text, text, text);
  `.execute(db);
}
