import type { Kysely } from 'kysely';
import type { DB } from '../../db/types.ts';
import type { JobContext, JobHandler } from '../../jobs/context.ts';
import type { JobProducer } from '../../jobs/producer.ts';
import { AppError } from '../../lib/errors.ts';
import { heldUntil } from '../../lib/sending-window.ts';
import { newId } from '../../lib/ids.ts';
import {
  batchJobKey,
  batchKeyFor,
  CAMPAIGN_EMAIL_PRIORITY,
  MAX_BATCH_SIZE,
  type CampaignRecipe,
  type EmailRepository,
  type EmailService,
  type UnrenderedMessage,
} from '../email/index.ts';
import { insertEvents } from '../events/index.ts';
import type { Entitlements } from '../entitlements/index.ts';
import type { CampaignRepository, CampaignRow, ClaimedRecipient } from './campaigns.repository.ts';
import { settingsOf, type CampaignService } from './campaigns.service.ts';

/** Recipients claimed per transaction (two provider batches). */
export const BATCH_SIZE = 2 * MAX_BATCH_SIZE;
// Claims one pump runs at once: rendering in Node overlaps the database's work on another batch.
const LANES = 3;
// Messages of one campaign allowed to wait for the provider at once. The pump stops claiming above it,
// so pause and cancel take effect on a bounded tail and a slow provider is not buried under a backlog.
const WINDOW = 600;
// One pump job runs this long, then hands over to its next step (a fresh job: locks and logs stay short).
const RUN_MS = 15_000;
const HEARTBEAT_MS = 2000;
// A sending campaign whose pump has not beaten for this long gets a new pump from the cron tick.
export const STALE_PUMP_SECONDS = 60;

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });

/** Why a claimed recipient gets nothing now (they left, bounced or were suppressed after the snapshot). */
function skipReason(recipient: ClaimedRecipient): string | null {
  if (recipient.email === null) return 'subscriber_deleted';
  if (recipient.suppressed) return 'suppressed';
  if (recipient.status !== 'active') return recipient.status === 'unsubscribed' ? 'unsubscribed' : (recipient.status ?? 'unknown');
  return null;
}

/** The next step's name: `<origin>_<n>` → `<origin>_<n+1>`, so a retried pump enqueues the same successor. */
export function nextStep(step: string): string {
  const at = step.lastIndexOf('_');
  const n = at >= 0 ? Number.parseInt(step.slice(at + 1), 10) : Number.NaN;
  return Number.isFinite(n) ? `${step.slice(0, at)}_${n + 1}` : `${step}_1`;
}

type Campaign = CampaignRow & { organization_id: string; content_id: string | null };
type Batch = { batch: string; message_ids: string[] };
type Claim = { state: 'stopped' } | { state: 'empty' } | { state: 'claimed'; last: string; batches: Batch[] };

// Thrown inside the transaction when another pump stored the campaign's content first.
class ContentTaken extends Error {}

/**
 * Splits a claim's messages (in id order) into provider batches and gives each message its batch's
 * idempotency key, derived from campaign, round and the batch's message ids.
 */
function intoBatches(messages: UnrenderedMessage[], campaignId: string, round: number): Batch[] {
  messages.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const batches: Batch[] = [];
  for (let at = 0; at < messages.length; at += MAX_BATCH_SIZE) {
    const chunk = messages.slice(at, at + MAX_BATCH_SIZE);
    const ids = chunk.map((m) => m.id);
    const key = batchKeyFor(campaignId, round, ids);
    for (const message of chunk) message.batch_key = key;
    batches.push({ batch: batchJobKey(key), message_ids: ids });
  }
  return batches;
}

