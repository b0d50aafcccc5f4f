import type { Kysely, RawBuilder, SqlBool } from 'kysely';
import type { DB } from '../../db/types.ts';
import { conflict, notFound, unprocessable } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { decodeCursor, encodeCursor, toPage } from '../../lib/pagination.ts';
import type { JobProducer } from '../../jobs/producer.ts';
import type { CampaignSettings, EmailRepository, EmailService } from '../email/index.ts';
import type { Entitlements } from '../entitlements/index.ts';
import type { SegmentService } from '../segments/index.ts';
import type {
  AbTest,
  AbVariant,
  CampaignFields,
  CampaignRepository,
  CampaignRow,
  CampaignStatus,
  RecipientStatus,
  VariantCounts,
} from './campaigns.repository.ts';

/** The compact form of a moment, usable in a job id (no ':'). */
export const startTick = (date: Date): string =>
  date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');

/** A campaign's delivery settings for the email engine; with `variant`, that A/B variant's. */
export const settingsOf = (
  campaign: Pick<CampaignRow, 'id' | 'template_id' | 'subject' | 'preheader' | 'from_name' | 'reply_to' | 'tracking'> & Partial<Pick<CampaignRow, 'ab_test'>>,
  variant?: number,
): CampaignSettings => {
  const base = {
    id: campaign.id,
    templateId: campaign.template_id!,
    subject: campaign.subject,
    preheader: campaign.preheader,
    fromName: campaign.from_name,
    replyTo: campaign.reply_to,
    tracking: campaign.tracking,
  };
  const changes = variant === undefined ? undefined : campaign.ab_test?.variants[variant];
  if (variant === undefined || !changes) return base;
  return {
    ...base,
    templateId: changes.template_id ?? base.templateId,
    subject: changes.subject ?? base.subject,
    preheader: changes.preheader ?? base.preheader,
    fromName: changes.from_name ?? base.fromName,
    variant,
  };
};

/** What a variant sends: its own values over the campaign's (what makes two variants the same). */
const effectiveVariant = (campaign: Pick<CampaignRow, 'template_id' | 'subject' | 'from_name' | 'preheader'>, v: AbVariant) => ({
  template_id: v.template_id ?? campaign.template_id,
  subject: v.subject ?? campaign.subject,
  from_name: v.from_name ?? campaign.from_name,
  preheader: v.preheader ?? campaign.preheader,
});

/**
 * The variant the metric favours: the highest human unique count per email sent (compared exactly, as
 * cross products); ties go to the lowest index. Machine opens and clicks never count.
 */
export function leadingVariant(metric: AbTest['metric'], counts: readonly VariantCounts[]): number | null {
  const value = (c: VariantCounts) => (metric === 'human_unique_clicks' ? c.human_unique_clicks : c.human_unique_opens);
  let best: VariantCounts | null = null;
  for (const c of [...counts].sort((a, b) => a.variant - b.variant)) {
    if (c.sent === 0) continue;
    if (!best || value(c) * best.sent > value(best) * c.sent) best = c;
  }
  return best ? best.variant : counts.length > 0 ? Math.min(...counts.map((c) => c.variant)) : null;
}

// Thrown inside a transaction to roll back a quota reservation that only checked the quota.
class DryRun extends Error {}

const EDITABLE: readonly CampaignStatus[] = ['draft', 'scheduled'];
// The subscriber id test emails are rendered for: no subscriber has it.
const SAMPLE_ID = '00000000-0000-7000-8000-000000000000';

/**
 * Campaign rules: the state machine (draft → scheduled → sending ⇄ paused → sent | cancelled | failed),
 * the audience (a tag filter or a segment, both compiled by the segments module), and the checks made
 * before anything is sent (template, postal address, audience, quota), so a campaign that cannot go out
 * is refused now rather than failing half way.
 */
