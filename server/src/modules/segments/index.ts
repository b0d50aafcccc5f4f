import type { Kysely } from 'kysely';
import type { DB } from '../../db/types.ts';
import { defineModule, mount } from '../module.ts';
import { createSegmentRepository } from './segments.repository.ts';
import { segmentRoutes } from './segments.routes.ts';
import { createSegmentService } from './segments.service.ts';

export { SegmentFilter, compileFilter, MAX_CONDITIONS, MAX_DEPTH } from './filter.ts';
export { withFilterTimeout } from './segments.repository.ts';
export type { SegmentService } from './segments.service.ts';

/** Segments: saved subscriber filters compiled to parameterised SQL; the campaigns' audiences. */
export function createSegmentsModule(deps: { db: Kysely<DB> }) {
  const segmentRepository = createSegmentRepository(deps.db);
  const segments = createSegmentService({ segmentRepository });
  return defineModule({ name: 'segments', services: { segments }, routes: mount(segmentRoutes, { segments }) });
}
