import type { JobHandler } from '../../jobs/context.ts';
import type { JobProducer } from '../../jobs/producer.ts';
import type { OrganizationService } from './organizations.service.ts';

/**
 * `organization.purge`: removes a deleted organization's data. Idempotent (a purged organization is a
 * no-op); on shutdown it stops between batches and goes back to the queue to finish later.
 */
export function createOrganizationPurgeHandler(deps: { organizations: OrganizationService }): JobHandler<'organization.purge'> {
  return async ({ organization_id: organizationId }, context) => {
    const finished = await deps.organizations.purge(organizationId, context.signal);
    if (!finished) return context.giveBack();
    return { purged: organizationId };
  };
}

/**
 * `organizations.purge-sweep` (hourly from cron): a purge that was never enqueued, or that failed through
 * all its attempts, is started again, so every deleted organization is eventually gone.
 */
export function createOrganizationPurgeSweepHandler(deps: {
  organizations: OrganizationService;
  producer: JobProducer;
}): JobHandler<'organizations.purge-sweep'> {
  return async () => {
    const ids = await deps.organizations.pendingPurges(100);
    const { retried } = await deps.producer.requeue(ids.map((id) => ({ name: 'organization.purge' as const, payload: { organization_id: id } })));
    return { pending: ids.length, retried };
  };
}
