import { sql, type Kysely } from 'kysely';
import type { Row } from '../../db/client.ts';
import type { DB } from '../../db/types.ts';
import type { DomainRecord, DomainStatus, ProviderDomain } from '../email/index.ts';

const columns = ['id', 'name', 'region', 'status', 'records', 'provider_domain_id', 'last_checked_at', 'verified_at', 'created_at', 'updated_at'] as const;

export type DomainRow = Row<'domains', (typeof columns)[number], { status: DomainStatus; records: DomainRecord[] }>;

// Verification outcomes that may still change; "not_started" waits for the organization to ask.
const POLLED_STATUSES = ['pending', 'partially_verified', 'partially_failed', 'temporary_failure'] as const;

export function createDomainRepository(db: Kysely<DB>) {
  const select = () => db.selectFrom('domains').select(columns);
  return {
    async nameTaken(name: string): Promise<boolean> {
      return (
        (await db
          .selectFrom('domains')
          .select('id')
          .where(sql`lower(name)`, '=', name.toLowerCase())
          .executeTakeFirst()) !== undefined
      );
    },

    /** Inserts the domain the provider created; undefined when another organization won the name. */
    async insert(organizationId: string, id: string, domain: ProviderDomain): Promise<DomainRow | undefined> {
      try {
        return (await db
          .insertInto('domains')
          .values({
            id,
            organization_id: organizationId,
            name: domain.name.toLowerCase(),
            region: domain.region,
            provider_domain_id: domain.id,
            status: domain.status,
            records: JSON.stringify(domain.records),
            last_checked_at: new Date(),
            verified_at: domain.status === 'verified' ? new Date() : null,
          })
          .returning(columns)
          .executeTakeFirstOrThrow()) as unknown as DomainRow;
      } catch (error) {
        if ((error as { code?: string }).code === '23505') return undefined;
        throw error;
      }
    },

    async findById(organizationId: string, id: string): Promise<DomainRow | undefined> {
      return (await select().where('organization_id', '=', organizationId).where('id', '=', id).executeTakeFirst()) as unknown as DomainRow | undefined;
    },

    /** For the polling job, which works across organizations. */
    async findForCheck(id: string) {
      return db.selectFrom('domains').select(['id', 'organization_id', 'provider_domain_id', 'status']).where('id', '=', id).executeTakeFirst();
    },

    async list(organizationId: string, options: { limit: number; beforeId?: string }): Promise<DomainRow[]> {
      let query = select().where('organization_id', '=', organizationId);
      if (options.beforeId) query = query.where('id', '<', options.beforeId);
      return (await query
        .orderBy('id', 'desc')
        .limit(options.limit + 1)
        .execute()) as unknown as DomainRow[];
    },

    /** Stores what the provider reports; verified_at is set the first time the domain is verified. */
    async applyProviderState(id: string, domain: Pick<ProviderDomain, 'status' | 'records'>): Promise<DomainRow | undefined> {
      return (await db
        .updateTable('domains')
        .set({
          status: domain.status,
          records: JSON.stringify(domain.records),
          last_checked_at: new Date(),
          verified_at: domain.status === 'verified' ? sql`coalesce(verified_at, now())` : null,
          updated_at: new Date(),
        })
        .where('id', '=', id)
        .returning(columns)
        .executeTakeFirst()) as unknown as DomainRow | undefined;
    },

    async delete(organizationId: string, id: string): Promise<boolean> {
      const result = await db.deleteFrom('domains').where('organization_id', '=', organizationId).where('id', '=', id).executeTakeFirst();
      return result.numDeletedRows > 0n;
    },

    async verifiedNames(organizationId: string): Promise<string[]> {
      const rows = await db
        .selectFrom('domains')
        .select('name')
        .where('organization_id', '=', organizationId)
        .where('status', '=', 'verified')
        .orderBy('verified_at')
        .execute();
      return rows.map((r) => r.name);
    },

    async idsToPoll(limit: number): Promise<string[]> {
      const rows = await db.selectFrom('domains').select('id').where('status', 'in', POLLED_STATUSES).orderBy('id').limit(limit).execute();
      return rows.map((r) => r.id);
    },

    async senderSettings(organizationId: string) {
      return db.selectFrom('organizations').select(['name', 'email_from_name', 'email_from_address']).where('id', '=', organizationId).executeTakeFirst();
    },

    async updateSenderSettings(organizationId: string, settings: { email_from_name?: string | null; email_from_address?: string | null }): Promise<void> {
      await db
        .updateTable('organizations')
        .set({ ...settings, updated_at: new Date() })
        .where('id', '=', organizationId)
        .execute();
    },
  };
}

export type DomainRepository = ReturnType<typeof createDomainRepository>;
