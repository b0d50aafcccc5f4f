import { sql, type Kysely, type Transaction } from 'kysely';
import type { DB } from '../../db/types.ts';
import type { JobHandler } from '../../jobs/context.ts';
import type { JobProducer } from '../../jobs/producer.ts';
import { AppError } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { heldUntil } from '../../lib/sending-window.ts';
import {
  automationBatchKeyFor,
  batchJobKey,
  MAX_BATCH_SIZE,
  type AutomationRecipe,
  type DevMailbox,
  type EmailRepository,
  type EmailService,
  type NewMessage,
  type OutgoingEmail,
  type Recipient,
  type UnrenderedMessage,
} from '../email/index.ts';
import type { Entitlements } from '../entitlements/index.ts';
import { insertEvents, type EventConsumer, type OutboxEvent, type RelayedEvent } from '../events/index.ts';
import type { SegmentFilter, SegmentService } from '../segments/index.ts';
import { tagEvent, type SubscriberRepository } from '../subscribers/index.ts';
import type { AutomationRepository, DueRun, EntryEvent } from './automations.repository.ts';
import type { Step } from './automations.schemas.ts';

/** Runs locked per transaction. */
export const BATCH_SIZE = 500;
// Passes one job runs at the same time (each its own transaction and batch).
const LANES = 2;
// Jobs a full batch adds (at most once a second per process), so other worker processes join in.
const FAN_OUT = 2;
// One job runs passes this long, then hands over to a fresh job (the cron sweep would find the rest too).
const RUN_MS = 30_000;
// Automation mail waits behind transactional mail in the one email queue, like campaign mail.
const PRIORITY = 5;
// The month's email quota is used up: a send step is tried again this much later.
const QUOTA_RETRY_MS = 3_600_000;
const SOURCE = 'automation';
// Steps due sooner than this get a delayed job of their own; later ones are found by the cron sweep.
const WAKE_WITHIN_MS = 60_000;

// The step reason a test run's send records: its mail is in the dev mailbox.
export const TEST_REASON = 'dev_mailbox';

// Steps one run may take in one pass when each makes the next one due at once.
const STEPS_PER_PASS = 8;
// Frozen step contents the process keeps (they never change once stored).
const CONTENT_CACHE = 256;

type Group = { runs: DueRun[]; index: number; step: Step | undefined };
/** One provider batch: its job's name (from the batch key) and its messages. */
type Batch = { batch: string; message_ids: string[] };
/** A group's emails, written after `savepoint`, whose quota the end of the pass reserves. */
type PendingSend = { savepoint: string; organizationId: string; count: number; runIds: string[]; batches: Batch[] };

/**
 * Splits a send group's messages (in id order) into provider batches of ≤ 100 and gives each message its
 * batch's idempotency key (from the content and the batch's message ids), stored with the message.
 */
function intoBatches(messages: UnrenderedMessage[], contentId: string): Batch[] {
  messages.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const batches: Batch[] = [];
  for (let at = 0; at < messages.length; at += MAX_BATCH_SIZE) {
    const chunk = messages.slice(at, at + MAX_BATCH_SIZE);
    const ids = chunk.map((m) => m.id);
    const key = automationBatchKeyFor(contentId, ids);
    for (const message of chunk) message.batch_key = key;
    batches.push({ batch: batchJobKey(key), message_ids: ids });
  }
  return batches;
}

/** A test run's message as the dev mailbox keeps it: marked as a test, keyed like the live one. */
function testMail(organizationId: string, message: NewMessage): OutgoingEmail {
  return {
    from: message.from_address,
    to: message.to_address,
    subject: `[Test] ${message.subject}`,
    html: message.html,
    text: message.text,
    headers: { ...message.headers, 'X-Subscribe-Flow-Test': 'true' },
    organizationId,
    idempotencyKey: message.idempotency_key ?? undefined,
  };
}

/**
 * The outbox consumer: entry events start runs (one statement for the batch, inside the relay's
 * transaction, so the runs commit with the events marked relayed), and any event a run waits for
 * resumes it. Returns an automations.run job when something is due now.
 */
