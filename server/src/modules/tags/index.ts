import type { Kysely } from 'kysely';
import type { DB } from '../../db/types.ts';
import { defineModule, mount } from '../module.ts';
import { createTagRepository } from './tags.repository.ts';
import { tagRoutes } from './tags.routes.ts';
import { createTagService } from './tags.service.ts';

export type { NewTag, TagRepository, TagRow, TagTranslation, TagTranslations } from './tags.repository.ts';
export { resolveTagsSql } from './tags.repository.ts';
export type { TagService } from './tags.service.ts';
export { SLUG_PATTERN } from './tags.schemas.ts';

/** Topics (tags) subscribers subscribe to; public ones appear in the preference center. */
export function createTagsModule(deps: { db: Kysely<DB> }) {
  const tagRepository = createTagRepository(deps.db);
  const tags = createTagService({ db: deps.db, tagRepository });
  return defineModule({ name: 'tags', services: { tags, tagRepository }, routes: mount(tagRoutes, { tags }) });
}
