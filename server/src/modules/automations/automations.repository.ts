import { sql, type Kysely, type RawBuilder, type SqlBool, type Transaction } from 'kysely';
import { deleteInChunks, DELETE_CHUNK } from '../../db/chunked-delete.ts';
import type { Executor } from '../../db/client.ts';
import type { DB } from '../../db/types.ts';
import { uuidv7Floor } from '../../lib/ids.ts';
import type { SendingWindow } from '../../lib/sending-window.ts';
import type { Recipient } from '../email/index.ts';
import type { Step } from './automations.schemas.ts';

export interface AutomationRow {
  id: string;
  organization_id: string;
  name: string;
  trigger_event: string;
  trigger_tag_id: string | null;
  trigger_event_name: string | null;
  conditions: unknown;
  reentry: 'never' | 'after_completion' | 'always';
  is_active: boolean;
  version: number;
  steps: Step[];
  created_at: Date;
  updated_at: Date;
}

/** A run the worker locked because its next step is due. */
export interface DueRun {
  id: string;
  organization_id: string;
  automation_id: string;
  version_id: string;
  version: number;
  subscriber_id: string;
  step_index: number;
  waiting_for: string | null;
  steps: Step[];
  conditions: unknown;
  /** Started by an sf_test_ key: mail goes to the dev mailbox. */
  test: boolean;
}

/** One entry event as the consumer reads it from the outbox: `name` is the custom event's name or the type. */
export interface EntryEvent {
  eventId: string;
  organizationId: string;
  kind: string;
  name: string;
  subscriberId: string;
  tagId: string | null;
  /** The event came from an sf_test_ key. */
  test: boolean;
}

const AUTOMATION_COLUMNS = sql`a.id, a.organization_id, a.name, a.trigger_event, a.trigger_tag_id, a.trigger_event_name, a.conditions, a.reentry, a.is_active, a.version, v.steps, a.created_at, a.updated_at`;