export function createAutomationConsumer(deps: { repository: AutomationRepository; now: () => Date }): EventConsumer {
  return {
    name: 'automations',
    async handle(trx, events: readonly RelayedEvent[]) {
      const entries: EntryEvent[] = [];
      for (const event of events) {
        const payload = event.payload as { subscriber?: { id?: string }; tag?: { id?: string }; name?: string; test?: boolean };
        const subscriberId = payload.subscriber?.id;
        if (!subscriberId) continue;
        // Made with an sf_test_ key: the runs it starts deliver to the dev mailbox.
        const test = payload.test === true;
        switch (event.type) {
          case 'subscriber.created':
          case 'subscriber.confirmed':
          case 'tag.subscribed':
          case 'tag.unsubscribed':
            entries.push({
              eventId: event.id,
              organizationId: event.organization_id,
              kind: event.type,
              name: event.type,
              subscriberId,
              tagId: payload.tag?.id ?? null,
              test,
            });
            break;
          case 'custom_event.received':
            entries.push({
              eventId: event.id,
              organizationId: event.organization_id,
              kind: 'custom',
              name: payload.name ?? '',
              subscriberId,
              tagId: null,
              test,
            });
            break;
          default:
        }
      }
      if (entries.length === 0) return [];
      const now = deps.now();
      const resumed = await deps.repository.resumeWaiting(trx, entries, now);
      const entered = await deps.repository.enter(trx, entries, now);
      return entered + resumed > 0 ? [{ name: 'automations.run', payload: { tick: `e${events.at(-1)!.id.replaceAll('-', '')}` } }] : [];
    },
  };
}

/**
 * The automation runner. Each pass locks a batch of due runs (SKIP LOCKED: parallel workers take other
 * runs), ends those whose subscriber can no longer get marketing mail, and does the due step of the
 * rest, grouped by version and step, with set-based statements: one step row per (run, step) — a row
 * that exists means the step happened — then the step's effect, then the run moves on. Everything of a
 * pass commits together, so a killed worker loses only an uncommitted pass, which the next one redoes.
 * Emails are inserted as queued messages with the key `automation/<run>/<step>` and handed to the one
 * send path (suppression re-check, rate gate, provider idempotency key) after commit.
 */
