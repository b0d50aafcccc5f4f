import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { RenderedEmail } from './renderer.ts';
import type { TemplateService } from './templates.service.ts';
import { requireAuth, requireScope } from '../auth/index.ts';
import { authErrors, ErrorResponse, IdParams, NoContent } from '../common.schemas.ts';
import {
  CreateTemplateBody,
  ListTemplatesQuery,
  Preview,
  PreviewBody,
  Template,
  TemplatePage,
  UpdateTemplateBody,
  type PreviewInput,
} from './templates.schemas.ts';

/** Template previews one API key or session may render per minute. */
export const PREVIEWS_PER_MINUTE = 120;

/**
 * Rendering a template for a subscriber (with its links and footer) is the email module's work; it is
 * handed in here so that templates need not depend on email.
 */
export interface TemplatePreviews {
  preview(organizationId: string, templateId: string, input: PreviewInput): Promise<RenderedEmail>;
}

export const templateRoutes: FastifyPluginAsyncTypebox<{ templates: TemplateService; emails: TemplatePreviews }> = async (app, { templates, emails }) => {
  const notFound = { 404: ErrorResponse };
  const org = (request: Parameters<typeof requireAuth>[0]) => requireAuth(request).organizationId;

  app.post(
    '/templates',
    {
      schema: {
        tags: ['templates'],
        operationId: 'createTemplate',
        summary: 'Create a template (MJML + Liquid); invalid MJML or Liquid is refused with 422',
        body: CreateTemplateBody,
        response: { 201: Template, 409: ErrorResponse, ...authErrors },
      },
      config: { access: { scope: 'templates:write' }, idempotent: true },
    },
    async (request, reply) => reply.code(201).send(await templates.create(org(request), request.body)),
  );

  app.get(
    '/templates',
    {
      schema: {
        tags: ['templates'],
        operationId: 'listTemplates',
        summary: 'List templates, newest first (active ones unless status=archived)',
        querystring: ListTemplatesQuery,
        response: { 200: TemplatePage, 400: ErrorResponse, ...authErrors },
      },
      config: { access: { scope: 'templates:read' } },
    },
    async (request) => templates.list(org(request), request.query),
  );

  app.get(
    '/templates/:id',
    {
      schema: {
        tags: ['templates'],
        operationId: 'getTemplate',
        summary: 'Get a template, active or archived',
        params: IdParams,
        response: { 200: Template, ...notFound, ...authErrors },
      },
      config: { access: { scope: 'templates:read' } },
    },
    async (request) => templates.get(org(request), request.params.id),
  );

  app.patch(
    '/templates/:id',
    {
      schema: {
        tags: ['templates'],
        operationId: 'updateTemplate',
        summary: 'Change an active template; it is compiled again',
        params: IdParams,
        body: UpdateTemplateBody,
        response: { 200: Template, 409: ErrorResponse, ...notFound, ...authErrors },
      },
      config: { access: { scope: 'templates:write' } },
    },
    async (request) => templates.update(org(request), request.params.id, request.body),
  );

  app.delete(
    '/templates/:id',
    {
      schema: {
        tags: ['templates'],
        operationId: 'archiveTemplate',
        summary: 'Archive a template (soft delete); its slug becomes free',
        params: IdParams,
        response: { 204: NoContent, ...notFound, ...authErrors },
      },
      config: { access: { scope: 'templates:write' } },
    },
    async (request, reply) => {
      await templates.archive(org(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/templates/:id/preview',
    {
      schema: {
        tags: ['templates'],
        operationId: 'previewTemplate',
        summary: 'Render an active template with variables, as a subscriber would get it; sends nothing',
        description:
          'With subject, mjml_content or category in the body, those unsaved edits are rendered instead of the stored ones (for a live preview in an editor). They are checked as saving checks them (invalid MJML or Liquid is a 422 naming the field) and nothing is stored. Rendering a real subscriber (subscriber_id) reads their data and so also needs subscribers:read (the viewer role for sessions). Unsubscribe and preference links in a preview are inert: they look like the real ones but every endpoint refuses them.',
        params: IdParams,
        body: PreviewBody,
        response: { 200: Preview, ...notFound, ...authErrors },
      },
      // Compiling MJML costs real CPU: an editor's debounced preview needs far less than the general limit.
      config: { access: { scope: 'templates:read' }, rateLimit: { max: PREVIEWS_PER_MINUTE, timeWindow: 60_000 } },
    },
    async (request) => {
      // A preview shows the subscriber's address, names and metadata: that is a read of the subscriber.
      if (request.body.subscriber_id !== undefined) requireScope(request, 'subscribers:read');
      return emails.preview(org(request), request.params.id, request.body);
    },
  );
};
