import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../../db/types.ts';
import type { JobHandler } from '../../jobs/context.ts';
import type { JobProducer } from '../../jobs/producer.ts';
import { AppError, notFound, unprocessable } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { insertEvents, type OutboxEvent } from '../events/index.ts';
import type { TagRepository } from '../tags/index.ts';
import type { BulkActionKind, BulkActionRepository, BulkActionRow } from './bulk-actions.repository.ts';
import { normalizeFilter, type ListFilterInput } from './list-query.ts';
import type { HistoryInsert, SubscriberRepository } from './subscribers.repository.ts';
import type { Author } from './subscribers.service.ts';

/** Subscribers handled per transaction: small enough for short locks, large enough for few round trips. */
export const BULK_CHUNK = 500;
const EXACT_EXPECTED_UP_TO = 100_000;

export interface BulkActionInput {
  action: BulkActionKind;
  filter: ListFilterInput;
  tag?: string;
  reason?: string;
}

export const toBulkActionDto = (row: BulkActionRow) => ({
  id: row.id,
  action: row.action,
  status: row.status,
  filter: row.filter,
  tag: row.tag_id && row.tag_name && row.tag_slug ? { id: row.tag_id, name: row.tag_name, slug: row.tag_slug } : null,
  reason: row.reason,
  expected: row.expected,
  processed: row.processed,
  changed: row.changed,
  error: row.error,
  created_at: row.created_at,
  started_at: row.started_at,
  finished_at: row.finished_at,
});

/**
 * "Apply to all N matching": the request stores the filter and what to do, and answers at once; one
 * background job walks the matching subscribers in id order, chunk by chunk, each chunk one transaction
 * of set-based statements that also records its progress. Consent history and outbox rows are written
 * like the one-at-a-time routes write them, with the action's id (and reason) in the history details.
 */