/**
 * The campaign pump. Each pass claims the next batch of queued recipients in one transaction: the
 * campaign row is read FOR SHARE (a cancel or pause waits for the pass and is seen by the next), the
 * recipients are locked SKIP LOCKED (a second pump takes other rows), their messages are rendered and
 * inserted, the ledger records each message id, and the month's usage is reserved for the batch. After
 * commit the email.send jobs are enqueued with the message ids as job ids; the existing send path (its
 * suppression re-check, rate gate and provider idempotency key) does the rest. A killed pump loses only
 * an uncommitted pass; the next one continues from the ledger.
 */
export function createCampaignJobs(deps: {
  db: Kysely<DB>;
  campaignRepository: CampaignRepository;
  campaigns: Pick<CampaignService, 'audience' | 'abTest' | 'chooseWinner'>;
  emails: Pick<EmailService, 'campaignRecipe' | 'campaignBatchComposer'>;
  emailRepository: Pick<EmailRepository, 'insertMessages' | 'insertContent' | 'contentRecipe'>;
  entitlements: Pick<Entitlements, 'reserveEmails'>;
  producer: JobProducer;
  now: () => Date;
}) {
  const { db, campaignRepository: repo, producer } = deps;

  async function fail(campaign: Campaign, error: AppError): Promise<string> {
    await db.transaction().execute(async (trx) => {
      await repo.setState(trx, campaign.id, { status: 'failed', last_error: `${error.code}: ${error.message}`, completed_at: new Date() });
      await insertEvents(trx, campaign.organization_id, [
        {
          type: 'campaign.failed',
          subjectId: campaign.id,
          payload: { campaign: { id: campaign.id, name: campaign.name }, error: { code: error.code, message: error.message } },
        },
      ]);
    });
    return 'failed';
  }

  async function claim(
    campaign: Campaign,
    compose: (recipient: ClaimedRecipient, winner: number | null) => Promise<UnrenderedMessage>,
    after: string | null,
  ): Promise<Claim> {
    return db.transaction().execute(async (trx): Promise<Claim> => {
      const locked = await repo.lockForWorker(trx, campaign.id, 'share');
      if (locked?.status !== 'sending' || locked.round !== campaign.round) return { state: 'stopped' };
      const claimed = await repo.claimNext(trx, campaign.id, after, BATCH_SIZE);
      if (claimed.length === 0) return { state: 'empty' };
      const messages: UnrenderedMessage[] = [];
      const skipped: { subscriberId: string; reason: string }[] = [];
      for (const recipient of claimed) {
        const reason = skipReason(recipient);
        if (reason) {
          skipped.push({ subscriberId: recipient.id, reason });
          continue;
        }
        try {
          // The rest of an A/B test gets the winner, read from the row this claim holds FOR SHARE.
          messages.push(await compose(recipient, locked.ab_winner));
        } catch (error) {
          // One subscriber's data that the template cannot render (a missing variable) skips that one.
          if (!(error instanceof AppError)) throw error;
          skipped.push({ subscriberId: recipient.id, reason: error.code });
        }
      }
      const batches = intoBatches(messages, campaign.id, campaign.round);
      await deps.emailRepository.insertMessages(trx, campaign.organization_id, messages);
      await repo.markClaimed(
        trx,
        campaign.id,
        messages.map((m) => ({ subscriberId: m.subscriber_id!, messageId: m.id })),
        skipped,
      );
      // Reserved last, so the organization's row is locked for one round trip.
      await deps.entitlements.reserveEmails(trx, campaign.organization_id, messages.length);
      return { state: 'claimed', last: claimed.at(-1)!.id, batches };
    });
  }

  /** Marks the campaign sent once no recipient is queued or in flight; false while some are. */
  async function finish(campaign: Campaign): Promise<boolean> {
    return db.transaction().execute(async (trx) => {
      const locked = await repo.lockForWorker(trx, campaign.id, 'update');
      if (locked?.status !== 'sending' || locked.round !== campaign.round) return true;
      await repo.settle(trx, campaign.id);
      if (await repo.unfinished(trx, campaign.id)) return false;
      if (locked.ab_state === 'testing' || locked.ab_state === 'waiting') {
        // The variants are out; the rest is held until the winner is chosen (no pump runs meanwhile).
        await repo.setAbState(trx, campaign.id, { ab_state: 'waiting', heartbeat_at: null });
        return true;
      }
      await repo.setState(trx, campaign.id, { status: 'sent', completed_at: new Date(), heartbeat_at: null });
      const counts = await repo.finalCounts(trx, campaign.id);
      await insertEvents(trx, campaign.organization_id, [
        {
          type: 'campaign.completed',
          subjectId: campaign.id,
          payload: {
            campaign: { id: campaign.id, name: campaign.name },
            targeted: counts.total,
            sent: counts.sent,
            failed: counts.failed,
            skipped: counts.skipped,
          },
        },
      ]);
      return true;
    });
  }

  /**
   * What the campaign's emails are rendered from: frozen (template, footer data, sender) by its first
   * pump, so every email and every retry of a batch renders from the same data.
   */
  async function content(campaign: Campaign, variant?: number): Promise<{ id: string; recipe: CampaignRecipe }> {
    if (variant !== undefined) return variantContent(campaign, variant);
    if (campaign.content_id) {
      const recipe = (await deps.emailRepository.contentRecipe(campaign.content_id)) as CampaignRecipe | undefined;
      if (recipe) return { id: campaign.content_id, recipe };
    }
    const recipe = await deps.emails.campaignRecipe(campaign.organization_id, settingsOf(campaign));
    const id = newId();
    try {
      await db.transaction().execute(async (trx) => {
        await deps.emailRepository.insertContent(trx, campaign.organization_id, id, recipe);
        if (!(await repo.setContent(trx, campaign.id, id))) throw new ContentTaken();
      });
    } catch (error) {
      if (!(error instanceof ContentTaken)) throw error;
      const current = await repo.findForWorker(campaign.id);
      if (!current?.content_id) throw error;
      return content(current);
    }
    return { id, recipe };
  }

  /** The same for one A/B variant: its settings over the campaign's, frozen by the first pump that needs it. */
  async function variantContent(campaign: Campaign, variant: number): Promise<{ id: string; recipe: CampaignRecipe }> {
    const stored = await repo.variantContent(campaign.id, variant);
    if (stored) {
      const recipe = (await deps.emailRepository.contentRecipe(stored)) as CampaignRecipe | undefined;
      if (recipe) return { id: stored, recipe };
    }
    const recipe = await deps.emails.campaignRecipe(campaign.organization_id, settingsOf(campaign, variant));
    const id = newId();
    try {
      await db.transaction().execute(async (trx) => {
        await deps.emailRepository.insertContent(trx, campaign.organization_id, id, recipe);
        if (!(await repo.setVariantContent(trx, campaign.organization_id, campaign.id, variant, id))) throw new ContentTaken();
      });
    } catch (error) {
      if (!(error instanceof ContentTaken)) throw error;
      return variantContent(campaign, variant);
    }
    return { id, recipe };
  }

  async function pumpFor(campaign: Campaign, step: string, context: JobContext): Promise<string> {
    // Outside the organization's sending window the pump stops and says when it goes on; the cron tick
    // starts a new pump then. Messages already handed to the email queue still go out.
    const { timezone, sending_window: window } = await repo.sendingWindow(campaign.organization_id);
    const until = heldUntil(window, timezone, new Date());
    if (until || campaign.resumes_at) await repo.hold(campaign.id, campaign.round, until);
    if (until) return 'held';
    // A campaign without an A/B test has one composer; a test has one per variant (index = variant).
    const composers: ReturnType<EmailService['campaignBatchComposer']>[] = [];
    try {
      const variants = campaign.ab_test ? [...campaign.ab_test.variants.keys()] : [undefined];
      for (const variant of variants) {
        const { id: contentId, recipe } = await content(campaign, variant);
        composers.push(deps.emails.campaignBatchComposer(contentId, recipe));
      }
    } catch (error) {
      // The template was deleted or the postal address removed since scheduling: stop with the reason.
      if (error instanceof AppError && error.status < 500) return fail(campaign, error);
      throw error;
    }
    const compose = (recipient: ClaimedRecipient, winner: number | null) =>
      composers[campaign.ab_test ? (recipient.variant ?? winner ?? 0) : 0]!.compose(
        {
          id: recipient.id,
          email: recipient.email!,
          status: recipient.status!,
          first_name: recipient.first_name,
          last_name: recipient.last_name,
          metadata: recipient.metadata,
          locale: recipient.locale,
        },
        campaign.round,
      );
    const deadline = Date.now() + RUN_MS;
    let beat = 0;
    // Shared by the lanes: the highest subscriber id claimed so far. A lane that finds rows locked by
    // another lane skips them (they are being claimed); a rolled-back claim is found by the final sweep.
    let after: string | null = null;
    let outcome: string | null = null;
    const running = () => outcome === null && Date.now() < deadline && !context.signal.aborted;

    async function lane(): Promise<void> {
      while (running()) {
        if (Date.now() - beat > HEARTBEAT_MS) {
          beat = Date.now();
          await repo.heartbeat(campaign.id);
        }
        if ((await repo.backlog(campaign.id, WINDOW)) >= WINDOW) {
          await sleep(50, context.signal);
          continue;
        }
        const from = after;
        let claimed: Claim;
        try {
          claimed = await claim(campaign, compose, from);
        } catch (error) {
          if (!(error instanceof AppError) || error.code !== 'plan_limit_exceeded') throw error;
          // The month's quota ran out since the campaign was checked: pause, saying why, instead of failing.
          await db.transaction().execute((trx) => repo.setState(trx, campaign.id, { status: 'paused', last_error: error.message }));
          outcome ??= 'paused';
          return;
        }
        if (claimed.state === 'stopped') {
          outcome ??= 'stopped';
          return;
        }
        if (claimed.state === 'empty') {
          // Rows passed over while another lane or pump held them: look once more from the start.
          if (from !== null) {
            if (after === from) after = null;
            continue;
          }
          if (!(await repo.hasQueued(campaign.id)) && (await finish(campaign))) {
            outcome ??= 'finished';
            return;
          }
          await sleep(200, context.signal);
          continue;
        }
        if (after === null || claimed.last > after) after = claimed.last;
        if (claimed.batches.length > 0) {
          // A lost enqueue (Redis down after commit) is found by the email sweep: the messages are stored.
          await producer.enqueueMany(claimed.batches.map((payload) => ({ name: 'email.send-batch' as const, payload, priority: CAMPAIGN_EMAIL_PRIORITY })));
        }
      }
    }

    await Promise.all(Array.from({ length: LANES }, lane));
    if (outcome) return outcome;
    await producer.enqueue('campaign.pump', { campaign_id: campaign.id, round: campaign.round, step: nextStep(step) });
    return 'continued';
  }

  const pump: JobHandler<'campaign.pump'> = async ({ campaign_id: id, round, step }, context) => {
    const campaign = await repo.findForWorker(id);
    if (campaign?.status !== 'sending' || campaign.round !== round) return 'stopped';
    return pumpFor(campaign, step, context);
  };

  /** Freezes the audience of a due campaign into the ledger (one statement) and starts its pump. */
  const start: JobHandler<'campaign.start'> = async ({ campaign_id: id }) => {
    const campaign = await repo.findForWorker(id);
    if (!campaign) return 'missing';
    if (campaign.status === 'sending') {
      await producer.enqueue('campaign.pump', { campaign_id: id, round: campaign.round, step: 's_0' });
      return 'already_started';
    }
    if (campaign.status !== 'scheduled' || (campaign.scheduled_at && campaign.scheduled_at.getTime() > Date.now())) return 'not_due';
    let predicate;
    try {
      ({ predicate } = await deps.campaigns.audience(campaign.organization_id, campaign));
    } catch (error) {
      if (error instanceof AppError && error.status < 500) return fail(campaign, error);
      throw error;
    }
    const round = await db.transaction().execute(async (trx) => {
      const locked = await repo.lockForWorker(trx, id, 'update');
      if (locked?.status !== 'scheduled') return null;
      const test = locked.ab_test;
      let targeted: number;
      if (test) {
        ({ targeted } = await repo.snapshotSplit(trx, campaign.organization_id, id, predicate, { share: test.test_share, variants: test.variants.length }));
        // The durable timer: the cron tick finds the decision once this moment has passed.
        await repo.setAbState(trx, id, { ab_state: 'testing', ab_decide_at: new Date(deps.now().getTime() + test.wait_hours * 3_600_000) });
      } else {
        targeted = await repo.snapshot(trx, campaign.organization_id, id, predicate);
      }
      await repo.setState(trx, id, { status: 'sending', targeted_count: targeted, started_at: new Date(), round: locked.round + 1, heartbeat_at: new Date() });
      await insertEvents(trx, campaign.organization_id, [
        { type: 'campaign.started', subjectId: id, payload: { campaign: { id, name: campaign.name }, targeted } },
      ]);
      return locked.round + 1;
    });
    if (round === null) return 'not_scheduled';
    await producer.enqueue('campaign.pump', { campaign_id: id, round, step: 's_0' });
    return 'started';
  };

  /** Only finds work and enqueues it: due campaigns' start, and a new pump where the old one went quiet. */
  const tick: JobHandler<'campaigns.tick'> = async ({ tick: at }) => {
    const { due, stalled, held } = await repo.dueWork(STALE_PUMP_SECONDS, 500);
    const reopened = held.filter((c) => heldUntil(c.sending_window, c.timezone, new Date()) === null);
    const decisions = await repo.dueDecisions(deps.now(), 500);
    await producer.enqueueMany([
      ...decisions.map((id) => ({ name: 'campaign.ab-decide' as const, payload: { campaign_id: id, tick: at } })),
      ...due.map((id) => ({ name: 'campaign.start' as const, payload: { campaign_id: id, tick: at } })),
      ...[...stalled, ...reopened].map((c) => ({ name: 'campaign.pump' as const, payload: { campaign_id: c.id, round: c.round, step: `${at}_0` } })),
    ]);
    return { started: due.length, restarted: stalled.length + reopened.length, decided: decisions.length };
  };

  /**
   * An A/B test's automatic winner, once its time has come: the variant with the most human unique
   * clicks or opens per email sent (ties: the lowest index). Two workers may run it; the campaign row's
   * lock in chooseWinner lets one decide and the other find it decided.
   */
  const decide: JobHandler<'campaign.ab-decide'> = async ({ campaign_id: id }) => {
    const campaign = await repo.findForWorker(id);
    if (!campaign?.ab_test || campaign.ab_test.winner !== 'auto' || campaign.status !== 'sending') return 'not_applicable';
    if (campaign.ab_state !== 'testing' && campaign.ab_state !== 'waiting') return 'decided';
    if (!campaign.ab_decide_at || campaign.ab_decide_at.getTime() > deps.now().getTime()) return 'not_due';
    const results = await deps.campaigns.abTest(campaign.organization_id, id);
    const winner = results.leader ?? 0;
    try {
      await deps.campaigns.chooseWinner(campaign.organization_id, id, winner, 'auto');
    } catch (error) {
      // Chosen meanwhile (an admin, or another worker), or the campaign stopped: nothing left to do.
      if (error instanceof AppError && error.status === 409) return 'decided';
      throw error;
    }
    return { winner };
  };

  return { 'campaign.start': start, 'campaign.pump': pump, 'campaigns.tick': tick, 'campaign.ab-decide': decide };
}
