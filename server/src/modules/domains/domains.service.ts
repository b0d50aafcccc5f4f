import type { Config } from '../../config/index.ts';
import { AppError, conflict, notFound, unprocessable } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { decodeCursor, toPage } from '../../lib/pagination.ts';
import type { Logger } from '../../logger.ts';
import type { DomainRegion, SendingDomainProvider } from '../email/index.ts';
import { ProviderError } from '../email/index.ts';
import { allowedSenderDomains, domainOf, mailboxAddress, resolveSender } from '../email/index.ts';
import type { Entitlements } from '../entitlements/index.ts';
import type { DomainRepository, DomainRow } from './domains.repository.ts';

const toDto = ({ provider_domain_id: _provider, ...row }: DomainRow) => row;

/** Provider failures as answers to the caller: the provider's own words for rejections. */
function providerFailure(error: unknown): never {
  if (!(error instanceof ProviderError)) throw error;
  if (error.kind === 'rejected')
    throw unprocessable('domain_rejected', `The email provider refused the domain: ${error.message}`, [{ field: 'name', message: error.message }]);
  if (error.kind === 'rate_limited') {
    throw new AppError(503, 'provider_rate_limited', 'The email provider is busy; try again shortly', {
      headers: { 'retry-after': String(Math.ceil((error.retryAfterMs ?? 1000) / 1000)) },
    });
  }
  throw new AppError(503, 'provider_unavailable', 'The email provider could not be reached; try again shortly', { cause: error });
}

/**
 * Sending domains through the provider's domains API: the organization publishes the DNS records it is
 * shown, asks for verification, and cron polls until the provider reports the outcome. A verified domain
 * becomes the organization's sender. Calls to the provider never happen inside a transaction.
 */
export function createDomainService(deps: {
  config: Pick<Config, 'EMAIL_DEFAULT_FROM'>;
  domainRepository: DomainRepository;
  domainProvider: SendingDomainProvider | null;
  logger: Logger;
  entitlements: Pick<Entitlements, 'assertCanAdd'>;
}) {
  const { domainRepository: repo, logger } = deps;

  function provider(): SendingDomainProvider {
    if (!deps.domainProvider) throw new AppError(409, 'domains_unavailable', 'Sending domains need the Resend provider (RESEND_API_KEY) to be configured');
    return deps.domainProvider;
  }

  async function mustGet(organizationId: string, id: string): Promise<DomainRow> {
    const row = await repo.findById(organizationId, id);
    if (!row) throw notFound('domain');
    return row;
  }

  const verifiedDomains = async (organizationId: string): Promise<string[] | null> => (deps.domainProvider ? repo.verifiedNames(organizationId) : null);

  async function emailSettings(organizationId: string) {
    const settings = await repo.senderSettings(organizationId);
    if (!settings) throw notFound('organization');
    const verified = await verifiedDomains(organizationId);
    const effective = resolveSender(settings, { defaultFrom: deps.config.EMAIL_DEFAULT_FROM, verifiedDomains: verified });
    const sendDomain = domainOf(mailboxAddress(effective));
    const domainVerified = verified?.includes(sendDomain) ?? false;
    return {
      from_name: settings.email_from_name,
      from_email: settings.email_from_address,
      effective_from: effective,
      send_domain: domainVerified ? sendDomain : null,
      domain_verified: domainVerified,
    };
  }

  /** The domains the organization may send from (see email/sender.ts). */
  const senderDomains = async (organizationId: string): Promise<readonly string[]> =>
    allowedSenderDomains({ defaultFrom: deps.config.EMAIL_DEFAULT_FROM, verifiedDomains: await verifiedDomains(organizationId) });

  return {
    verifiedDomains,
    senderDomains,

    async create(organizationId: string, input: { name: string; region?: DomainRegion }) {
      const domains = provider();
      const name = input.name.toLowerCase();
      if (await repo.nameTaken(name)) throw conflict('domain_exists', 'This domain is already registered');
      await deps.entitlements.assertCanAdd(organizationId, 'custom_domains');
      const created = await domains.create(name, input.region ?? 'us-east-1').catch(providerFailure);
      const row = await repo.insert(organizationId, newId(), created);
      if (!row) {
        await domains.remove(created.id).catch((error: unknown) => logger.warn({ err: error }, 'could not remove a duplicate domain at the provider'));
        throw conflict('domain_exists', 'This domain is already registered');
      }
      return toDto(row);
    },

    async list(organizationId: string, query: { limit?: number; cursor?: string }) {
      const limit = query.limit ?? 50;
      return toPage((await repo.list(organizationId, { limit, beforeId: decodeCursor(query.cursor) })).map(toDto), limit);
    },

    get: async (organizationId: string, id: string) => toDto(await mustGet(organizationId, id)),

    /** Asks the provider to check the records now and returns the state it reports. */
    async verify(organizationId: string, id: string) {
      const row = await mustGet(organizationId, id);
      const domains = provider();
      await domains.verify(row.provider_domain_id!).catch(providerFailure);
      const state = await domains.get(row.provider_domain_id!).catch(providerFailure);
      return toDto((await repo.applyProviderState(row.id, state)) ?? row);
    },

    async remove(organizationId: string, id: string): Promise<void> {
      const row = await mustGet(organizationId, id);
      if (row.provider_domain_id && deps.domainProvider) await deps.domainProvider.remove(row.provider_domain_id).catch(providerFailure);
      await repo.delete(organizationId, id);
    },

    /** For the polling job: refreshes one domain's state from the provider. */
    async refresh(id: string): Promise<string | null> {
      const row = await repo.findForCheck(id);
      if (!row?.provider_domain_id || !deps.domainProvider) return null;
      const state = await deps.domainProvider.get(row.provider_domain_id);
      await repo.applyProviderState(row.id, state);
      return state.status;
    },

    emailSettings,

    async updateEmailSettings(organizationId: string, input: { from_name?: string | null; from_email?: string | null }) {
      if (input.from_email) {
        const verified = await verifiedDomains(organizationId);
        if (!allowedSenderDomains({ defaultFrom: deps.config.EMAIL_DEFAULT_FROM, verifiedDomains: verified }).includes(domainOf(input.from_email))) {
          throw verified === null
            ? unprocessable(
                'sender_domain_not_allowed',
                "Sending domains cannot be verified with this email provider; the sender address must be on the platform's own sending domain",
                [{ field: 'from_email', message: `${domainOf(input.from_email)} is not the platform's sending domain` }],
              )
            : unprocessable('sender_domain_not_verified', "The sender address must be on one of the organization's verified sending domains", [
                { field: 'from_email', message: `${domainOf(input.from_email)} is not a verified sending domain` },
              ]);
        }
      }
      await repo.updateSenderSettings(organizationId, {
        ...(input.from_name !== undefined ? { email_from_name: input.from_name?.trim() ?? null } : {}),
        ...(input.from_email !== undefined ? { email_from_address: input.from_email?.trim() ?? null } : {}),
      });
      return emailSettings(organizationId);
    },
  };
}

export type DomainService = ReturnType<typeof createDomainService>;
