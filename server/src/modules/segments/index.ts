import type { Kysely } from 'kysely';
import type { DB } from '../../db/types.ts';
import { minuteTick, type Schedule } from '../../jobs/cron.ts';
import { defineModule, mount } from '../module.ts';
import { createAudienceCounts } from './audience-counts.ts';
import { createAudienceCountsHandlers } from './segments.jobs.ts';
import { createSegmentRepository } from './segments.repository.ts';
import { segmentRoutes } from './segments.routes.ts';
import { createSegmentService } from './segments.service.ts';

export { SegmentFilter, compileFilter, MAX_CONDITIONS, MAX_DEPTH } from './filter.ts';
export { withFilterTimeout } from './segments.repository.ts';
export type { SegmentService } from './segments.service.ts';

/**
 * The audience counters: folded every five minutes (reads stay a handful of rows), recounted and
 * repaired if off once a night.
 */
export const schedules: readonly Schedule[] = [
  {
    name: 'audience-counts-compact',
    expression: '*/5 * * * *',
    job: (tick) => ({ name: 'audience-counts.compact', payload: { tick: minuteTick(tick, 5) } }),
  },
  { name: 'audience-counts-verify', expression: '41 3 * * *', job: (tick) => ({ name: 'audience-counts.verify', payload: { tick: minuteTick(tick) } }) },
];

/** Segments: saved subscriber filters compiled to parameterised SQL; the campaigns' audiences. */
export function createSegmentsModule(deps: { db: Kysely<DB> }) {
  const segmentRepository = createSegmentRepository(deps.db);
  const segments = createSegmentService({ segmentRepository });
  const audienceCounts = createAudienceCounts(deps.db);
  return defineModule({
    name: 'segments',
    services: { segments, audienceCounts },
    routes: mount(segmentRoutes, { segments }),
    jobs: () => createAudienceCountsHandlers({ audienceCounts }),
  });
}
