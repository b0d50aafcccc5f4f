import type { Resend } from 'resend';
import { requestSignal, unwrapResend, type ResendResponse } from './resend.ts';

export const DOMAIN_STATUSES = ['not_started', 'pending', 'verified', 'failed', 'partially_verified', 'partially_failed', 'temporary_failure'] as const;
export type DomainStatus = (typeof DOMAIN_STATUSES)[number];
export const DOMAIN_REGIONS = ['us-east-1', 'eu-west-1', 'sa-east-1', 'ap-northeast-1'] as const;
export type DomainRegion = (typeof DOMAIN_REGIONS)[number];

/** One DNS record the organization must publish: verification TXT, MX and TXT for SPF, DKIM. */
export interface DomainRecord {
  record: string;
  name: string;
  type: string;
  value: string;
  ttl: string;
  status: string;
  priority: number | null;
}

export interface ProviderDomain {
  id: string;
  name: string;
  region: string;
  status: DomainStatus;
  records: DomainRecord[];
}

/** The sending-domain port; only providers with a domains API (Resend) implement it. */
export interface SendingDomainProvider {
  create(name: string, region: DomainRegion): Promise<ProviderDomain>;
  get(id: string): Promise<ProviderDomain>;
  /** Asks the provider to check the DNS records now; the outcome shows later in `get`. */
  verify(id: string): Promise<void>;
  remove(id: string): Promise<void>;
}

interface ResendDomain {
  id: string;
  name: string;
  region: string;
  status: string;
  records?: { record: string; name: string; type: string; value: string; ttl: string; status: string; priority?: number }[];
}

const toStatus = (status: string): DomainStatus => ((DOMAIN_STATUSES as readonly string[]).includes(status) ? (status as DomainStatus) : 'pending');

const toDomain = (domain: ResendDomain): ProviderDomain => ({
  id: domain.id,
  name: domain.name,
  region: domain.region,
  status: toStatus(domain.status),
  records: (domain.records ?? []).map((r) => ({
    record: r.record,
    name: r.name,
    type: r.type,
    value: r.value,
    ttl: String(r.ttl),
    status: r.status,
    priority: r.priority ?? null,
  })),
});

export function createResendDomains(client: Resend): SendingDomainProvider {
  return {
    async create(name, region) {
      const response = await client.domains.create({ name, region }, { signal: requestSignal() });
      return toDomain(unwrapResend(response as ResendResponse<ResendDomain>));
    },
    async get(id) {
      const response = await client.domains.get(id, { signal: requestSignal() });
      return toDomain(unwrapResend(response as ResendResponse<ResendDomain>));
    },
    async verify(id) {
      unwrapResend((await client.domains.verify(id, { signal: requestSignal() })) as ResendResponse<unknown>);
    },
    async remove(id) {
      const response = (await client.domains.remove(id, { signal: requestSignal() })) as ResendResponse<unknown>;
      // Already gone at the provider is what removing wants.
      if (response.error?.name === 'not_found') return;
      unwrapResend(response);
    },
  };
}
