import type { Kysely } from 'kysely';
import type { DB } from '../../db/types.ts';
import { conflict, notFound } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { decodeCursor, toPage, type Page } from '../../lib/pagination.ts';
import { slugify } from '../../lib/slug.ts';
import { unprocessable } from '../../lib/errors.ts';
import type { TagRepository, TagRow } from './tags.repository.ts';
import type { CreateTagInput, UpdateTagInput } from './tags.schemas.ts';

export function createTagService(deps: { db: Kysely<DB>; tagRepository: TagRepository }) {
  const { tagRepository } = deps;

  const slugFor = (name: string, slug?: string): string => {
    const result = slug ?? slugify(name);
    if (!result) throw unprocessable('validation_error', 'The tag needs a slug', [{ field: 'slug', message: 'could not be derived from the name; send one' }]);
    return result;
  };

  return {
    async list(organizationId: string, query: { limit?: number; cursor?: string; category?: string }): Promise<Page<TagRow>> {
      const limit = query.limit ?? 50;
      const rows = await tagRepository.list(organizationId, { limit, beforeId: decodeCursor(query.cursor), category: query.category });
      return toPage(rows, limit);
    },

    async get(organizationId: string, id: string): Promise<TagRow> {
      const tag = await tagRepository.findById(organizationId, id);
      if (!tag) throw notFound('tag');
      return tag;
    },

    async getByName(organizationId: string, name: string): Promise<TagRow> {
      const tag = await tagRepository.findByName(organizationId, name);
      if (!tag) throw notFound('tag');
      return tag;
    },

    async create(organizationId: string, input: CreateTagInput): Promise<TagRow> {
      const name = input.name.trim();
      const tag = await tagRepository.insert(organizationId, {
        id: newId(),
        name,
        slug: slugFor(name, input.slug),
        description: input.description ?? null,
        category: input.category ?? null,
        is_public: input.is_public ?? true,
      });
      if (!tag) throw conflict('tag_exists', 'A tag with this name or slug already exists');
      return tag;
    },

    async update(organizationId: string, id: string, input: UpdateTagInput): Promise<TagRow> {
      const changes = { ...input, ...(input.name !== undefined ? { name: input.name.trim() } : {}) };
      const outcome = await tagRepository.update(organizationId, id, changes);
      if (outcome === 'missing') throw notFound('tag');
      if (outcome === 'conflict') throw conflict('tag_exists', 'A tag with this name or slug already exists');
      return this.get(organizationId, id);
    },

    async delete(organizationId: string, id: string): Promise<void> {
      if (!(await tagRepository.delete(organizationId, id))) throw notFound('tag');
    },
  };
}

export type TagService = ReturnType<typeof createTagService>;
