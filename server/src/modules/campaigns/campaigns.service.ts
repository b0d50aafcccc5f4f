import type { Kysely, RawBuilder, SqlBool } from 'kysely';
import type { DB } from '../../db/types.ts';
import { conflict, notFound, unprocessable } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { decodeCursor, encodeCursor, toPage } from '../../lib/pagination.ts';
import type { JobProducer } from '../../jobs/producer.ts';
import type { CampaignSettings, EmailRepository, EmailService } from '../email/index.ts';
import type { Entitlements } from '../entitlements/index.ts';
import type { SegmentService } from '../segments/index.ts';
import type { CampaignFields, CampaignRepository, CampaignRow, CampaignStatus, RecipientStatus } from './campaigns.repository.ts';

/** The compact form of a moment, usable in a job id (no ':'). */
export const startTick = (date: Date): string =>
  date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');

/** A campaign's delivery settings for the email engine. */
export const settingsOf = (campaign: Pick<CampaignRow, 'id' | 'template_id' | 'subject' | 'from_name' | 'reply_to' | 'tracking'>): CampaignSettings => ({
  id: campaign.id,
  templateId: campaign.template_id!,
  subject: campaign.subject,
  fromName: campaign.from_name,
  replyTo: campaign.reply_to,
  tracking: campaign.tracking,
});

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
  emails: Pick<EmailService, 'campaignComposer'>;
  emailRepository: Pick<EmailRepository, 'insertMessages'>;
  entitlements: Pick<Entitlements, 'reserveEmails'>;
  producer: JobProducer;
}) {
  const { db, campaignRepository: repo, segments } = deps;

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

  return {
    get,
    audience,

    async list(organizationId: string, query: { limit?: number; cursor?: string; status?: CampaignStatus }) {
      const limit = query.limit ?? 50;
      return toPage(await repo.list(organizationId, { limit, beforeId: decodeCursor(query.cursor), status: query.status }), limit);
    },

    async create(organizationId: string, input: CampaignFields) {
      await assertAudienceValid(organizationId, input);
      return repo.insert(organizationId, newId(), input);
    },

    async update(organizationId: string, id: string, input: Partial<CampaignFields>) {
      const current = await get(organizationId, id);
      const next = { ...current, ...input };
      // Choosing a segment replaces the tag filter and the other way round.
      if (input.segment_id) next.tag_filter = null;
      if (input.tag_filter) next.segment_id = null;
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
      const { predicate, topicTags } = await audience(organizationId, campaign);
      const { count } = await repo.audienceCount(organizationId, predicate, topicTags);
      if (count === 0) throw unprocessable('audience_empty', 'No active subscriber matches the audience', [{ field: 'audience', message: 'matches nobody' }]);
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
      });
    },

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
