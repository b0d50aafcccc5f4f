import type { Kysely } from 'kysely';
import type { DB } from '../../db/types.ts';
import { defineModule, mount } from '../module.ts';
import { createTemplateRenderer } from './renderer.ts';
import { createTemplateRepository } from './templates.repository.ts';
import { templateRoutes, type TemplatePreviews } from './templates.routes.ts';
import { createTemplateService } from './templates.service.ts';

export { footerStrings, FOOTER_LOCALES, footerLocale, type FooterLocale } from './footer.ts';
export { htmlToText } from './html-to-text.ts';
export { withPreheader } from './preheader.ts';
export { RENDER_LIMITS, SYSTEM_VARIABLES, type RenderableTemplate, type RenderedEmail, type TemplateCategory, type TemplateRenderer } from './renderer.ts';
export type { TemplateForSend, TemplateRepository } from './templates.repository.ts';
export { TEMPLATE_CATEGORIES, type PreviewInput } from './templates.schemas.ts';
export type { PreviewTemplate, TemplateService } from './templates.service.ts';
export type { TemplatePreviews } from './templates.routes.ts';

/**
 * Templates: MJML with sandboxed Liquid variables, compiled and checked on save. Rendering one for a
 * recipient (links, footer, sending) is the email module's; `previews` hands that back for the preview route.
 */
export function createTemplatesModule(deps: { db: Kysely<DB>; previews: TemplatePreviews }) {
  const renderer = createTemplateRenderer();
  const templateRepository = createTemplateRepository(deps.db);
  const templates = createTemplateService({ templateRepository, renderer });
  return defineModule({
    name: 'templates',
    services: { templates, renderer, templateRepository },
    routes: mount(templateRoutes, { templates, emails: deps.previews }),
    close: () => renderer.close(),
  });
}