export function createAutomationRepository(db: Kysely<DB>) {
  return {
    transaction: <T>(work: (trx: Transaction<DB>) => Promise<T>) => db.transaction().execute(work),

    async list(organizationId: string, options: { limit: number; beforeId?: string }): Promise<AutomationRow[]> {
      const result = await sql<AutomationRow>`
        select ${AUTOMATION_COLUMNS} from automations a join automation_versions v on v.automation_id = a.id and v.version = a.version
        where a.organization_id = ${organizationId} ${options.beforeId ? sql`and a.id < ${options.beforeId}` : sql``}
        order by a.id desc limit ${options.limit + 1}`.execute(db);
      return result.rows;
    },

    async find(organizationId: string, id: string, options: { executor?: Executor; lock?: boolean } = {}): Promise<AutomationRow | undefined> {
      const { executor = db, lock = false } = options;
      const result = await sql<AutomationRow>`
        select ${AUTOMATION_COLUMNS} from automations a join automation_versions v on v.automation_id = a.id and v.version = a.version
        where a.organization_id = ${organizationId} and a.id = ${id} ${lock ? sql`for update of a` : sql``}`.execute(executor);
      return result.rows[0];
    },

    async insert(trx: Transaction<DB>, row: Omit<AutomationRow, 'created_at' | 'updated_at' | 'version'> & { versionId: string }): Promise<void> {
      await sql`
        insert into automations (id, organization_id, name, trigger_event, trigger_tag_id, trigger_event_name, conditions, reentry, is_active, version)
        values (${row.id}, ${row.organization_id}, ${row.name}, ${row.trigger_event}, ${row.trigger_tag_id}, ${row.trigger_event_name},
                ${row.conditions === null ? null : JSON.stringify(row.conditions)}::jsonb, ${row.reentry}, ${row.is_active}, 1)`.execute(trx);
      await sql`insert into automation_versions (id, automation_id, organization_id, version, steps)
        values (${row.versionId}, ${row.id}, ${row.organization_id}, 1, ${JSON.stringify(row.steps)}::jsonb)`.execute(trx);
    },

    /** Writes the automation's fields; with `steps`, as a new version that becomes the current one. */
    async update(trx: Transaction<DB>, current: AutomationRow, next: AutomationRow, newVersionId: string | null): Promise<void> {
      const version = newVersionId ? current.version + 1 : current.version;
      if (newVersionId) {
        await sql`insert into automation_versions (id, automation_id, organization_id, version, steps)
          values (${newVersionId}, ${current.id}, ${current.organization_id}, ${version}, ${JSON.stringify(next.steps)}::jsonb)`.execute(trx);
      }
      await sql`
        update automations set name = ${next.name}, trigger_event = ${next.trigger_event}, trigger_tag_id = ${next.trigger_tag_id},
          trigger_event_name = ${next.trigger_event_name}, conditions = ${next.conditions === null ? null : JSON.stringify(next.conditions)}::jsonb,
          reentry = ${next.reentry}, is_active = ${next.is_active}, version = ${version}, updated_at = now()
        where organization_id = ${current.organization_id} and id = ${current.id}`.execute(trx);
    },

    async remove(organizationId: string, id: string): Promise<boolean> {
      const result = await sql`delete from automations where organization_id = ${organizationId} and id = ${id}`.execute(db);
      return Number(result.numAffectedRows ?? 0) > 0;
    },

    /** Of these ids, the organization's templates and their category. */
    async templates(organizationId: string, ids: readonly string[]): Promise<Map<string, string>> {
      if (ids.length === 0) return new Map();
      const result = await sql<{
        id: string;
        category: string;
      }>`select id, category from templates where organization_id = ${organizationId} and id = any(${ids as string[]}::uuid[])`.execute(db);
      return new Map(result.rows.map((r) => [r.id, r.category]));
    },

    async tags(organizationId: string, ids: readonly string[]): Promise<Set<string>> {
      if (ids.length === 0) return new Set();
      const result = await sql<{ id: string }>`select id from tags where organization_id = ${organizationId} and id = any(${ids as string[]}::uuid[])`.execute(
        db,
      );
      return new Set(result.rows.map((r) => r.id));
    },

    async versionId(organizationId: string, automationId: string, version: number): Promise<string | undefined> {
      const result = await sql<{
        id: string;
      }>`select id from automation_versions where organization_id = ${organizationId} and automation_id = ${automationId} and version = ${version}`.execute(db);
      return result.rows[0]?.id;
    },

    async versionSteps(versionId: string): Promise<Step[]> {
      const result = await sql<{ steps: Step[] }>`select steps from automation_versions where id = ${versionId}`.execute(db);
      return result.rows[0]?.steps ?? [];
    },

    /** Runs of a version by state, and per step: rows by status and the exits with their reasons. */
    async counts(organizationId: string, versionId: string) {
      const runs = await sql<{ status: string; count: number }>`
        select status, count(*)::int as count from automation_runs where organization_id = ${organizationId} and version_id = ${versionId} and not test group by status`.execute(
        db,
      );
      const steps = await sql<{ step_index: number; status: string; count: number }>`
        select step_index, status, count(*)::int as count from automation_run_steps
        where organization_id = ${organizationId} and version_id = ${versionId} and not test group by step_index, status`.execute(db);
      const exits = await sql<{ step_index: number; reason: string; count: number }>`
        select step_index, coalesce(exit_reason, 'unknown') as reason, count(*)::int as count from automation_runs
        where organization_id = ${organizationId} and version_id = ${versionId} and status = 'exited' and not test group by step_index, exit_reason`.execute(
        db,
      );
      return { runs: runs.rows, steps: steps.rows, exits: exits.rows };
    },

    async subscriberExists(organizationId: string, id: string): Promise<boolean> {
      const result = await sql`select 1 from subscribers where organization_id = ${organizationId} and id = ${id}`.execute(db);
      return result.rows.length > 0;
    },

    /** A subscriber's runs, newest first, with their steps. */
    async timeline(organizationId: string, subscriberId: string, options: { limit: number; beforeId?: string }) {
      const result = await sql<{
        id: string;
        automation_id: string;
        automation_name: string;
        version: number;
        status: 'active' | 'completed' | 'exited';
        test: boolean;
        exit_reason: string | null;
        next_at: Date | null;
        entered_at: Date;
        finished_at: Date | null;
        steps: {
          index: number;
          type: string;
          status: 'waiting' | 'completed' | 'exited';
          reason: string | null;
          email_message_id: string | null;
          started_at: string;
          finished_at: string | null;
        }[];
      }>`
        select r.id, r.automation_id, a.name as automation_name, v.version, r.status, r.test, r.exit_reason, r.next_at, r.entered_at, r.finished_at,
          coalesce((select jsonb_agg(jsonb_build_object('index', st.step_index, 'type', st.type, 'status', st.status, 'reason', st.reason,
                       'email_message_id', st.email_message_id, 'started_at', st.started_at, 'finished_at', st.finished_at) order by st.step_index)
                    from automation_run_steps st where st.run_id = r.id), '[]'::jsonb) as steps
        from automation_runs r
        join automations a on a.id = r.automation_id
        join automation_versions v on v.id = r.version_id
        where r.organization_id = ${organizationId} and r.subscriber_id = ${subscriberId} ${options.beforeId ? sql`and r.id < ${options.beforeId}` : sql``}
        order by r.id desc limit ${options.limit + 1}`.execute(db);
      return result.rows;
    },

    async subscriberByRef(organizationId: string, ref: { id?: string; email?: string }): Promise<{ id: string; email: string } | undefined> {
      const result = ref.id
        ? await sql<{ id: string; email: string }>`select id, email from subscribers where organization_id = ${organizationId} and id = ${ref.id}`.execute(db)
        : await sql<{
            id: string;
            email: string;
          }>`select id, email from subscribers where organization_id = ${organizationId} and lower(email) = lower(${ref.email ?? ''})`.execute(db);
      return result.rows[0];
    },

    /** Records a custom event once per idempotency key; undefined when the key was used before. */
    async insertCustomEvent(
      trx: Transaction<DB>,
      row: { id: string; organizationId: string; subscriberId: string; name: string; idempotencyKey: string | null },
    ): Promise<boolean> {
      const result = await sql`
        insert into custom_events (id, organization_id, subscriber_id, name, idempotency_key)
        values (${row.id}, ${row.organizationId}, ${row.subscriberId}, ${row.name}, ${row.idempotencyKey})
        on conflict (organization_id, idempotency_key) where idempotency_key is not null do nothing`.execute(trx);
      return Number(result.numAffectedRows ?? 0) > 0;
    },

    async customEventByKey(organizationId: string, key: string): Promise<string | undefined> {
      const result = await sql<{ id: string }>`select id from custom_events where organization_id = ${organizationId} and idempotency_key = ${key}`.execute(db);
      return result.rows[0]?.id;
    },

    /**
     * Custom events older than `cutoff` (their ids are time-ordered): kept only for their idempotency
     * key, as long as the outbox keeps events.
     */
    async deleteCustomEventsBefore(cutoff: Date, signal?: AbortSignal): Promise<number> {
      const floor = uuidv7Floor(cutoff);
      return deleteInChunks(
        async () =>
          Number(
            (await sql`delete from custom_events where id in (select id from custom_events where id < ${floor} limit ${DELETE_CHUNK})`.execute(db))
              .numAffectedRows ?? 0,
          ),
        signal,
      );
    },

    // ---- the relay's consumer (inside the relay's transaction) ----

    /**
     * Starts runs for every (active automation, subscriber) these events enter, in one statement: the
     * automation's current version, its re-entry rule, one run per (version, subscriber, entry) by the
     * unique key (a replayed event finds its run there and creates nothing). Writes automation.entered
     * outbox rows for the runs it created. Returns how many.
     */
    async enter(trx: Transaction<DB>, events: readonly EntryEvent[], now: Date): Promise<number> {
      if (events.length === 0) return 0;
      const result = await sql<{ count: number }>`
        with e as (
          select * from unnest(${events.map((e) => e.eventId)}::uuid[], ${events.map((e) => e.organizationId)}::uuid[], ${events.map((e) => e.kind)}::text[],
                               ${events.map((e) => e.name)}::text[], ${events.map((e) => e.subscriberId)}::uuid[], ${events.map((e) => e.tagId)}::uuid[],
                               ${events.map((e) => e.test)}::boolean[])
            as e(event_id, organization_id, kind, name, subscriber_id, tag_id, test)
        ), m as (
          select distinct on (a.id, e.subscriber_id, e.test, case when a.reentry = 'always' then e.event_id end)
            a.id as automation_id, a.organization_id, v.id as version_id, v.version, e.subscriber_id, e.test,
            -- A test entry never takes the place of a live one (nor the other way round).
            case when e.test then 'test/' else '' end || case when a.reentry = 'never' then 'once' else e.event_id::text end as entry_key
          from e
          join automations a on a.organization_id = e.organization_id and a.is_active and a.trigger_event = e.kind
            and (a.trigger_tag_id is null or a.trigger_tag_id = e.tag_id)
            and (e.kind <> 'custom' or a.trigger_event_name = e.name)
          join automation_versions v on v.automation_id = a.id and v.version = a.version
          join subscribers s on s.id = e.subscriber_id and s.organization_id = e.organization_id
          where a.reentry = 'always'
             or (a.reentry = 'never' and not exists (select 1 from automation_runs r where r.automation_id = a.id and r.subscriber_id = e.subscriber_id and r.test = e.test))
             or (a.reentry = 'after_completion' and not exists (select 1 from automation_runs r where r.automation_id = a.id and r.subscriber_id = e.subscriber_id and r.test = e.test and r.status = 'active'))
          order by a.id, e.subscriber_id, e.test, case when a.reentry = 'always' then e.event_id end, e.event_id
        ), ins as (
          insert into automation_runs (id, organization_id, automation_id, version_id, subscriber_id, entry_key, status, step_index, next_at, entered_at, test)
          select uuid_v7(), organization_id, automation_id, version_id, subscriber_id, entry_key, 'active', 0, ${now}, ${now}, test from m
          on conflict do nothing
          returning id, organization_id, automation_id, version_id, subscriber_id, test
        ), ev as (
          insert into events (id, organization_id, type, subject_id, payload)
          select uuid_v7(), ins.organization_id, 'automation.entered', ins.subscriber_id,
            jsonb_build_object('subscriber', jsonb_build_object('id', ins.subscriber_id), 'automation', jsonb_build_object('id', ins.automation_id, 'version', m.version), 'run_id', ins.id)
          from ins join m on m.version_id = ins.version_id and m.subscriber_id = ins.subscriber_id and m.test = ins.test
          returning 1
        )
        select count(*)::int as count from ev`.execute(trx);
      return result.rows[0]?.count ?? 0;
    },

    /** Runs waiting for one of these events (by subscriber and name) go on now. Returns how many. */
    async resumeWaiting(trx: Transaction<DB>, events: readonly EntryEvent[], now: Date): Promise<number> {
      if (events.length === 0) return 0;
      const result = await sql<{ id: string }>`
        with e as (
          select distinct organization_id, subscriber_id, name, test
          from unnest(${events.map((e) => e.organizationId)}::uuid[], ${events.map((e) => e.subscriberId)}::uuid[], ${events.map((e) => e.name)}::text[],
                      ${events.map((e) => e.test)}::boolean[])
            as e(organization_id, subscriber_id, name, test)
        ), r as (
          -- A test event resumes only test runs, a live event only live ones.
          update automation_runs r set waiting_for = null, next_at = ${now}
          from e where r.subscriber_id = e.subscriber_id and r.organization_id = e.organization_id and r.waiting_for = e.name and r.status = 'active'
            and r.test = e.test
          returning r.id, r.step_index
        ), st as (
          update automation_run_steps st set status = 'completed', reason = 'event_received', finished_at = ${now}
          from r where st.run_id = r.id and st.step_index = r.step_index - 1 and st.status = 'waiting'
          returning 1
        )
        select r.id from r`.execute(trx);
      return result.rows.length;
    },

    // ---- the worker ----

    /** Due runs of active automations, oldest due first, locked (SKIP LOCKED: parallel workers split them). */
    async lockDue(trx: Transaction<DB>, now: Date, limit: number): Promise<DueRun[]> {
      const result = await sql<DueRun>`
        select r.id, r.organization_id, r.automation_id, r.version_id, v.version, r.subscriber_id, r.step_index, r.waiting_for, v.steps, a.conditions, r.test
        from automation_runs r
        join automation_versions v on v.id = r.version_id
        join automations a on a.id = r.automation_id
        where r.status = 'active' and r.next_at <= ${now} and a.is_active
        order by r.next_at
        limit ${limit}
        for update of r skip locked`.execute(trx);
      return result.rows;
    },

    /**
     * Ends the runs whose subscriber may no longer get marketing mail (unsubscribed, bounced, complained,
     * not active, or on the suppression list) or left the topic whose joining started the automation, in
     * one statement; returns them with the reason.
     */
    async exitIneligible(trx: Transaction<DB>, runIds: readonly string[], now: Date): Promise<{ id: string; reason: string }[]> {
      if (runIds.length === 0) return [];
      const result = await sql<{ id: string; reason: string }>`
        with bad as (
          select r.id,
            case when s.status <> 'active' then s.status when sp.email is not null then 'suppressed' else 'unsubscribed_from_topic' end as reason
          from automation_runs r
          join subscribers s on s.id = r.subscriber_id
          join automations a on a.id = r.automation_id
          left join lateral (select x.email from suppressions x where x.organization_id = s.organization_id and lower(x.email) = lower(s.email) limit 1) sp on true
          -- An automation started by joining a topic is that topic's mail: leaving the topic ends it.
          left join subscriber_tags topic on a.trigger_event = 'tag.subscribed' and topic.subscriber_id = r.subscriber_id and topic.tag_id = a.trigger_tag_id
          where r.id = any(${runIds as string[]}::uuid[])
            and (s.status <> 'active' or sp.email is not null
                 or (a.trigger_event = 'tag.subscribed' and a.trigger_tag_id is not null and topic.status is distinct from 'subscribed'))
        )
        update automation_runs r set status = 'exited', exit_reason = bad.reason, next_at = null, waiting_for = null, finished_at = ${now}
        from bad where r.id = bad.id
        returning r.id, bad.reason`.execute(trx);
      return result.rows;
    },

    /** When the next active run falls due after `now` (from the partial index of active runs), or null. */
    async nextDue(now: Date): Promise<Date | null> {
      const result = await sql<{ at: Date | null }>`select min(next_at) as at from automation_runs where status = 'active' and next_at > ${now}`.execute(db);
      return result.rows[0]?.at ?? null;
    },

    /** Ends these runs with one reason. */
    async exit(trx: Transaction<DB>, runIds: readonly string[], reason: string, now: Date): Promise<void> {
      if (runIds.length === 0) return;
      await sql`update automation_runs set status = 'exited', exit_reason = ${reason}, next_at = null, waiting_for = null, finished_at = ${now}
        where id = any(${runIds as string[]}::uuid[])`.execute(trx);
    },

    /** Completes these runs and writes their automation.completed outbox rows. */
    async complete(trx: Transaction<DB>, runIds: readonly string[], now: Date): Promise<void> {
      if (runIds.length === 0) return;
      await sql`
        with done as (
          update automation_runs r set status = 'completed', next_at = null, waiting_for = null, finished_at = ${now}
          where r.id = any(${runIds as string[]}::uuid[])
          returning r.id, r.organization_id, r.automation_id, r.version_id, r.subscriber_id
        )
        insert into events (id, organization_id, type, subject_id, payload)
        select uuid_v7(), done.organization_id, 'automation.completed', done.subscriber_id,
          jsonb_build_object('subscriber', jsonb_build_object('id', done.subscriber_id), 'automation', jsonb_build_object('id', done.automation_id, 'version', v.version), 'run_id', done.id)
        from done join automation_versions v on v.id = done.version_id`.execute(trx);
    },

    /** Closes the waiting step rows (a delay or a wait whose time is up) of these runs. */
    async closeWaiting(trx: Transaction<DB>, runIds: readonly string[], reason: string | null, now: Date): Promise<void> {
      if (runIds.length === 0) return;
      await sql`update automation_run_steps set status = 'completed', reason = ${reason}, finished_at = ${now}
        where run_id = any(${runIds as string[]}::uuid[]) and status = 'waiting'`.execute(trx);
    },

    /**
     * Records that these runs reach step `index` (one row per run and step: a row that exists already
     * means the step happened, and the run is left out). Returns the runs that got their row now.
     */
    async claimStep(
      trx: Transaction<DB>,
      runs: readonly DueRun[],
      index: number,
      type: string,
      status: 'waiting' | 'completed' | 'exited',
      reason: string | null,
      now: Date,
    ): Promise<string[]> {
      if (runs.length === 0) return [];
      const first = runs[0]!;
      const result = await sql<{ run_id: string }>`
        insert into automation_run_steps (run_id, step_index, organization_id, automation_id, version_id, type, status, reason, started_at, finished_at, test)
        select r, ${index}, ${first.organization_id}, ${first.automation_id}, ${first.version_id}, ${type}, ${status}, ${reason}, ${now}, ${status === 'waiting' ? null : now}::timestamptz,
          ${first.test}
        from unnest(${runs.map((r) => r.id)}::uuid[]) as r
        on conflict do nothing
        returning run_id`.execute(trx);
      return result.rows.map((r) => r.run_id);
    },

    async setStepMessages(trx: Transaction<DB>, index: number, pairs: readonly { runId: string; messageId: string }[]): Promise<void> {
      if (pairs.length === 0) return;
      await sql`update automation_run_steps st set email_message_id = p.message_id
        from unnest(${pairs.map((p) => p.runId)}::uuid[], ${pairs.map((p) => p.messageId)}::uuid[]) as p(run_id, message_id)
        where st.run_id = p.run_id and st.step_index = ${index}`.execute(trx);
    },

    /** Moves these runs past their step; the next one is due at `nextAt` (waiting for `waitingFor` meanwhile). */
    async advance(trx: Transaction<DB>, runIds: readonly string[], nextAt: Date, waitingFor: string | null = null): Promise<void> {
      if (runIds.length === 0) return;
      await sql`update automation_runs set step_index = step_index + 1, next_at = ${nextAt}, waiting_for = ${waitingFor}
        where id = any(${runIds as string[]}::uuid[])`.execute(trx);
    },

    /** Tries these runs' step again at `nextAt` (the month's email quota is used up). */
    async postpone(trx: Transaction<DB>, runIds: readonly string[], nextAt: Date): Promise<void> {
      if (runIds.length === 0) return;
      await sql`update automation_runs set next_at = ${nextAt} where id = any(${runIds as string[]}::uuid[])`.execute(trx);
    },

    /**
     * The content a send step's emails are rendered from, frozen for the template as it is now (a template
     * edited or deleted since has none); its recipe is read apart (recipe) and kept by the caller.
     */
    async stepContentId(
      trx: Transaction<DB>,
      run: Pick<DueRun, 'organization_id' | 'version_id'>,
      stepIndex: number,
      templateId: string,
    ): Promise<string | undefined> {
      const result = await sql<{ content_id: string }>`
        select sc.content_id from automation_step_contents sc
        join templates t on t.id = sc.template_id and t.version = sc.template_version and t.organization_id = ${run.organization_id} and t.archived_at is null
        where sc.version_id = ${run.version_id} and sc.step_index = ${stepIndex} and sc.template_id = ${templateId}`.execute(trx);
      return result.rows[0]?.content_id;
    },

    async recipe(trx: Transaction<DB>, organizationId: string, contentId: string): Promise<unknown> {
      const result = await sql<{
        recipe: unknown;
      }>`select recipe from message_contents where organization_id = ${organizationId} and id = ${contentId}`.execute(trx);
      return result.rows[0]?.recipe;
    },

    /**
     * Freezes a send step's content for a template version: stores the recipe and names it, unless another
     * pass did first (then what this one stored is rolled back). Returns whether this one did.
     */
    async freezeStepContent(
      trx: Transaction<DB>,
      row: { organizationId: string; versionId: string; stepIndex: number; templateId: string; templateVersion: number; contentId: string; recipe: unknown },
    ): Promise<boolean> {
      await sql`savepoint automation_content`.execute(trx);
      await sql`insert into message_contents (id, organization_id, recipe) values (${row.contentId}, ${row.organizationId}, ${JSON.stringify(row.recipe)}::jsonb)`.execute(
        trx,
      );
      // A concurrent pass freezing the same step makes this wait for its commit, then do nothing.
      const result = await sql<{ content_id: string }>`
        insert into automation_step_contents (version_id, step_index, template_id, template_version, organization_id, content_id)
        values (${row.versionId}, ${row.stepIndex}, ${row.templateId}, ${row.templateVersion}, ${row.organizationId}, ${row.contentId})
        on conflict do nothing returning content_id`.execute(trx);
      if (result.rows.length === 0) {
        await sql`rollback to savepoint automation_content`.execute(trx);
        return false;
      }
      await sql`release savepoint automation_content`.execute(trx);
      return true;
    },

    /** The organization's time zone and sending window (automation mail waits outside it). */
    async sendingWindow(trx: Transaction<DB>, organizationId: string): Promise<{ timezone: string; sending_window: SendingWindow | null }> {
      const result = await sql<{
        timezone: string;
        sending_window: SendingWindow | null;
      }>`select timezone, sending_window from organizations where id = ${organizationId}`.execute(trx);
      return result.rows[0] ?? { timezone: 'UTC', sending_window: null };
    },

    /** The subscribers of these ids who match a compiled segment predicate over `s`. */
    async matching(trx: Transaction<DB>, organizationId: string, subscriberIds: readonly string[], predicate: RawBuilder<SqlBool>): Promise<Set<string>> {
      if (subscriberIds.length === 0) return new Set();
      const result = await sql<{ id: string }>`select s.id from subscribers s
        where s.organization_id = ${organizationId} and s.id = any(${subscriberIds as string[]}::uuid[]) and ${predicate}`.execute(trx);
      return new Set(result.rows.map((r) => r.id));
    },

    async recipients(trx: Transaction<DB>, organizationId: string, subscriberIds: readonly string[]) {
      if (subscriberIds.length === 0) return [];
      const result = await sql<Recipient>`
        select id, email, status, first_name, last_name, metadata, locale from subscribers
        where organization_id = ${organizationId} and id = any(${subscriberIds as string[]}::uuid[])`.execute(trx);
      return result.rows;
    },

    async tag(trx: Transaction<DB>, organizationId: string, tagId: string) {
      const result = await sql<{
        id: string;
        name: string;
        slug: string;
      }>`select id, name, slug from tags where organization_id = ${organizationId} and id = ${tagId}`.execute(trx);
      return result.rows[0];
    },

    /** Unsubscribes these subscribers from a tag; returns those who were subscribed. */
    async untag(trx: Transaction<DB>, organizationId: string, tagId: string, subscriberIds: readonly string[], source: string): Promise<string[]> {
      if (subscriberIds.length === 0) return [];
      const result = await sql<{ subscriber_id: string }>`
        update subscriber_tags set status = 'unsubscribed', source = ${source}, unsubscribed_at = now(), updated_at = now()
        where organization_id = ${organizationId} and tag_id = ${tagId} and subscriber_id = any(${subscriberIds as string[]}::uuid[]) and status = 'subscribed'
        returning subscriber_id`.execute(trx);
      return result.rows.map((r) => r.subscriber_id);
    },
  };
}

export type AutomationRepository = ReturnType<typeof createAutomationRepository>;
