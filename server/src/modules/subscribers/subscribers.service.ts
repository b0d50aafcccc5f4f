import type { Kysely } from 'kysely';
import { Compile } from 'typebox/compile';
import type { DB } from '../../db/types.ts';
import { conflict, notFound, unprocessable, type CodedErrorDetail, type ErrorDetail } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { normalizeLocale } from '../../lib/locale.ts';
import { decodeCursor, toPage, type Page } from '../../lib/pagination.ts';
import { slugify } from '../../lib/slug.ts';
import { isEmail } from '../../lib/email.ts';
import { validationDetails } from '../../lib/validation-details.ts';
import type { Executor } from '../../db/client.ts';
import type { Entitlements } from '../entitlements/index.ts';
import { insertEvents, type OutboxEvent } from '../events/index.ts';
import type { TagRepository } from '../tags/index.ts';
import { decideStatusChange } from './status-rule.ts';
import type { HistoryInsert, Origin, SubscriberRepository, SubscriberRow } from './subscribers.repository.ts';
import { decodePosition, encodePosition, normalizeFilter, resolveSort } from './list-query.ts';
import {
  BatchItem,
  type BatchItemInput,
  type ListSubscribersQueryInput,
  type CreateSubscriberInput,
  type SubscriberStatus,
  type UpdateSubscriberInput,
} from './subscribers.schemas.ts';

export type { Origin } from './subscribers.repository.ts';

const METADATA_MAX_BYTES = 16 * 1024;
/** Distinct tags one request may create implicitly (batch upsert, import). */
export const MAX_NEW_TAGS_PER_REQUEST = 1000;
const batchItemCheck = Compile(BatchItem);

export interface Author {
  type: 'user' | 'api_key';
  id: string;
}

interface WantedTag {
  id: string;
  name: string;
  slug: string;
}

/** Normalizes the caller's tag references: trimmed, de-duplicated, each with a derivable slug. */
function wantedTags(refs: readonly string[] | undefined, field = 'tags'): WantedTag[] {
  const seen = new Map<string, WantedTag>();
  for (const [index, ref] of (refs ?? []).entries()) {
    const name = ref.trim();
    const slug = slugify(name);
    if (!slug)
      throw unprocessable('validation_error', 'The request is not valid', [
        { field: `${field}.${index}`, code: 'invalid_value', message: 'a tag name needs at least one letter or digit' },
      ]);
    if (!seen.has(name.toLowerCase())) seen.set(name.toLowerCase(), { id: newId(), name, slug });
  }
  return [...seen.values()];
}

function checkMetadata(metadata: Record<string, unknown> | undefined, field = 'metadata'): CodedErrorDetail | undefined {
  if (metadata !== undefined && Buffer.byteLength(JSON.stringify(metadata)) > METADATA_MAX_BYTES) {
    return { field, code: 'too_long', message: `must be at most ${METADATA_MAX_BYTES} bytes as JSON` };
  }
  return undefined;
}

/** The entitlement checks subscriber writes make (402 beyond the organization's subscriber limit). */
export type SubscriberLimits = Pick<Entitlements, 'assertSubscriberCapacity' | 'assertCapacityForAddresses'>;

// Exported so other consent flows (preference center, double opt-in) write the same rows and payloads.
export const tagEvent = (
  type: 'tag.subscribed' | 'tag.unsubscribed',
  subscriber: { id: string; email: string },
  tag: { id: string; name: string; slug: string },
  source: string,
  /** Made with an sf_test_ key (or by a test run): the automations it starts or resumes are test runs. */
  test = false,
): OutboxEvent => ({
  type,
  subjectId: subscriber.id,
  payload: {
    subscriber: { id: subscriber.id, email: subscriber.email },
    tag: { id: tag.id, name: tag.name, slug: tag.slug },
    source,
    ...(test ? { test: true } : {}),
  },
});

export const historyRow = (
  subscriberId: string,
  action: string,
  origin: Origin,
  tagId: string | null = null,
  details: Record<string, unknown> = {},
): HistoryInsert => ({
  id: newId(),
  subscriber_id: subscriberId,
  tag_id: tagId,
  action,
  source: origin.source,
  ip: origin.ip,
  user_agent: origin.userAgent,
  details,
});

