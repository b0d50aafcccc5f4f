import type { Kysely } from 'kysely';
import type { DB } from '../../db/types.ts';
import { conflict, notFound } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { decodeCursor, toPage, type Page } from '../../lib/pagination.ts';
import { slugify } from '../../lib/slug.ts';
import { unprocessable } from '../../lib/errors.ts';
import type { TagRepository, TagRow, TagTranslations } from './tags.repository.ts';
import type { CreateTagInput, TranslationsInput, UpdateTagInput } from './tags.schemas.ts';

/** Trimmed translations; an empty description is no description. */
function cleanTranslations(input: TranslationsInput): TagTranslations {
  const out: TagTranslations = {};
  for (const locale of ['en', 'de'] as const) {
    const entry = input[locale];
    if (!entry) continue;
    const description = entry.description?.trim();
    out[locale] = { name: entry.name.trim(), description: description ? description : null };
  }
  return out;
}

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
        ...(input.translations ? { translations: cleanTranslations(input.translations) } : {}),
      });
      if (!tag) throw conflict('tag_exists', 'A tag with this name or slug already exists');
      return tag;
    },

    async update(organizationId: string, id: string, input: UpdateTagInput): Promise<TagRow> {
      const { translations, ...rest } = input;
      const changes = {
        ...rest,
        ...(input.name !== undefined ? { name: input.name.trim() } : {}),
        ...(translations !== undefined ? { translations: cleanTranslations(translations) } : {}),
      };
      const outcome = await tagRepository.update(organizationId, id, changes);
      if (outcome === 'missing') throw notFound('tag');
      if (outcome === 'conflict') throw conflict('tag_exists', 'A tag with this name or slug already exists');
      return this.get(organizationId, id);
    },

    /** Sets the preference center's order; every id must be one of the organization's tags. */
    async setOrder(organizationId: string, ids: string[]): Promise<{ updated: number }> {
      return deps.db.transaction().execute(async (trx) => {
        const { known, updated } = await tagRepository.setOrder(trx, organizationId, ids);
        if (known !== ids.length) {
          throw unprocessable('unknown_tag', 'Some of these tags do not exist; reload the page and try again', [
            { field: 'tag_ids', message: 'names a tag that does not exist', code: 'unknown_tag' },
          ]);
        }
        return { updated };
      });
    },

    async delete(organizationId: string, id: string): Promise<void> {
      if (!(await tagRepository.delete(organizationId, id))) throw notFound('tag');
    },
  };
}

export type TagService = ReturnType<typeof createTagService>;
