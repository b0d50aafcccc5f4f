import type { RawBuilder, SqlBool } from 'kysely';
import { notFound, unprocessable } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { decodeCursor, toPage } from '../../lib/pagination.ts';
import { counterShape } from './audience-counts.ts';
import { compileFilter, splitTagRefs, tagRefs, type SegmentFilter } from './filter.ts';
import type { SegmentRepository } from './segments.repository.ts';

const MEMBERS_PAGE = 50;

const unknownTags = (missing: readonly string[]) =>
  unprocessable(
    'tag_not_found',
    `No tag ${missing.map((ref) => `"${ref}"`).join(', ')} in this organization`,
    missing.map((ref) => ({ field: 'filter', message: `no tag "${ref}"` })),
  );

/**
 * Segments: saved filters over an organization's subscribers. A filter is checked and compiled when it
 * is saved (so a stored segment always compiles) and again when it is used (a tag it names may have
 * been deleted since: that is a 422 naming the tag, never a silently wider audience).
 */
export function createSegmentService(deps: { segmentRepository: SegmentRepository }) {
  const repo = deps.segmentRepository;

  /** The filter as one SQL predicate over subscribers `s`, its tags resolved inside the organization. */
  async function resolve(organizationId: string, filter: SegmentFilter): Promise<{ predicate: RawBuilder<SqlBool>; tagIds: Map<string, string> }> {
    const refs = tagRefs(filter);
    const tagIds = await repo.resolveTags(organizationId, splitTagRefs(refs));
    const missing = refs.filter((ref) => !tagIds.has(ref));
    if (missing.length > 0) throw unknownTags(missing);
    return { predicate: compileFilter(filter, tagIds), tagIds };
  }

  async function compile(organizationId: string, filter: SegmentFilter): Promise<RawBuilder<SqlBool>> {
    return (await resolve(organizationId, filter)).predicate;
  }

  /**
   * The exact number of subscribers a filter matches: from the counters when its shape allows
   * (audience-counts.ts: status conditions and one tag), otherwise by SQL under the filter timeout.
   */
  async function countFilter(organizationId: string, filter: SegmentFilter): Promise<{ count: number }> {
    const { predicate, tagIds } = await resolve(organizationId, filter);
    const shape = counterShape(filter, tagIds);
    return { count: shape ? await repo.countFromCounters(organizationId, shape) : await repo.count(organizationId, predicate) };
  }

  async function get(organizationId: string, id: string) {
    const segment = await repo.find(organizationId, id);
    if (!segment) throw notFound('segment');
    return segment;
  }

  return {
    compile,
    get,

    /** The ids of the organization's tags named by these ids or slugs (422 naming any unknown one). */
    async tagIds(organizationId: string, refs: readonly string[]): Promise<string[]> {
      const found = await repo.resolveTags(organizationId, splitTagRefs([...refs]));
      const missing = refs.filter((ref) => !found.has(ref));
      if (missing.length > 0) throw unknownTags(missing);
      return [...new Set(refs.map((ref) => found.get(ref)!))];
    },

    /** The predicate of a saved segment (404 when it is not the organization's). */
    async predicate(organizationId: string, segmentId: string): Promise<RawBuilder<SqlBool>> {
      return compile(organizationId, (await get(organizationId, segmentId)).filter);
    },

    async list(organizationId: string, query: { limit?: number; cursor?: string }) {
      const limit = query.limit ?? 50;
      return toPage(await repo.list(organizationId, { limit, beforeId: decodeCursor(query.cursor) }), limit);
    },

    async create(organizationId: string, input: { name: string; description?: string | null; filter: SegmentFilter }) {
      await compile(organizationId, input.filter);
      return repo.insert(organizationId, { id: newId(), name: input.name, description: input.description ?? null, filter: input.filter });
    },

    async update(organizationId: string, id: string, input: { name?: string; description?: string | null; filter?: SegmentFilter }) {
      if (input.filter) await compile(organizationId, input.filter);
      const updated = await repo.update(organizationId, id, input);
      if (!updated) throw notFound('segment');
      return updated;
    },

    async remove(organizationId: string, id: string): Promise<void> {
      if (!(await repo.remove(organizationId, id))) throw notFound('segment');
    },

    async count(organizationId: string, id: string): Promise<{ count: number }> {
      return countFilter(organizationId, (await get(organizationId, id)).filter);
    },

    /** Counts an unsaved filter, for the builder's live preview. */
    async preview(organizationId: string, filter: SegmentFilter): Promise<{ count: number }> {
      return countFilter(organizationId, filter);
    },

    /** Counts by SQL alone, never from the counters (for checks that the two agree). */
    async countBySql(organizationId: string, filter: SegmentFilter): Promise<{ count: number }> {
      return { count: await repo.count(organizationId, await compile(organizationId, filter)) };
    },

    async members(organizationId: string, id: string) {
      const predicate = await compile(organizationId, (await get(organizationId, id)).filter);
      return { items: await repo.members(organizationId, predicate, MEMBERS_PAGE) };
    },
  };
}

export type SegmentService = ReturnType<typeof createSegmentService>;