/** A list's total is counted exactly up to this many matches and estimated above. */
const EXACT_TOTAL_UP_TO = 100_000;
/**
 * With a search term the exact count stops earlier: each match of a substring is a heap row to read and
 * re-check, so counting even 10,000 of them (with a tag condition each) takes longer than the page itself.
 */
const EXACT_SEARCH_TOTAL_UP_TO = 1_000;

export function createSubscriberService(deps: {
  db: Kysely<DB>;
  subscriberRepository: SubscriberRepository;
  tagRepository: TagRepository;
  entitlements: SubscriberLimits;
}) {
  const { db, subscriberRepository: repo, tagRepository } = deps;

  async function mustGet(organizationId: string, id: string, executor?: Executor): Promise<SubscriberRow> {
    const subscriber = await repo.findById(organizationId, id, executor);
    if (!subscriber) throw notFound('subscriber');
    return subscriber;
  }

  /** Finds or creates tags; one retry picks up tags another transaction was creating at the same time. */
  async function ensureTags(executor: Executor, organizationId: string, wanted: WantedTag[]) {
    let found = await tagRepository.ensure(executor, organizationId, wanted);
    if (found.length < wanted.length) {
      const missing = wanted.filter((w) => !found.some((f) => f.input === w.name));
      found = [...found, ...(await tagRepository.ensure(executor, organizationId, missing))];
    }
    return found;
  }

  /**
   * Creating a tag is cheap, but a request that invents thousands of them is a mistake or abuse: it is
   * refused whole, before any change, with a clear answer.
   */
  async function assertNewTagsWithinLimit(organizationId: string, wanted: WantedTag[]) {
    if (wanted.length <= MAX_NEW_TAGS_PER_REQUEST) return;
    const missing = await tagRepository.countMissing(db, organizationId, wanted);
    if (missing > MAX_NEW_TAGS_PER_REQUEST) {
      throw unprocessable(
        'too_many_new_tags',
        `A request may create at most ${MAX_NEW_TAGS_PER_REQUEST} new tags; this one would create ${missing}. Create the tags first or split the request`,
        [{ field: 'subscribers', code: 'too_many', message: `would create ${missing} new tags; at most ${MAX_NEW_TAGS_PER_REQUEST} per request` }],
      );
    }
  }

  /** Subscribes one subscriber to tags inside the caller's transaction, with history and events. */
  async function subscribeToTags(trx: Executor, organizationId: string, subscriber: { id: string; email: string }, wanted: WantedTag[], origin: Origin) {
    const tags = await ensureTags(trx, organizationId, wanted);
    const changed = await repo.subscribeTags(
      trx,
      organizationId,
      tags.map((t) => ({ subscriberId: subscriber.id, tagId: t.id })),
      origin.source,
    );
    const changedTags = tags.filter((t) => changed.some((c) => c.tag_id === t.id));
    await repo.insertHistory(
      trx,
      organizationId,
      changedTags.map((t) => historyRow(subscriber.id, 'tag_subscribed', origin, t.id)),
    );
    await insertEvents(
      trx,
      organizationId,
      changedTags.map((t) => tagEvent('tag.subscribed', subscriber, t, origin.source, origin.test)),
    );
  }

  return {
    async create(organizationId: string, input: CreateSubscriberInput, origin: Origin): Promise<SubscriberRow> {
      const metadataProblem = checkMetadata(input.metadata);
      if (metadataProblem) throw unprocessable('validation_error', 'The request is not valid', [metadataProblem]);
      const wanted = wantedTags(input.tags);
      await deps.entitlements.assertSubscriberCapacity(organizationId, 1);
      const created = await repo.createOne(organizationId, {
        id: newId(),
        email: input.email.trim(),
        status: input.status ?? 'active',
        firstName: input.first_name ?? null,
        lastName: input.last_name ?? null,
        locale: input.locale ? normalizeLocale(input.locale) : null,
        metadata: input.metadata ?? {},
        origin: input.source ? { ...origin, source: input.source } : origin,
        createdHistoryId: newId(),
        createdEventId: newId(),
        tags: wanted.map((w) => ({ newId: w.id, name: w.name, slug: w.slug, historyId: newId(), eventId: newId() })),
      });
      if (!created) throw conflict('subscriber_exists', 'A subscriber with this email already exists');
      if (created.resolved_tag_inputs < wanted.length) {
        // Rare: a tag was created concurrently and was invisible to our statement. Add it now.
        await db.transaction().execute((trx) => subscribeToTags(trx, organizationId, created, wanted, origin));
        return mustGet(organizationId, created.id);
      }
      const { resolved_tag_inputs: _resolved, ...subscriber } = created;
      return subscriber;
    },

    get: (organizationId: string, id: string) => mustGet(organizationId, id),

    async getByEmail(organizationId: string, email: string): Promise<SubscriberRow> {
      const subscriber = await repo.findByEmail(organizationId, email);
      if (!subscriber) throw notFound('subscriber');
      return subscriber;
    },

    async list(organizationId: string, query: ListSubscribersQueryInput): Promise<Page<SubscriberRow> & { total?: number; total_exact?: boolean }> {
      const limit = query.limit ?? 50;
      const { limit: _limit, cursor, sort: sortField, order, include_total: includeTotal, ...filterFields } = query;
      const filter = normalizeFilter(filterFields);
      const sort = resolveSort(sortField, order);
      const after = decodePosition(sort, cursor);
      const [rows, count] = await Promise.all([
        repo.list(organizationId, filter, { sort, after, limit }),
        includeTotal ? repo.count(organizationId, filter, filter.q ? EXACT_SEARCH_TOTAL_UP_TO : EXACT_TOTAL_UP_TO) : undefined,
      ]);
      const items = rows.slice(0, limit).map(({ sort_key: _key, ...row }) => row);
      const last = rows[limit - 1];
      const next = rows.length > limit && last ? encodePosition(sort, { id: last.id, value: last.sort_key ?? undefined }) : null;
      return { items, next_cursor: next, ...(count ? { total: count.total, total_exact: count.exact } : {}) };
    },

    async update(organizationId: string, id: string, input: UpdateSubscriberInput, origin: Origin): Promise<SubscriberRow> {
      const metadataProblem = checkMetadata(input.metadata);
      if (metadataProblem) throw unprocessable('validation_error', 'The request is not valid', [metadataProblem]);
      try {
        await db.transaction().execute(async (trx) => {
          const current = await repo.lock(trx, organizationId, id);
          if (!current) throw notFound('subscriber');
          const changed: string[] = [];
          const history: HistoryInsert[] = [];
          const email = input.email?.trim();
          if (email !== undefined && email !== current.email) {
            changed.push('email');
            history.push(historyRow(id, 'email_changed', origin));
          }
          if (input.first_name !== undefined && input.first_name !== current.first_name) changed.push('first_name');
          if (input.last_name !== undefined && input.last_name !== current.last_name) changed.push('last_name');
          const locale = input.locale === undefined ? undefined : input.locale === null ? null : normalizeLocale(input.locale);
          if (locale !== undefined && locale !== current.locale) changed.push('locale');
          if (input.metadata !== undefined) changed.push('metadata');
          let status: SubscriberStatus | undefined;
          if (input.status !== undefined) {
            const decision = decideStatusChange(current, { channel: 'api', to: input.status, consentReason: input.consent_reason });
            if (decision.kind === 'refused')
              throw unprocessable('status_change_not_allowed', 'This status change needs recorded consent or is not allowed', [decision.detail]);
            if (decision.kind === 'change') {
              status = decision.to;
              changed.push('status');
              history.push(historyRow(id, 'status_changed', origin, null, decision.details));
            }
          }
          if (changed.length === 0) return;
          const { consent_reason: _reason, status: _asked, ...fields } = input;
          await repo.update(trx, organizationId, id, {
            ...fields,
            ...(locale !== undefined ? { locale } : {}),
            ...(status ? { status } : {}),
            ...(email !== undefined ? { email } : {}),
          });
          await repo.insertHistory(trx, organizationId, history);
          await insertEvents(trx, organizationId, [
            {
              type: 'subscriber.updated',
              subjectId: id,
              payload: { subscriber: { id, email: email ?? current.email }, changed_fields: changed, source: origin.source },
            },
          ]);
        });
      } catch (error) {
        if ((error as { code?: string }).code === '23505') throw conflict('subscriber_exists', 'A subscriber with this email already exists');
        throw error;
      }
      return mustGet(organizationId, id);
    },

    /** GDPR erasure: the row, its tags, history, notes and the messages sent to it are deleted; only the outbox event remains. */
    async delete(organizationId: string, id: string, origin: Origin): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const deleted = await repo.delete(trx, organizationId, id);
        if (!deleted) throw notFound('subscriber');
        await insertEvents(trx, organizationId, [
          { type: 'subscriber.deleted', subjectId: id, payload: { subscriber: { id, email: deleted.email }, source: origin.source } },
        ]);
      });
    },

    async addTags(organizationId: string, id: string, refs: string[], origin: Origin): Promise<SubscriberRow> {
      const wanted = wantedTags(refs);
      await db.transaction().execute(async (trx) => {
        const subscriber = await repo.lock(trx, organizationId, id);
        if (!subscriber) throw notFound('subscriber');
        await subscribeToTags(trx, organizationId, subscriber, wanted, origin);
      });
      return mustGet(organizationId, id);
    },

    async removeTag(organizationId: string, id: string, slug: string, origin: Origin): Promise<SubscriberRow> {
      await db.transaction().execute(async (trx) => {
        const subscriber = await repo.lock(trx, organizationId, id);
        if (!subscriber) throw notFound('subscriber');
        const tag = await tagRepository.findByName(organizationId, slug);
        if (!tag) throw notFound('tag');
        const changed = await repo.unsubscribeTags(trx, organizationId, id, [tag.id], origin.source);
        if (changed.length === 0) return;
        await repo.insertHistory(trx, organizationId, [historyRow(id, 'tag_unsubscribed', origin, tag.id)]);
        await insertEvents(trx, organizationId, [tagEvent('tag.unsubscribed', subscriber, tag, origin.source, origin.test)]);
      });
      return mustGet(organizationId, id);
    },

    async history(organizationId: string, id: string, query: { limit?: number; cursor?: string }) {
      await mustGet(organizationId, id);
      const limit = query.limit ?? 50;
      const rows = await repo.listHistory(organizationId, id, { limit, beforeId: decodeCursor(query.cursor) });
      return toPage(
        rows.map((row) => ({
          id: row.id,
          action: row.action,
          source: row.source,
          ip: row.ip,
          user_agent: row.user_agent,
          details: row.details as Record<string, unknown>,
          created_at: row.created_at,
          tag: row.tag_id ? { id: row.tag_id, name: row.tag_name!, slug: row.tag_slug! } : null,
        })),
        limit,
      );
    },

    async addNote(organizationId: string, id: string, body: string, author: Author) {
      return db.transaction().execute(async (trx) => {
        const subscriber = await repo.lock(trx, organizationId, id);
        if (!subscriber) throw notFound('subscriber');
        const note = await repo.insertNote(trx, organizationId, {
          id: newId(),
          subscriber_id: id,
          body: body.trim(),
          author_user_id: author.type === 'user' ? author.id : null,
          author_api_key_id: author.type === 'api_key' ? author.id : null,
        });
        await insertEvents(trx, organizationId, [
          { type: 'subscriber.note_added', subjectId: id, payload: { subscriber: { id, email: subscriber.email }, note: { id: note.id } } },
        ]);
        return toNote(note);
      });
    },

    async notes(organizationId: string, id: string, query: { limit?: number; cursor?: string }) {
      await mustGet(organizationId, id);
      const limit = query.limit ?? 50;
      const rows = await repo.listNotes(organizationId, id, { limit, beforeId: decodeCursor(query.cursor) });
      return toPage(rows.map(toNote), limit);
    },

    /**
     * Upserts up to 1,000 subscribers with set-based statements in one transaction. Each item is
     * validated on its own; invalid or duplicate items are reported and the others still go through.
     */
    async batchUpsert(organizationId: string, items: unknown[], origin: Origin) {
      type Result = {
        index: number;
        status: 'created' | 'updated' | 'failed';
        id?: string;
        email?: string;
        error?: { code: string; message: string; details?: CodedErrorDetail[] };
      };
      const results: Result[] = items.map((_, index) => ({ index, status: 'failed' }));
      const valid: { index: number; item: BatchItemInput; tags: WantedTag[] }[] = [];
      const seen = new Set<string>();
      for (const [index, raw] of items.entries()) {
        if (!batchItemCheck.Check(raw)) {
          const details = validationDetails([...batchItemCheck.Errors(raw)]);
          results[index]!.error = { code: 'validation_error', message: 'The item is not valid', details };
          continue;
        }
        const item = raw as BatchItemInput;
        const email = item.email.trim();
        const problem = !isEmail(email) ? { field: 'email', code: 'invalid_format', message: 'must be an email address' } : checkMetadata(item.metadata);
        if (problem) {
          results[index]!.error = { code: 'validation_error', message: 'The item is not valid', details: [problem] };
          continue;
        }
        if (seen.has(email.toLowerCase())) {
          results[index]!.error = { code: 'duplicate_in_batch', message: 'The same email appears earlier in this batch' };
          continue;
        }
        try {
          valid.push({ index, item: { ...item, email }, tags: wantedTags(item.tags) });
          seen.add(email.toLowerCase());
        } catch (error) {
          results[index]!.error = {
            code: 'validation_error',
            message: 'The item is not valid',
            details: ((error as { details?: ErrorDetail[] }).details ?? []).map((d) => ({ ...d, code: d.code ?? 'invalid' })),
          };
        }
      }

      if (valid.length > 0) {
        const allWanted = new Map<string, WantedTag>();
        for (const v of valid) for (const t of v.tags) if (!allWanted.has(t.name.toLowerCase())) allWanted.set(t.name.toLowerCase(), t);
        await assertNewTagsWithinLimit(organizationId, [...allWanted.values()]);
        await deps.entitlements.assertCapacityForAddresses(
          organizationId,
          valid.map((v) => v.item.email),
        );
        await db.transaction().execute(async (trx) => {
          const existing = await repo.findExistingByEmails(
            trx,
            organizationId,
            valid.map((v) => v.item.email.toLowerCase()),
          );
          const byEmail = new Map(existing.map((e) => [e.email.toLowerCase(), e]));
          // Existing subscribers change status only as the one rule allows; a refused item fails alone.
          const statusChanges = new Map<string, Record<string, unknown>>();
          const accepted = valid.filter(({ index, item }) => {
            const current = byEmail.get(item.email.toLowerCase());
            if (!current || item.status === undefined) return true;
            const decision = decideStatusChange(current, { channel: 'batch', to: item.status, consentReason: item.consent_reason });
            if (decision.kind === 'refused') {
              results[index]!.error = {
                code: 'status_change_not_allowed',
                message: 'This status change needs recorded consent or is not allowed',
                details: [decision.detail],
              };
              return false;
            }
            if (decision.kind === 'change') statusChanges.set(current.id, decision.details);
            return true;
          });
          if (accepted.length === 0) return;
          const rows = accepted.map(({ item }) => {
            const current = byEmail.get(item.email.toLowerCase());
            return {
              id: current?.id ?? newId(),
              email: item.email,
              status: current ? ((statusChanges.get(current.id)?.to as SubscriberStatus | undefined) ?? current.status) : (item.status ?? 'active'),
              first_name: item.first_name !== undefined ? item.first_name : (current?.first_name ?? null),
              last_name: item.last_name !== undefined ? item.last_name : (current?.last_name ?? null),
              locale: item.locale !== undefined ? (item.locale === null ? null : normalizeLocale(item.locale)) : (current?.locale ?? null),
              metadata: { ...((current?.metadata as Record<string, unknown> | undefined) ?? {}), ...(item.metadata ?? {}) },
              source: origin.source,
            };
          });
          const upserted = await repo.upsertMany(trx, organizationId, rows);
          const idByEmail = new Map(upserted.map((u) => [u.email.toLowerCase(), u]));

          const tags = await ensureTags(trx, organizationId, [...allWanted.values()]);
          const tagByInput = new Map(tags.map((t) => [t.input.toLowerCase(), t]));

          const pairs: { subscriberId: string; tagId: string }[] = [];
          for (const v of accepted) {
            const subscriber = idByEmail.get(v.item.email.toLowerCase())!;
            for (const t of v.tags) {
              const tag = tagByInput.get(t.name.toLowerCase());
              if (tag) pairs.push({ subscriberId: subscriber.id, tagId: tag.id });
            }
          }
          const changedPairs = await repo.subscribeTags(trx, organizationId, dedupePairs(pairs), origin.source);
          const tagById = new Map(tags.map((t) => [t.id, t]));
          const emailById = new Map(upserted.map((u) => [u.id, u.email]));

          const history: HistoryInsert[] = [];
          const events: OutboxEvent[] = [];
          const slugsById = new Map<string, string[]>();
          for (const pair of changedPairs) slugsById.set(pair.subscriber_id, [...(slugsById.get(pair.subscriber_id) ?? []), tagById.get(pair.tag_id)!.slug]);
          const itemById = new Map(accepted.map((v) => [idByEmail.get(v.item.email.toLowerCase())!.id, v.item]));
          for (const u of upserted) {
            history.push(historyRow(u.id, u.inserted ? 'created' : 'updated', origin));
            const statusChange = statusChanges.get(u.id);
            if (statusChange) history.push(historyRow(u.id, 'status_changed', origin, null, statusChange));
            if (u.inserted) {
              const subscriber = {
                id: u.id,
                email: u.email,
                status: u.status,
                first_name: u.first_name,
                last_name: u.last_name,
                tags: (slugsById.get(u.id) ?? []).sort(),
              };
              events.push({
                type: 'subscriber.created',
                subjectId: u.id,
                payload: { subscriber, source: origin.source, ...(origin.test ? { test: true } : {}) },
              });
            } else {
              // The fields the batch item set (a batch item replaces what it names and keeps the rest).
              const item = itemById.get(u.id)!;
              const changed: string[] = (['first_name', 'last_name', 'locale', 'metadata'] as const).filter((field) => item[field] !== undefined);
              if (statusChange) changed.push('status');
              events.push({
                type: 'subscriber.updated',
                subjectId: u.id,
                payload: { subscriber: { id: u.id, email: u.email }, changed_fields: changed, source: origin.source },
              });
            }
          }
          for (const pair of changedPairs) {
            const tag = tagById.get(pair.tag_id)!;
            history.push(historyRow(pair.subscriber_id, 'tag_subscribed', origin, pair.tag_id));
            events.push(tagEvent('tag.subscribed', { id: pair.subscriber_id, email: emailById.get(pair.subscriber_id)! }, tag, origin.source, origin.test));
          }
          await repo.insertHistory(trx, organizationId, history);
          await insertEvents(trx, organizationId, events);

          for (const v of accepted) {
            const u = idByEmail.get(v.item.email.toLowerCase())!;
            results[v.index] = { index: v.index, status: u.inserted ? 'created' : 'updated', id: u.id, email: u.email };
          }
        });
      }
      return {
        results,
        created: results.filter((r) => r.status === 'created').length,
        updated: results.filter((r) => r.status === 'updated').length,
        failed: results.filter((r) => r.status === 'failed').length,
      };
    },
  };
}

function dedupePairs(pairs: { subscriberId: string; tagId: string }[]) {
  const seen = new Set<string>();
  return pairs.filter((p) => {
    const key = `${p.subscriberId}:${p.tagId}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function toNote(note: { id: string; body: string; author_user_id: string | null; author_api_key_id: string | null; created_at: Date }) {
  return {
    id: note.id,
    body: note.body,
    author: note.author_user_id ? { type: 'user' as const, id: note.author_user_id } : { type: 'api_key' as const, id: note.author_api_key_id },
    created_at: note.created_at,
  };
}

export type SubscriberService = ReturnType<typeof createSubscriberService>;
