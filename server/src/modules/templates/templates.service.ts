import { conflict, notFound, unprocessable } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { decodeCursor, toPage, type Page } from '../../lib/pagination.ts';
import { slugify } from '../../lib/slug.ts';
import { htmlToText } from './html-to-text.ts';
import type { TemplateCategory, TemplateRenderer } from './renderer.ts';
import type { TemplateForSend, TemplateRepository, TemplateRow } from './templates.repository.ts';
import { VARIABLES_SCHEMA_MAX_BYTES, type CreateTemplateInput, type TemplateDraft, type TemplateDto, type UpdateTemplateInput } from './templates.schemas.ts';

/** A template to preview: the stored one, or the stored one with unsaved edits compiled in (`draft`). */
export type PreviewTemplate = TemplateForSend & { draft: boolean };

const toDto = (row: TemplateRow): TemplateDto => ({
  id: row.id,
  name: row.name,
  slug: row.slug,
  category: row.category,
  subject: row.subject,
  mjml_content: row.mjml_content,
  variables_schema: row.variables_schema,
  status: row.archived_at ? 'archived' : 'active',
  archived_at: row.archived_at,
  created_at: row.created_at,
  updated_at: row.updated_at,
});

function checkSchemaSize(schema: Record<string, unknown> | undefined): void {
  if (schema !== undefined && Buffer.byteLength(JSON.stringify(schema)) > VARIABLES_SCHEMA_MAX_BYTES) {
    throw unprocessable('validation_error', 'The request is not valid', [
      { field: 'variables_schema', message: `must be at most ${VARIABLES_SCHEMA_MAX_BYTES} bytes as JSON` },
    ]);
  }
}

// Fewer words than this in the text part, with images in the HTML, reads as an image-only email.
const MIN_TEXT_WORDS = 10;

/**
 * Warnings about a template just compiled: an email that is mostly images has a text part with next to
 * nothing in it, which spam filters score against the sender (and screen readers have nothing to read).
 */
function withWarnings(dto: TemplateDto, compiledHtml: string | undefined): TemplateDto {
  if (compiledHtml === undefined || !/<img\b/i.test(compiledHtml)) return dto;
  const words = htmlToText(compiledHtml)
    .replace(/\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}|\([^)]*\)/g, ' ')
    .split(/\s+/)
    .filter((w) => /\p{L}/u.test(w));
  if (words.length >= MIN_TEXT_WORDS) return dto;
  return {
    ...dto,
    warnings: ['image_only: the email is (almost) only images; add some text, and alt texts that say what each image says, so the text part is not empty'],
  };
}

const slugTaken = (slug: string) =>
  conflict('template_slug_taken', `An active template already has the slug "${slug}"`, [{ field: 'slug', message: 'is taken by an active template' }]);

/**
 * Templates: MJML + Liquid, compiled on save so a broken template is refused before anything is sent.
 * Archiving is a soft delete that frees the slug for a new template.
 */
