import type { JobHandler } from '../../jobs/context.ts';
import type { JobProducer } from '../../jobs/producer.ts';
import { ProviderError } from '../email/index.ts';
import type { DomainRepository } from './domains.repository.ts';
import type { DomainService } from './domains.service.ts';

const POLL_BATCH = 500;

/** Enqueues one provider check per domain awaiting verification (each is one rate-limited request). */
export function createDomainsPollHandler(deps: { domainRepository: DomainRepository; producer: JobProducer }): JobHandler<'domains.poll'> {
  return async ({ tick }) => {
    const ids = await deps.domainRepository.idsToPoll(POLL_BATCH);
    await deps.producer.enqueueMany(ids.map((id) => ({ name: 'domain.check' as const, payload: { domain_id: id, tick } })));
    return { enqueued: ids.length };
  };
}

export function createDomainCheckHandler(deps: { domains: DomainService }): JobHandler<'domain.check'> {
  return async ({ domain_id }, context) => {
    try {
      return { status: await deps.domains.refresh(domain_id) };
    } catch (error) {
      if (!(error instanceof ProviderError)) throw error;
      if (error.kind === 'rate_limited') return context.rateLimited(error.retryAfterMs ?? 1000);
      // The next poll asks again; a rejection (e.g. the domain was removed at the provider) will not change.
      if (error.kind === 'rejected') throw context.unrecoverable(error.message);
      throw error;
    }
  };
}
