import type { Kysely } from 'kysely';
import type { DB } from '../../db/types.ts';
import { minuteTick, type Schedule } from '../../jobs/cron.ts';
import type { JobProducer } from '../../jobs/producer.ts';
import type { EmailRepository, EmailService } from '../email/index.ts';
import type { Entitlements } from '../entitlements/index.ts';
import type { SegmentService } from '../segments/index.ts';
import { defineModule, mount } from '../module.ts';
import { createCampaignJobs } from './campaigns.jobs.ts';
import { createCampaignRepository } from './campaigns.repository.ts';
import { campaignRoutes } from './campaigns.routes.ts';
import { createCampaignService } from './campaigns.service.ts';

export { CAMPAIGN_STATUSES, RECIPIENT_STATUSES, type CampaignStatus, type RecipientStatus } from './campaigns.repository.ts';
export type { CampaignService } from './campaigns.service.ts';
export { Campaign } from './campaigns.schemas.ts';

/** Every minute: due scheduled campaigns start, and a sending campaign whose pump went quiet gets a new one. */
export const schedules: readonly Schedule[] = [
  { name: 'campaigns-tick', expression: '* * * * *', job: (tick) => ({ name: 'campaigns.tick', payload: { tick: minuteTick(tick) } }) },
];

/** Campaigns: audiences from tags or segments, the frozen per-recipient ledger, fan-out, progress and stats. */
export function createCampaignsModule(deps: {
  db: Kysely<DB>;
  producer: JobProducer;
  segments: SegmentService;
  emails: Pick<EmailService, 'campaignComposer' | 'campaignRecipe' | 'campaignBatchComposer'>;
  emailRepository: Pick<EmailRepository, 'insertMessages' | 'insertContent' | 'contentRecipe'>;
  entitlements: Pick<Entitlements, 'reserveEmails'>;
  /** The clock of the A/B tests' timer (tests pass their own). */
  now: () => Date;
}) {
  const campaignRepository = createCampaignRepository(deps.db);
  const campaigns = createCampaignService({ ...deps, campaignRepository });
  return defineModule({
    name: 'campaigns',
    services: { campaigns },
    routes: mount(campaignRoutes, { campaigns }),
    jobs: () => createCampaignJobs({ ...deps, campaignRepository, campaigns }),
  });
}