export function createBulkActionService(deps: {
  db: Kysely<DB>;
  repository: BulkActionRepository;
  subscriberRepository: Pick<SubscriberRepository, 'count' | 'chunkForBulk' | 'insertHistory'>;
  tagRepository: Pick<TagRepository, 'findByName'>;
  producer: Pick<JobProducer, 'enqueue'>;
}) {
  const { db, repository: repo, subscriberRepository, tagRepository, producer } = deps;

  return {
    async create(organizationId: string, author: Author, input: BulkActionInput) {
      const filter = normalizeFilter(input.filter);
      const needsTag = input.action === 'add_tag' || input.action === 'remove_tag';
      const reason = input.reason?.trim() || null;
      if (needsTag && !input.tag)
        throw unprocessable('validation_error', 'The request is not valid', [
          { field: 'tag', code: 'required', message: 'is required to add or remove a tag' },
        ]);
      if (input.action === 'unsubscribe' && !reason)
        throw unprocessable('validation_error', 'The request is not valid', [
          { field: 'reason', code: 'required', message: 'is required to unsubscribe people: it is kept in their consent history' },
        ]);
      const tag = needsTag ? await tagRepository.findByName(organizationId, input.tag!) : undefined;
      if (needsTag && !tag)
        throw unprocessable('validation_error', 'The request is not valid', [{ field: 'tag', code: 'unknown_tag', message: 'no tag with this name or slug' }]);
      const expected = await subscriberRepository.count(organizationId, filter, EXACT_EXPECTED_UP_TO);
      const id = newId();
      await repo.insert({
        id,
        organization_id: organizationId,
        action: input.action,
        filter,
        tag_id: tag?.id ?? null,
        reason,
        expected: expected.total,
        created_by_user_id: author.type === 'user' ? author.id : null,
        created_by_api_key_id: author.type === 'api_key' ? author.id : null,
      });
      try {
        await producer.enqueue('subscribers.bulk-action', { bulk_action_id: id });
      } catch (error) {
        await repo.finish(db, id, { status: 'failed', error: 'The job queue was unavailable; nothing was changed' });
        throw new AppError(503, 'queue_unavailable', 'The action could not be started; try again in a moment', { cause: error });
      }
      return toBulkActionDto((await repo.find(organizationId, id))!);
    },

    async get(organizationId: string, id: string) {
      const row = await repo.find(organizationId, id);
      if (!row) throw notFound('bulk_action');
      return toBulkActionDto(row);
    },

    /** The job: chunks until none is left; stops between chunks on shutdown (the retry continues from last_id). */
    job(): JobHandler<'subscribers.bulk-action'> {
      return async (payload, context) => {
        const first = await repo.findForWorker(payload.bulk_action_id);
        if (!first || first.status === 'completed' || first.status === 'failed') return { skipped: true };
        await repo.markRunning(first.id);
        try {
          return await run(first.id, context.signal, () => context.giveBack());
        } catch (error) {
          // A failure the retries will not fix is recorded, so the page stops showing "running".
          if (context.lastAttempt) await repo.finish(db, first.id, { status: 'failed', error: 'The action stopped after an error; part of it may be applied' });
          throw error;
        }
      };
    },
  };

  async function run(id: string, signal: AbortSignal, giveBack: () => Promise<never>) {
    for (;;) {
      if (signal.aborted) return giveBack();
      const done = await db.transaction().execute(async (trx) => {
        const action = await repo.lock(trx, id);
        if (!action || action.status !== 'running') return true;
        const chunk = await subscriberRepository.chunkForBulk(trx, action.organization_id, action.filter, {
          createdBefore: action.created_at,
          beforeId: action.last_id,
          limit: BULK_CHUNK,
        });
        if (chunk.length === 0) {
          await repo.finish(trx, action.id, { status: 'completed' });
          return true;
        }
        const changed = await applyChunk(trx, action, chunk);
        await repo.advance(trx, action.id, { processed: chunk.length, changed, lastId: chunk.at(-1)!.id });
        return false;
      });
      if (done) return { done: true };
    }
  }

  async function applyChunk(trx: Transaction<DB>, action: BulkActionRow, chunk: { id: string; email: string }[]) {
    const org = action.organization_id;
    const ids = chunk.map((s) => s.id);
    const emailOf = new Map(chunk.map((s) => [s.id, s.email]));
    const details = { bulk_action_id: action.id, ...(action.reason ? { reason: action.reason } : {}) };
    const history = (subscriberId: string, kind: string, tagId: string | null, extra: Record<string, unknown> = {}): HistoryInsert => ({
      id: newId(),
      subscriber_id: subscriberId,
      tag_id: tagId,
      action: kind,
      source: 'bulk',
      ip: null,
      user_agent: null,
      details: { ...extra, ...details },
    });
    const subscriber = (id: string) => ({ id, email: emailOf.get(id)! });
    let events: OutboxEvent[];
    let rows: HistoryInsert[] = [];
    let changed: number;
    if (action.action === 'add_tag' || action.action === 'remove_tag') {
      const tag = { id: action.tag_id!, name: action.tag_name!, slug: action.tag_slug! };
      const adding = action.action === 'add_tag';
      const touched = adding ? await repo.addTag(trx, org, tag.id, ids) : await repo.removeTag(trx, org, tag.id, ids);
      rows = touched.map((id) => history(id, adding ? 'tag_subscribed' : 'tag_unsubscribed', tag.id));
      events = touched.map((id) => ({
        type: adding ? 'tag.subscribed' : 'tag.unsubscribed',
        subjectId: id,
        payload: { subscriber: subscriber(id), tag, source: 'bulk' },
      }));
      changed = touched.length;
    } else if (action.action === 'unsubscribe') {
      const touched = await repo.unsubscribe(trx, org, ids);
      rows = touched.map((t) => history(t.id, 'status_changed', null, { from: t.from, to: 'unsubscribed', via: 'bulk' }));
      events = touched.map((t) => ({
        type: 'subscriber.updated',
        subjectId: t.id,
        payload: { subscriber: subscriber(t.id), changed_fields: ['status'], status: 'unsubscribed', source: 'bulk' },
      }));
      changed = touched.length;
    } else {
      const erased = await repo.erase(trx, org, ids);
      events = erased.map((id) => ({ type: 'subscriber.deleted', subjectId: id, payload: { subscriber: subscriber(id), source: 'bulk' } }));
      changed = erased.length;
    }
    await subscriberRepository.insertHistory(trx, org, rows);
    await insertEvents(trx, org, events);
    return changed;
  }
}

export type BulkActionService = ReturnType<typeof createBulkActionService>;
