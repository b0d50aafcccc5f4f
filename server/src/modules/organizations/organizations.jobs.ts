import type { JobHandler } from '../../jobs/context.ts';
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