export function createAutomationJobs(deps: {
  db: Kysely<DB>;
  repository: AutomationRepository;
  emails: Pick<EmailService, 'automationComposer' | 'automationRecipe' | 'automationBatchComposer'>;
  emailRepository: Pick<EmailRepository, 'insertMessages'>;
  entitlements: Pick<Entitlements, 'reserveEmails'>;
  segments: Pick<SegmentService, 'compile'>;
  subscriberRepository: Pick<SubscriberRepository, 'subscribeTags'>;
  devMailbox: Pick<DevMailbox, 'storeMany'>;
  producer: JobProducer;
  now: () => Date;
}) {
  const { repository: repo, producer } = deps;

  // Recipes by content id: stored contents never change, only committed ones are kept.
  const recipes = new Map<string, AutomationRecipe>();
  /**
   * What a send step's emails are rendered from: frozen (template, footer data, sender) by the first pass
   * that sends the step after its template last changed, read by every later one; a template edit
   * reaches the next send, a deleted template ends the runs (as before the first send).
   */
  async function stepContent(trx: Transaction<DB>, run: DueRun, index: number, templateId: string): Promise<{ id: string; recipe: AutomationRecipe }> {
    let id = await repo.stepContentId(trx, run, index, templateId);
    if (!id) {
      const recipe = await deps.emails.automationRecipe(run.organization_id, { id: run.automation_id, templateId });
      const contentId = newId();
      const frozen = { organizationId: run.organization_id, versionId: run.version_id, stepIndex: index, templateId, contentId, recipe };
      if (await repo.freezeStepContent(trx, { ...frozen, templateVersion: Number(recipe.template.version) })) return { id: contentId, recipe };
      id = await repo.stepContentId(trx, run, index, templateId);
      if (!id) throw new Error(`the content of step ${index} of automation version ${run.version_id} is missing`);
    }
    let recipe = recipes.get(id);
    if (!recipe) {
      recipe = (await repo.recipe(trx, run.organization_id, id)) as AutomationRecipe;
      recipes.set(id, recipe);
      if (recipes.size > CONTENT_CACHE) recipes.delete(recipes.keys().next().value!);
    }
    return { id, recipe };
  }

  async function matching(trx: Transaction<DB>, runs: DueRun[], filter: SegmentFilter): Promise<Set<string> | null> {
    try {
      const predicate = await deps.segments.compile(runs[0]!.organization_id, filter);
      return await repo.matching(
        trx,
        runs[0]!.organization_id,
        runs.map((r) => r.subscriber_id),
        predicate,
      );
    } catch (error) {
      if (error instanceof AppError && error.status < 500) return null;
      throw error;
    }
  }

  /**
   * Renders and stores the emails of one group. Its writes follow a savepoint, and the month's quota is
   * reserved only at the end of the pass (`reserve`): that update locks the organization's row until
   * commit, so reserving last keeps parallel passes of one organization from waiting on each other
   * while they render.
   */
  async function sendEmail(
    trx: Transaction<DB>,
    group: Group,
    step: Extract<Step, { type: 'send_email' }>,
    now: Date,
    pending: PendingSend[],
  ): Promise<string[]> {
    const { runs, index } = group;
    const first = runs[0]!;
    // Quiet hours: outside the organization's sending window the step waits until the window opens.
    const { timezone, sending_window: window } = await repo.sendingWindow(trx, first.organization_id);
    const until = heldUntil(window, timezone, now);
    if (until) {
      await repo.postpone(
        trx,
        runs.map((r) => r.id),
        until,
      );
      return [];
    }
    // A test run's mail is rendered in full now (it goes to the dev mailbox in this transaction); live mail
    // is rendered when its batch is sent, from the step's frozen content.
    let compose: (recipient: Recipient, key: { runId: string; stepIndex: number }) => Promise<NewMessage | UnrenderedMessage>;
    let contentId: string | null = null;
    try {
      if (first.test) {
        compose = (await deps.emails.automationComposer(first.organization_id, { id: first.automation_id, templateId: step.template_id })).compose;
      } else {
        const content = await stepContent(trx, first, index, step.template_id);
        contentId = content.id;
        compose = deps.emails.automationBatchComposer(content.id, content.recipe).compose;
      }
    } catch (error) {
      // The template was deleted or the postal address removed: the runs end here, saying why.
      if (!(error instanceof AppError) || error.status >= 500) throw error;
      await repo.claimStep(trx, runs, index, step.type, 'exited', error.code, now);
      await repo.exit(
        trx,
        runs.map((r) => r.id),
        error.code,
        now,
      );
      return [];
    }
    const savepoint = `automation_send_${pending.length}`;
    await sql`savepoint ${sql.raw(savepoint)}`.execute(trx);
    const claimed = new Set(await repo.claimStep(trx, runs, index, step.type, 'completed', first.test ? TEST_REASON : null, now));
    const recipients = new Map(
      (
        await repo.recipients(
          trx,
          first.organization_id,
          runs.map((r) => r.subscriber_id),
        )
      ).map((r) => [r.id, r]),
    );
    const messages: (NewMessage | UnrenderedMessage)[] = [];
    const pairs: { runId: string; messageId: string }[] = [];
    const failed: { id: string; reason: string }[] = [];
    for (const run of runs) {
      if (!claimed.has(run.id)) continue;
      const recipient = recipients.get(run.subscriber_id)!;
      try {
        const message = await compose(recipient, { runId: run.id, stepIndex: index });
        messages.push(message);
        pairs.push({ runId: run.id, messageId: message.id });
      } catch (error) {
        // One subscriber's data the template cannot render ends that one run.
        if (!(error instanceof AppError)) throw error;
        failed.push({ id: run.id, reason: error.code });
      }
    }
    let batches: Batch[] = [];
    if (first.test) {
      // A test run's mail is kept in the dev mailbox (committed with the step), never handed to the
      // provider, and counts nowhere: no email_messages row, no quota.
      await deps.devMailbox.storeMany(
        trx,
        messages.map((m) => testMail(first.organization_id, m as NewMessage)),
      );
    } else {
      // Stored without a body, each with its batch's provider key: every attempt of a batch (and the email
      // sweep, which finds a lost one by its key) sends the same request.
      batches = intoBatches(messages as UnrenderedMessage[], contentId!);
      await deps.emailRepository.insertMessages(trx, first.organization_id, messages);
      await repo.setStepMessages(trx, index, pairs);
    }
    for (const reason of new Set(failed.map((f) => f.reason))) {
      await repo.exit(
        trx,
        failed.filter((f) => f.reason === reason).map((f) => f.id),
        reason,
        now,
      );
    }
    await repo.advance(
      trx,
      pairs.map((p) => p.runId),
      now,
    );
    pending.push({
      savepoint,
      organizationId: first.organization_id,
      // Test runs send nothing, so they use none of the month's quota and hand nothing to the send path.
      count: first.test ? 0 : messages.length,
      runIds: runs.map((r) => r.id),
      batches,
    });
    return pairs.map((p) => p.runId);
  }

  /**
   * Reserves the quota of the pass's sends, last group first. A group over the month's limit is rolled
   * back to its savepoint (with the groups after it, which stay due for a later pass) and waits an
   * hour. Returns the batches to send once the pass commits.
   */
  async function reserve(trx: Transaction<DB>, pending: PendingSend[], now: Date): Promise<Batch[]> {
    let kept = pending.length;
    for (let i = pending.length - 1; i >= 0; i -= 1) {
      const send = pending[i]!;
      try {
        await deps.entitlements.reserveEmails(trx, send.organizationId, send.count);
      } catch (error) {
        if (!(error instanceof AppError) || error.code !== 'plan_limit_exceeded') throw error;
        await sql`rollback to savepoint ${sql.raw(send.savepoint)}`.execute(trx);
        await repo.postpone(trx, send.runIds, new Date(now.getTime() + QUOTA_RETRY_MS));
        kept = i;
      }
    }
    return pending.slice(0, kept).flatMap((p) => p.batches);
  }

  /** Does a group's step; returns the runs whose next step is due at once (they go on in the same pass). */
  async function runGroup(trx: Transaction<DB>, group: Group, now: Date, pending: PendingSend[]): Promise<string[]> {
    const { runs, index, step } = group;
    const ids = runs.map((r) => r.id);
    if (!step) {
      await repo.complete(trx, ids, now);
      return [];
    }
    switch (step.type) {
      case 'send_email':
        return sendEmail(trx, group, step, now, pending);
      case 'delay': {
        const claimed = await repo.claimStep(trx, runs, index, step.type, 'waiting', null, now);
        await repo.advance(trx, claimed, new Date(now.getTime() + step.seconds * 1000));
        return [];
      }
      case 'wait_for_event': {
        const claimed = await repo.claimStep(trx, runs, index, step.type, 'waiting', null, now);
        await repo.advance(trx, claimed, new Date(now.getTime() + step.timeout_seconds * 1000), step.event);
        return [];
      }
      case 'condition': {
        const matched = await matching(trx, runs, step.filter);
        if (!matched) {
          await repo.claimStep(trx, runs, index, step.type, 'exited', 'invalid_condition', now);
          await repo.exit(trx, ids, 'invalid_condition', now);
          return [];
        }
        const pass = runs.filter((r) => matched.has(r.subscriber_id));
        const fail = runs.filter((r) => !matched.has(r.subscriber_id));
        await repo.claimStep(trx, fail, index, step.type, 'exited', 'condition_not_met', now);
        await repo.exit(
          trx,
          fail.map((r) => r.id),
          'condition_not_met',
          now,
        );
        const passed = await repo.claimStep(trx, pass, index, step.type, 'completed', null, now);
        await repo.advance(trx, passed, now);
        return passed;
      }
      case 'add_tag':
      case 'remove_tag': {
        const claimed = new Set(await repo.claimStep(trx, runs, index, step.type, 'completed', null, now));
        const mine = runs.filter((r) => claimed.has(r.id));
        const organizationId = runs[0]!.organization_id;
        const tag = await repo.tag(trx, organizationId, step.tag_id);
        if (tag && mine.length > 0) {
          const subscribers = new Map(
            (
              await repo.recipients(
                trx,
                organizationId,
                mine.map((r) => r.subscriber_id),
              )
            ).map((s) => [s.id, s]),
          );
          const changed =
            step.type === 'add_tag'
              ? (
                  await deps.subscriberRepository.subscribeTags(
                    trx,
                    organizationId,
                    mine.map((r) => ({ subscriberId: r.subscriber_id, tagId: tag.id })),
                    SOURCE,
                  )
                ).map((c) => c.subscriber_id)
              : await repo.untag(
                  trx,
                  organizationId,
                  tag.id,
                  mine.map((r) => r.subscriber_id),
                  SOURCE,
                );
          const events: OutboxEvent[] = changed.map((id) =>
            // A test run's tag changes are test events: the automations they start are test runs too.
            tagEvent(step.type === 'add_tag' ? 'tag.subscribed' : 'tag.unsubscribed', subscribers.get(id)!, tag, SOURCE, runs[0]!.test),
          );
          await insertEvents(trx, organizationId, events);
        }
        await repo.advance(trx, [...claimed], now);
        return [...claimed];
      }
      case 'exit': {
        await repo.claimStep(trx, runs, index, step.type, 'completed', null, now);
        await repo.exit(trx, ids, 'exit_step', now);
        return [];
      }
      default:
        return [];
    }
  }

  /** One pass: a locked batch of due runs, each taken one step further. */
  async function pass(now: Date): Promise<{ count: number; batches: Batch[] }> {
    return repo.transaction(async (trx) => {
      const due = await repo.lockDue(trx, now, BATCH_SIZE);
      if (due.length === 0) return { count: 0, batches: [] };
      const exited = new Set(
        (
          await repo.exitIneligible(
            trx,
            due.map((r) => r.id),
            now,
          )
        ).map((r) => r.id),
      );
      let live = due.filter((r) => !exited.has(r.id));

      // A wait_for_event whose time ran out (the event would have cleared waiting_for).
      const timedOut = live.filter((r) => r.waiting_for !== null);
      const exitOnTimeout = timedOut.filter((r) => {
        const step = r.steps[r.step_index - 1];
        return step?.type === 'wait_for_event' && step.on_timeout === 'exit';
      });
      await repo.closeWaiting(
        trx,
        timedOut.map((r) => r.id),
        'timed_out',
        now,
      );
      await repo.exit(
        trx,
        exitOnTimeout.map((r) => r.id),
        'wait_timed_out',
        now,
      );
      const ended = new Set(exitOnTimeout.map((r) => r.id));
      live = live.filter((r) => !ended.has(r.id));
      // A delay that is over.
      await repo.closeWaiting(
        trx,
        live.filter((r) => r.waiting_for === null && r.step_index > 0).map((r) => r.id),
        null,
        now,
      );

      const pending: PendingSend[] = [];
      // A run whose next step is due at once goes on in the same pass (a delay starts right after the send
      // before it, a send follows its condition), up to STEPS_PER_PASS steps: fewer passes, and timers
      // start when the step before them is done rather than when a later pass reaches them.
      let current = live;
      for (let round = 0; current.length > 0 && round < STEPS_PER_PASS; round += 1) {
        const groups = new Map<string, Group>();
        for (const run of current) {
          // Test and live runs never share a group: their mail goes different ways.
          const key = `${run.version_id}/${run.step_index}/${run.test}`;
          const group = groups.get(key) ?? { runs: [], index: run.step_index, step: run.steps[run.step_index] };
          group.runs.push(run);
          groups.set(key, group);
        }
        // Sends last in each round: a quota rollback to a send's savepoint undoes that send and whatever
        // came after it in the pass (those runs stay where they were, due, for a later pass).
        const ordered = [...groups.values()].sort((a, b) => Number(a.step?.type === 'send_email') - Number(b.step?.type === 'send_email'));
        const next: DueRun[] = [];
        for (const group of ordered) {
          // The automation's entry conditions are checked when the subscriber enters (before step 0).
          const conditions = group.runs[0]!.conditions as SegmentFilter | null;
          if (group.index === 0 && conditions) {
            const matched = await matching(trx, group.runs, conditions);
            const fail = group.runs.filter((r) => !matched?.has(r.subscriber_id));
            await repo.exit(
              trx,
              fail.map((r) => r.id),
              'conditions_not_met',
              now,
            );
            group.runs = group.runs.filter((r) => matched?.has(r.subscriber_id));
            if (group.runs.length === 0) continue;
          }
          const onward = new Set(await runGroup(trx, group, now, pending));
          for (const run of group.runs) if (onward.has(run.id)) next.push({ ...run, step_index: run.step_index + 1, waiting_for: null });
        }
        // Before a send the run is checked again (a step of this pass may have taken the subscriber off the topic).
        const beforeSend = next.filter((r) => r.steps[r.step_index]?.type === 'send_email').map((r) => r.id);
        const ended = new Set((await repo.exitIneligible(trx, beforeSend, now)).map((r) => r.id));
        current = next.filter((r) => !ended.has(r.id));
      }
      return { count: due.length, batches: await reserve(trx, pending, now) };
    });
  }

  /**
   * A delayed job for the next step due within the minute, so short delays do not wait for the cron
   * sweep. Its id names the second it is due, so every runner that sees the same timer adds one job.
   */
  async function wakeForNext(): Promise<void> {
    const now = deps.now();
    const next = await repo.nextDue(now);
    if (!next || next.getTime() - now.getTime() > WAKE_WITHIN_MS) return;
    const second = Math.ceil(next.getTime() / 1000);
    await producer.enqueueMany([{ name: 'automations.run', payload: { tick: `w${second}` }, delayMs: second * 1000 - now.getTime() }]);
  }

  /** Passes one after another until nothing is due, the job's time is up or the worker stops. */
  async function lane(started: number, signal: AbortSignal, onFull: () => Promise<void>): Promise<{ processed: number; end: 'drained' | 'time' | 'aborted' }> {
    let processed = 0;
    for (;;) {
      if (signal.aborted) return { processed, end: 'aborted' };
      const { count, batches } = await pass(deps.now());
      processed += count;
      if (batches.length > 0) {
        // A lost enqueue (Redis down after commit) is found by the email sweep by batch key: the messages are stored.
        await producer.enqueueMany(batches.map((payload) => ({ name: 'email.send-batch' as const, payload, priority: PRIORITY })));
      }
      // A step that is done makes the next one due at once (a send after a condition): passes go on
      // until nothing is due.
      if (count === 0) return { processed, end: 'drained' };
      if (count === BATCH_SIZE) await onFull();
      if (Date.now() - started > RUN_MS) return { processed, end: 'time' };
    }
  }

  /**
   * More is due than one batch: other runners join. Their ids name the second, so however many
   * runners see a full batch, each second adds at most FAN_OUT jobs, which any worker process takes
   * (SKIP LOCKED gives each its own runs) and which end when nothing is due.
   */
  let fannedOutAt = 0;
  async function fanOut(): Promise<void> {
    const second = Math.floor(Date.now() / 1000);
    if (second === fannedOutAt) return;
    fannedOutAt = second;
    await producer.enqueueMany(Array.from({ length: FAN_OUT }, (_, i) => ({ name: 'automations.run' as const, payload: { tick: `f${second}x${i}` } })));
  }

  const run: JobHandler<'automations.run'> = async ({ tick }, context) => {
    const started = Date.now();
    // Several passes at once: while one waits for PostgreSQL another renders.
    const lanes = await Promise.all(Array.from({ length: LANES }, () => lane(started, context.signal, fanOut)));
    const processed = lanes.reduce((sum, l) => sum + l.processed, 0);
    if (lanes.some((l) => l.end === 'aborted')) return context.giveBack();
    if (lanes.some((l) => l.end === 'time')) {
      // One job runs passes this long, then hands over to a fresh job (the cron sweep would find the rest too).
      await producer.enqueue('automations.run', { tick: `${tick.slice(0, 40)}_${processed}` });
      return { processed, continued: true };
    }
    await wakeForNext();
    return { processed };
  };

  return { 'automations.run': run };
}
