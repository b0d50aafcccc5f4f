import type { Kysely } from 'kysely';
import type { Row } from '../../db/client.ts';
import type { DB } from '../../db/types.ts';
import type { TemplateCategory } from './renderer.ts';

const columns = ['id', 'name', 'slug', 'category', 'subject', 'mjml_content', 'variables_schema', 'archived_at', 'created_at', 'updated_at'] as const;

export type TemplateRow = Row<'templates', (typeof columns)[number], { category: TemplateCategory; variables_schema: Record<string, unknown> }>;

export interface TemplateForSend extends TemplateRow {
  compiled_html: string;
  version: number;
}

export interface TemplateWrite {
  name: string;
  slug: string;
  category: TemplateCategory;
  subject: string;
  mjml_content: string;
  variables_schema: Record<string, unknown>;
  compiled_html: string;
}

const UNIQUE_VIOLATION = '23505';
const isUniqueViolation = (error: unknown) => (error as { code?: string }).code === UNIQUE_VIOLATION;

export function createTemplateRepository(db: Kysely<DB>) {
  const select = (organizationId: string) => db.selectFrom('templates').select(columns).where('organization_id', '=', organizationId);

  return {
    /** Inserts a template; undefined when an active template of the organization has the slug. */
    async insert(organizationId: string, id: string, row: TemplateWrite): Promise<TemplateRow | undefined> {
      try {
        return (await db
          .insertInto('templates')
          .values({ id, organization_id: organizationId, ...row, variables_schema: JSON.stringify(row.variables_schema) })
          .returning(columns)
          .executeTakeFirstOrThrow()) as TemplateRow;
      } catch (error) {
        if (isUniqueViolation(error)) return undefined;
        throw error;
      }
    },

    async findById(organizationId: string, id: string): Promise<TemplateRow | undefined> {
      return (await select(organizationId).where('id', '=', id).executeTakeFirst()) as TemplateRow | undefined;
    },

    /** An active template with its compiled HTML, by id or slug. */
    async findForSend(organizationId: string, ref: { id: string } | { slug: string }): Promise<TemplateForSend | undefined> {
      let query = db
        .selectFrom('templates')
        .select([...columns, 'compiled_html', 'version'])
        .where('organization_id', '=', organizationId)
        .where('archived_at', 'is', null);
      query = 'id' in ref ? query.where('id', '=', ref.id) : query.where('slug', '=', ref.slug);
      return (await query.executeTakeFirst()) as TemplateForSend | undefined;
    },

    async list(organizationId: string, options: { limit: number; beforeId?: string; category?: TemplateCategory; archived: boolean }): Promise<TemplateRow[]> {
      let query = select(organizationId).where('archived_at', options.archived ? 'is not' : 'is', null);
      if (options.beforeId) query = query.where('id', '<', options.beforeId);
      if (options.category) query = query.where('category', '=', options.category);
      return (await query
        .orderBy('id', 'desc')
        .limit(options.limit + 1)
        .execute()) as TemplateRow[];
    },

    /** Updates an active template; 'conflict' when the new slug is taken, undefined when not found. */
    async update(organizationId: string, id: string, row: Partial<TemplateWrite>): Promise<TemplateRow | 'conflict' | undefined> {
      try {
        return (await db
          .updateTable('templates')
          .set((eb) => ({
            ...row,
            variables_schema: row.variables_schema ? JSON.stringify(row.variables_schema) : undefined,
            version: eb('version', '+', 1),
            updated_at: new Date(),
          }))
          .where('organization_id', '=', organizationId)
          .where('id', '=', id)
          .where('archived_at', 'is', null)
          .returning(columns)
          .executeTakeFirst()) as TemplateRow | undefined;
      } catch (error) {
        if (isUniqueViolation(error)) return 'conflict';
        throw error;
      }
    },

    /** Archives an active template; false when there is no such active template. */
    async archive(organizationId: string, id: string): Promise<boolean> {
      const result = await db
        .updateTable('templates')
        .set({ archived_at: new Date(), updated_at: new Date() })
        .where('organization_id', '=', organizationId)
        .where('id', '=', id)
        .where('archived_at', 'is', null)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
  };
}

export type TemplateRepository = ReturnType<typeof createTemplateRepository>;
