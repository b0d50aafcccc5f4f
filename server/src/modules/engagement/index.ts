import { sql, type Kysely } from 'kysely';
import type { Config } from '../../config/index.ts';
import { deleteInChunks, DELETE_CHUNK } from '../../db/chunked-delete.ts';
import type { DB } from '../../db/types.ts';
import type { TokenSigner } from '../../lib/tokens.ts';
import type { Logger } from '../../logger.ts';
import type { CampaignService } from '../campaigns/index.ts';
import type { SegmentService } from '../segments/index.ts';
import { defineModule, mount } from '../module.ts';
import { createAnalyticsRepository } from './analytics.repository.ts';
import { analyticsRoutes } from './analytics.routes.ts';
import { createAnalyticsService } from './analytics.service.ts';
import { insertEngagement } from './engagement.repository.ts';
import { createEngagementRecorder } from './recorder.ts';
import { trackingRoutes } from './tracking.routes.ts';

export { classify, MACHINE_CLICK_SECONDS, MACHINE_OPEN_SECONDS, type Hit, type Reason, type Verdict } from './classifier.ts';
export { insertEngagement, type EngagementEvent } from './engagement.repository.ts';
export type { EngagementRecorder } from './recorder.ts';

// Hits per statement, and hits held while PostgreSQL is slow or away (about 30 MB at most).
const BATCH_SIZE = 2000;
const MAX_BUFFERED = 100_000;

/**
 * Engagement: the open pixel and tracked links under `/t/…`, each hit classified human or machine and
 * written in batches (raw events, uniques, hourly rollups); raw events expire, rollups stay.
 */
export function createEngagementModule(deps: {
  db: Kysely<DB>;
  config: Readonly<Config>;
  tokens: TokenSigner;
  logger: Logger;
  campaigns: Pick<CampaignService, 'get' | 'stats' | 'create'>;
  segments: Pick<SegmentService, 'create'>;
}) {
  const recorder = createEngagementRecorder({
    write: (events) => insertEngagement(deps.db, events),
    logger: deps.logger,
    flushMs: deps.config.TRACKING_FLUSH_MS,
    batchSize: BATCH_SIZE,
    maxBuffered: MAX_BUFFERED,
  });
  const analytics = createAnalyticsService({ analyticsRepository: createAnalyticsRepository(deps.db), campaigns: deps.campaigns, segments: deps.segments });
  return defineModule({
    name: 'engagement',
    services: { engagementRecorder: recorder, analytics },
    routes: mount(analyticsRoutes, { analytics }),
    rootRoutes: mount(trackingRoutes, { config: deps.config, tokens: deps.tokens, recorder }),
    retention: [
      {
        name: 'engagement_events',
        days: deps.config.RETENTION_ENGAGEMENT_EVENTS_DAYS,
        run: (cutoff, signal) =>
          deleteInChunks(
            async () =>
              (
                await sql`
        delete from engagement_events where id in (select id from engagement_events where occurred_at < ${cutoff} limit ${DELETE_CHUNK})`.execute(deps.db)
              ).numAffectedRows ?? 0n,
            signal,
          ),
      },
    ],
    close: () => recorder.flush(),
  });
}