export function createTemplateService(deps: { templateRepository: TemplateRepository; renderer: TemplateRenderer }) {
  const { templateRepository: repo, renderer } = deps;

  return {
    async create(organizationId: string, input: CreateTemplateInput): Promise<TemplateDto> {
      checkSchemaSize(input.variables_schema);
      const slug = input.slug ?? slugify(input.name);
      if (!slug)
        throw unprocessable('validation_error', 'The request is not valid', [
          { field: 'name', message: 'needs at least one letter or digit to derive a slug' },
        ]);
      const category: TemplateCategory = input.category ?? 'transactional';
      const variablesSchema = input.variables_schema ?? {};
      const compiledHtml = await renderer.compile({ subject: input.subject, mjml: input.mjml_content, category, variablesSchema });
      const row = await repo.insert(organizationId, newId(), {
        name: input.name.trim(),
        slug,
        category,
        subject: input.subject,
        mjml_content: input.mjml_content,
        variables_schema: variablesSchema,
        compiled_html: compiledHtml,
      });
      if (!row) throw slugTaken(slug);
      return withWarnings(toDto(row), compiledHtml);
    },

    async get(organizationId: string, id: string): Promise<TemplateDto> {
      const row = await repo.findById(organizationId, id);
      if (!row) throw notFound('template');
      return toDto(row);
    },

    async list(
      organizationId: string,
      query: { limit?: number; cursor?: string; category?: TemplateCategory; status?: 'active' | 'archived' },
    ): Promise<Page<TemplateDto>> {
      const limit = query.limit ?? 50;
      const rows = await repo.list(organizationId, {
        limit,
        beforeId: decodeCursor(query.cursor),
        category: query.category,
        archived: query.status === 'archived',
      });
      return toPage(rows.map(toDto), limit);
    },

    async update(organizationId: string, id: string, input: UpdateTemplateInput): Promise<TemplateDto> {
      checkSchemaSize(input.variables_schema);
      const current = await repo.findById(organizationId, id);
      if (!current) throw notFound('template');
      if (current.archived_at) throw conflict('template_archived', 'An archived template cannot be changed; create a new one');
      const next = {
        subject: input.subject ?? current.subject,
        mjml: input.mjml_content ?? current.mjml_content,
        category: input.category ?? current.category,
        variablesSchema: input.variables_schema ?? current.variables_schema,
      };
      const recompile = input.subject !== undefined || input.mjml_content !== undefined || input.category !== undefined || input.variables_schema !== undefined;
      const compiledHtml = recompile ? await renderer.compile(next) : undefined;
      const row = await repo.update(organizationId, id, {
        ...(input.name !== undefined ? { name: input.name.trim() } : {}),
        ...(input.slug !== undefined ? { slug: input.slug } : {}),
        ...(input.category !== undefined ? { category: input.category } : {}),
        ...(input.subject !== undefined ? { subject: input.subject } : {}),
        ...(input.mjml_content !== undefined ? { mjml_content: input.mjml_content } : {}),
        ...(input.variables_schema !== undefined ? { variables_schema: input.variables_schema } : {}),
        ...(compiledHtml !== undefined ? { compiled_html: compiledHtml } : {}),
      });
      if (row === 'conflict') throw slugTaken(input.slug!);
      if (!row) throw notFound('template');
      return withWarnings(toDto(row), compiledHtml);
    },

    /** Archives the template (idempotent); sending with it then answers template_not_found. */
    async archive(organizationId: string, id: string): Promise<void> {
      if (await repo.archive(organizationId, id)) return;
      if (!(await repo.findById(organizationId, id))) throw notFound('template');
    },

    /**
     * An active template ready to preview. Unsaved edits (subject, MJML, category) replace the stored
     * fields and are compiled exactly as saving compiles them, so a draft is refused with the same 422s;
     * nothing is written. The template must exist first: a draft never renders under another
     * organization's id.
     */
    async forPreview(organizationId: string, id: string, draft: TemplateDraft): Promise<PreviewTemplate> {
      const row = await repo.findForSend(organizationId, { id });
      if (!row) throw notFound('template');
      if (draft.subject === undefined && draft.mjml_content === undefined && draft.category === undefined) return { ...row, draft: false };
      const next = {
        subject: draft.subject ?? row.subject,
        mjml_content: draft.mjml_content ?? row.mjml_content,
        category: draft.category ?? row.category,
      };
      const compiledHtml = await renderer.compile({
        subject: next.subject,
        mjml: next.mjml_content,
        category: next.category,
        variablesSchema: row.variables_schema,
      });
      return { ...row, ...next, compiled_html: compiledHtml, draft: true };
    },

    /** An active template ready to render, by id or slug. */
    async forSend(organizationId: string, ref: { id: string } | { slug: string }): Promise<TemplateForSend> {
      const row = await repo.findForSend(organizationId, ref);
      if (!row) throw notFound('template');
      return row;
    },
  };
}

export type TemplateService = ReturnType<typeof createTemplateService>;