export function createCampaignService(deps: {
  db: Kysely<DB>;
  campaignRepository: CampaignRepository;
  segments: Pick<SegmentService, 'compile' | 'predicate' | 'tagIds'>;
  emails: Pick<EmailService, 'campaignComposer' | 'campaignRecipe'>;
  emailRepository: Pick<EmailRepository, 'insertMessages'>;
  entitlements: Pick<Entitlements, 'reserveEmails'>;
  producer: JobProducer;
  now: () => Date;
}) {
  const { db, campaignRepository: repo, segments } = deps;

  /** An A/B test's variants must differ from each other in what they send (template, subject, sender or preheader). */
  function assertAbTestValid(campaign: Pick<CampaignRow, 'template_id' | 'subject' | 'from_name' | 'preheader' | 'ab_test'>): void {
    const test = campaign.ab_test;
    if (!test) return;
    const seen = new Map<string, number>();
    for (const [index, variant] of test.variants.entries()) {
      const key = JSON.stringify(effectiveVariant(campaign, variant));
      const same = seen.get(key);
      if (same !== undefined) {
        throw unprocessable(
          'ab_variants_identical',
          `Variants ${same + 1} and ${index + 1} are the same: change the subject, sender name, template or preheader of one`,
          [{ field: `ab_test.variants.${index}`, message: `is the same as variant ${same + 1}` }],
        );
      }
      seen.set(key, index);
    }
  }

  async function get(organizationId: string, id: string): Promise<CampaignRow> {
    const campaign = await repo.find(organizationId, id);
    if (!campaign) throw notFound('campaign');
    return campaign;
  }

  /** The audience predicate and the topics it targets (for the "left the topic" count). */
  async function audience(
    organizationId: string,
    campaign: Pick<CampaignRow, 'segment_id' | 'tag_filter'>,
  ): Promise<{ predicate: RawBuilder<SqlBool>; topicTags: string[]; counterTag?: string }> {
    if (campaign.segment_id) return { predicate: await segments.predicate(organizationId, campaign.segment_id), topicTags: [] };
    const filter = campaign.tag_filter;
    if (!filter || filter.include_tags.length === 0)
      throw unprocessable('audience_required', 'Choose the audience: a tag filter with at least one tag, or a segment', [
        { field: 'tag_filter', message: 'is empty' },
      ]);
    const match = filter.match ?? 'any';
    const conditions = [
      { field: 'tags', op: match, value: filter.include_tags },
      ...(filter.exclude_tags?.length ? [{ field: 'tags', op: 'none' as const, value: filter.exclude_tags }] : []),
    ];
    const predicate = await segments.compile(organizationId, { match: 'all', conditions });
    const topicTags = await segments.tagIds(organizationId, filter.include_tags);
    // One topic and no exclusions: the counters answer the count (campaigns.repository.ts, topicAudienceCountQuery).
    const counterTag = topicTags.length === 1 && !filter.exclude_tags?.length ? topicTags[0] : undefined;
    return { predicate, topicTags, ...(counterTag ? { counterTag } : {}) };
  }

  async function assertAudienceValid(organizationId: string, fields: Pick<CampaignRow, 'segment_id' | 'tag_filter'>): Promise<void> {
    if (fields.segment_id) await segments.predicate(organizationId, fields.segment_id);
    else if (fields.tag_filter && fields.tag_filter.include_tags.length > 0) await audience(organizationId, fields);
  }

  async function transition(
    organizationId: string,
    id: string,
    from: readonly CampaignStatus[],
    changes: Parameters<CampaignRepository['update']>[3],
    action: string,
  ): Promise<CampaignRow> {
    const updated = await repo.update(organizationId, id, from, changes);
    if (updated) return updated;
    const current = await get(organizationId, id);
    throw conflict('campaign_invalid_state', `A ${current.status} campaign cannot be ${action}`, [{ field: 'status', message: `is ${current.status}` }]);
  }

  /** The A/B test's results per variant, its state and its winner. */
  async function abTest(organizationId: string, id: string) {
    const campaign = await get(organizationId, id);
    const test = campaign.ab_test;
    if (!test) throw notFound('A/B test');
    const counts = campaign.ab_state ? await repo.variantCounts(organizationId, id) : [];
    const held = campaign.ab_state ? (await repo.progress(organizationId, id)).held : 0;
    const byVariant = new Map(counts.map((c) => [c.variant, c]));
    const variants = test.variants.map((v, index) => {
      const c = byVariant.get(index) ?? {
        variant: index,
        recipients: 0,
        sent: 0,
        delivered: 0,
        human_unique_opens: 0,
        machine_unique_opens: 0,
        human_unique_clicks: 0,
        machine_unique_clicks: 0,
      };
      const effective = effectiveVariant(campaign, v);
      return {
        ...c,
        ...effective,
        human_open_rate: c.sent > 0 ? Math.min(1, c.human_unique_opens / c.sent) : 0,
        human_click_rate: c.sent > 0 ? Math.min(1, c.human_unique_clicks / c.sent) : 0,
      };
    });
    const tested = counts.reduce((sum, c) => sum + c.recipients, 0);
    return {
      state: campaign.ab_state ?? ('not_started' as const),
      metric: test.metric,
      winner_mode: test.winner,
      decide_at: campaign.ab_decide_at,
      winner: campaign.ab_winner,
      winner_chosen_at: campaign.ab_winner_at,
      winner_chosen_by: campaign.ab_winner_how,
      leader: counts.some((c) => c.sent > 0) ? leadingVariant(test.metric, counts) : null,
      variants,
      rest: { recipients: Math.max(0, campaign.targeted_count - tested), held },
    };
  }

  return {
    get,
    audience,

    async list(organizationId: string, query: { limit?: number; cursor?: string; status?: CampaignStatus }) {
      const limit = query.limit ?? 50;
      return toPage(await repo.list(organizationId, { limit, beforeId: decodeCursor(query.cursor), status: query.status }), limit);
    },

    async create(organizationId: string, input: CampaignFields) {
      assertAbTestValid({ ...input, ab_test: input.ab_test ?? null });
      await assertAudienceValid(organizationId, input);
      return repo.insert(organizationId, newId(), input);
    },

    async update(organizationId: string, id: string, input: Partial<CampaignFields>) {
      const current = await get(organizationId, id);
      const next = { ...current, ...input };
      // Choosing a segment replaces the tag filter and the other way round.
      if (input.segment_id) next.tag_filter = null;
      if (input.tag_filter) next.segment_id = null;
      assertAbTestValid(next);
      await assertAudienceValid(organizationId, next);
      return transition(organizationId, id, EDITABLE, { ...input, segment_id: next.segment_id, tag_filter: next.tag_filter }, 'changed');
    },

    async remove(organizationId: string, id: string): Promise<void> {
      if (await repo.remove(organizationId, id, EDITABLE)) return;
      const current = await get(organizationId, id);
      throw conflict('campaign_invalid_state', `A ${current.status} campaign cannot be deleted`, [{ field: 'status', message: `is ${current.status}` }]);
    },

    async recipientCount(organizationId: string, id: string) {
      const campaign = await get(organizationId, id);
      const { predicate, topicTags, counterTag } = await audience(organizationId, campaign);
      return repo.audienceCount(organizationId, predicate, topicTags, counterTag ? { counterTag } : {});
    },

    /**
     * Schedules the campaign (now or later) after every check that can fail: template and footer, the
     * audience, and the month's quota for the whole audience (402 naming both numbers).
     */
    async send(organizationId: string, id: string, input: { scheduled_at?: string }) {
      const campaign = await get(organizationId, id);
      if (!EDITABLE.includes(campaign.status))
        throw conflict('campaign_invalid_state', `A ${campaign.status} campaign cannot be sent`, [{ field: 'status', message: `is ${campaign.status}` }]);
      const at = input.scheduled_at ? new Date(input.scheduled_at) : new Date();
      if (input.scheduled_at && at.getTime() < Date.now() - 1000)
        throw unprocessable('scheduled_in_past', 'scheduled_at is in the past', [{ field: 'scheduled_at', message: 'must be in the future' }]);
      if (!campaign.template_id) throw unprocessable('template_required', 'Choose the template first', [{ field: 'template_id', message: 'is not set' }]);
      await deps.emails.campaignComposer(organizationId, settingsOf(campaign));
      // Each A/B variant's template, subject and sender are checked like the campaign's own.
      for (const index of campaign.ab_test?.variants.keys() ?? []) await deps.emails.campaignComposer(organizationId, settingsOf(campaign, index));
      assertAbTestValid(campaign);
      if (campaign.ab_test?.winner === 'auto') {
        // The winner is counted from each email's human opens or clicks: without tracking, or in privacy mode
        // (no per-email numbers), every variant would count zero and the first would win by default.
        const recipe = await deps.emails.campaignRecipe(organizationId, settingsOf(campaign));
        if (!recipe.tracked || recipe.organization.tracking_privacy) {
          throw unprocessable(
            'ab_test_needs_tracking',
            recipe.tracked
              ? 'Privacy mode keeps no per-email opens or clicks, so the A/B test cannot pick its winner itself: choose the winner by hand (winner "manual")'
              : 'Open and click tracking is off (for this campaign or in the organization\'s settings), so the A/B test cannot pick its winner itself: turn tracking on, or choose the winner by hand (winner "manual")',
            [{ field: 'ab_test.winner', message: 'needs per-email open and click tracking' }],
          );
        }
      }
      const { predicate, topicTags } = await audience(organizationId, campaign);
      const { count } = await repo.audienceCount(organizationId, predicate, topicTags);
      if (count === 0) throw unprocessable('audience_empty', 'No active subscriber matches the audience', [{ field: 'audience', message: 'matches nobody' }]);
      const test = campaign.ab_test;
      if (test && Math.round((count * test.test_share) / 100) < test.variants.length) {
        throw unprocessable(
          'ab_test_share_too_small',
          `A test share of ${test.test_share} % of ${count} recipients is too few for ${test.variants.length} variants: raise the share or drop the A/B test`,
          [{ field: 'ab_test.test_share', message: 'gives fewer recipients than variants' }],
        );
      }
      try {
        await db.transaction().execute(async (trx) => {
          await deps.entitlements.reserveEmails(trx, organizationId, count);
          throw new DryRun();
        });
      } catch (error) {
        if (!(error instanceof DryRun)) throw error;
      }
      const scheduled = await transition(organizationId, id, EDITABLE, { status: 'scheduled', scheduled_at: at }, 'sent');
      const delayMs = Math.max(0, at.getTime() - Date.now());
      await deps.producer.enqueue('campaign.start', { campaign_id: id, tick: startTick(at) }, delayMs > 0 ? { delayMs } : {});
      return scheduled;
    },

    /**
     * Sends the campaign's email as one subscriber would get it (the newest active one, or a sample) to up
     * to five addresses, through the normal send path. Not part of the campaign: no ledger row, no stats.
     */
    async test(organizationId: string, id: string, emails: readonly string[]) {
      const campaign = await get(organizationId, id);
      if (!campaign.template_id) throw unprocessable('template_required', 'Choose the template first', [{ field: 'template_id', message: 'is not set' }]);
      // A test email is not the campaign's: its opens and clicks must not count in the campaign's numbers.
      const composer = await deps.emails.campaignComposer(organizationId, { ...settingsOf(campaign), tracking: false });
      const sample = (await repo.sampleRecipient(organizationId)) ?? {
        id: SAMPLE_ID,
        email: 'subscriber@example.com',
        status: 'active',
        first_name: 'Ada',
        last_name: 'Example',
        metadata: {},
        locale: null,
      };
      // The links name a subscriber that does not exist, so a tester's click unsubscribes nobody.
      const messages = await Promise.all(
        emails.map(async (to) => ({
          ...(await composer.compose({ ...sample, id: SAMPLE_ID }, 0)),
          to_address: to,
          subscriber_id: null,
          campaign_id: null,
          idempotency_key: null,
        })),
      );
      await db.transaction().execute(async (trx) => {
        await deps.emailRepository.insertMessages(trx, organizationId, messages);
        await deps.entitlements.reserveEmails(trx, organizationId, messages.length);
      });
      await deps.producer.enqueueMany(messages.map((m) => ({ name: 'email.send' as const, payload: { message_id: m.id } })));
      return { sent: messages.length };
    },

    async pause(organizationId: string, id: string) {
      return transition(organizationId, id, ['sending'], { status: 'paused' }, 'paused');
    },

    /** Sending again from where it stopped: a new round, so pumps of the old one stop for good. */
    async resume(organizationId: string, id: string) {
      const campaign = await get(organizationId, id);
      const resumed = await transition(organizationId, id, ['paused'], { status: 'sending', round: campaign.round + 1, heartbeat_at: new Date() }, 'resumed');
      await deps.producer.enqueue('campaign.pump', { campaign_id: id, round: resumed.round, step: 's_0' });
      return resumed;
    },

    async cancel(organizationId: string, id: string) {
      await db.transaction().execute(async (trx) => {
        const locked = await repo.lockForWorker(trx, id, 'update');
        if (!locked || locked.organization_id !== organizationId) throw notFound('campaign');
        if (!['scheduled', 'sending', 'paused'].includes(locked.status)) {
          throw conflict('campaign_invalid_state', `A ${locked.status} campaign cannot be cancelled`, [{ field: 'status', message: `is ${locked.status}` }]);
        }
        await repo.setState(trx, id, { status: 'cancelled', cancelled_at: new Date() });
        await repo.cancelUnsent(trx, organizationId, id);
      });
      return get(organizationId, id);
    },

    async duplicate(organizationId: string, id: string) {
      const source = await get(organizationId, id);
      return repo.insert(organizationId, newId(), {
        name: `${source.name} (copy)`.slice(0, 200),
        template_id: source.template_id,
        segment_id: source.segment_id,
        tag_filter: source.tag_filter,
        subject: source.subject,
        preheader: source.preheader,
        from_name: source.from_name,
        reply_to: source.reply_to,
        tracking: source.tracking,
        ab_test: source.ab_test,
      });
    },

    /**
     * Chooses the A/B test's winner (an admin's choice, or the timer's): the held rest is queued in one
     * statement and gets the winner's content. Once per campaign: the row is locked and the state checked.
     */
    async chooseWinner(organizationId: string, id: string, variant: number, how: 'auto' | 'manual') {
      const round = await db.transaction().execute(async (trx) => {
        const locked = await repo.lockForWorker(trx, id, 'update');
        if (!locked || locked.organization_id !== organizationId) throw notFound('campaign');
        if (!locked.ab_test) throw conflict('ab_test_missing', 'This campaign has no A/B test', [{ field: 'ab_test', message: 'is not set' }]);
        if (locked.ab_state === 'decided') {
          throw conflict('ab_winner_chosen', `The winner was already chosen: variant ${(locked.ab_winner ?? 0) + 1}`, [
            { field: 'variant', message: 'already chosen' },
          ]);
        }
        if (locked.ab_state === null || !['sending', 'paused'].includes(locked.status)) {
          throw conflict('campaign_invalid_state', `A winner can be chosen while the campaign is sending or paused; it is ${locked.status}`, [
            { field: 'status', message: `is ${locked.status}` },
          ]);
        }
        if (variant >= locked.ab_test.variants.length) {
          throw unprocessable('ab_variant_unknown', `There is no variant ${variant + 1}: the test has ${locked.ab_test.variants.length}`, [
            { field: 'variant', message: 'is not a variant of the test' },
          ]);
        }
        await repo.releaseHeld(trx, id);
        const now = deps.now();
        await repo.setAbState(trx, id, { ab_state: 'decided', ab_winner: variant, ab_winner_at: now, ab_winner_how: how, heartbeat_at: now });
        return locked.status === 'sending' ? locked.round : null;
      });
      // A paused campaign sends the rest when it is resumed.
      if (round !== null) await deps.producer.enqueue('campaign.pump', { campaign_id: id, round, step: `w_0` });
      return abTest(organizationId, id);
    },

    abTest,

    /** Sends again to the recipients whose email failed (never to one the provider accepted). */
    async retry(organizationId: string, id: string) {
      const result = await db.transaction().execute(async (trx) => {
        const locked = await repo.lockForWorker(trx, id, 'update');
        if (!locked || locked.organization_id !== organizationId) throw notFound('campaign');
        if (!['sent', 'failed'].includes(locked.status)) {
          throw conflict('campaign_invalid_state', `A ${locked.status} campaign cannot be retried`, [{ field: 'status', message: `is ${locked.status}` }]);
        }
        const requeued = await repo.requeueFailed(trx, id);
        if (requeued === 0) return { requeued, round: locked.round };
        await repo.setState(trx, id, { status: 'sending', round: locked.round + 1, completed_at: null, heartbeat_at: new Date(), last_error: null });
        return { requeued, round: locked.round + 1 };
      });
      if (result.requeued > 0) await deps.producer.enqueue('campaign.pump', { campaign_id: id, round: result.round, step: 's_0' });
      return { requeued: result.requeued, campaign: await get(organizationId, id) };
    },

    async progress(organizationId: string, id: string) {
      const campaign = await get(organizationId, id);
      const counts = await repo.progress(organizationId, id);
      return {
        status: campaign.status,
        targeted: campaign.targeted_count,
        ...counts,
        last_error: campaign.last_error,
        resumes_at: campaign.status === 'sending' ? campaign.resumes_at : null,
      };
    },

    async stats(organizationId: string, id: string) {
      const campaign = await get(organizationId, id);
      const [counts, outcomes, skipped] = await Promise.all([
        repo.progress(organizationId, id),
        repo.outcomes(organizationId, id),
        repo.skippedReasons(organizationId, id),
      ]);
      return { targeted: campaign.targeted_count, ...counts, ...outcomes, skipped_by_reason: skipped };
    },

    async recipients(organizationId: string, id: string, query: { limit?: number; cursor?: string; status?: RecipientStatus }) {
      await get(organizationId, id);
      const limit = query.limit ?? 50;
      const rows = await repo.recipients(organizationId, id, { limit, afterId: decodeCursor(query.cursor), status: query.status });
      const items = rows.slice(0, limit);
      const last = items.at(-1);
      return { items, next_cursor: rows.length > limit && last ? encodeCursor(last.subscriber_id) : null };
    },
  };
}

export type CampaignService = ReturnType<typeof createCampaignService>;
