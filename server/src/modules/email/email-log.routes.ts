import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { notFound } from '../../lib/errors.ts';
import { decodeCursor, toPage } from '../../lib/pagination.ts';
import { requireAuth } from '../auth/index.ts';
import { authErrors, ErrorResponse, IdParams } from '../common.schemas.ts';
import type { EmailLogRepository } from './email-log.repository.ts';
import { EmailContent, EmailLogPage, EmailLogQuery } from './email-log.schemas.ts';

/**
 * The organization's email log. It shows recipients' addresses and, for one message, what was sent, so
 * it needs the same right as reading subscribers (`subscribers:read`, any member), not `emails:send`.
 */
export const emailLogRoutes: FastifyPluginAsyncTypebox<{
  emailLog: EmailLogRepository;
  /** The body of a message stored without one (campaign emails), rendered again as it was sent. */
  renderedBody: (organizationId: string, id: string) => Promise<{ html: string; text: string } | undefined>;
}> = async (app, { emailLog, renderedBody }) => {
  app.get(
    '/emails',
    {
      schema: {
        tags: ['emails'],
        operationId: 'listEmails',
        summary: 'Every email of the organization, newest first, with filters (never the body)',
        querystring: EmailLogQuery,
        response: { 200: EmailLogPage, 400: ErrorResponse, ...authErrors },
      },
      config: { access: { scope: 'subscribers:read' } },
    },
    async (request) => {
      const { query } = request;
      const limit = query.limit ?? 50;
      const rows = await emailLog.list(
        requireAuth(request).organizationId,
        {
          status: query.status,
          category: query.category,
          to: query.to?.trim() || undefined,
          templateId: query.template_id,
          campaignId: query.campaign_id,
          subscriberId: query.subscriber_id,
          since: query.since ? new Date(query.since) : undefined,
          until: query.until ? new Date(query.until) : undefined,
        },
        { limit, beforeId: decodeCursor(query.cursor) },
      );
      return toPage(
        rows.map(({ template_id, template_slug, template_name, provider_message_id, error_code, error_message, ...row }) => ({
          ...row,
          template: template_id ? { id: template_id, slug: template_slug!, name: template_name! } : null,
          esp_message_id: provider_message_id,
          error: error_code ? { code: error_code, message: error_message ?? '' } : null,
        })),
        limit,
      );
    },
  );

  app.get(
    '/emails/:id/content',
    {
      schema: {
        tags: ['emails'],
        operationId: 'getEmailContent',
        summary: "What was sent in one email (headers, HTML, text) and the provider's events about it",
        params: IdParams,
        response: { 200: EmailContent, 404: ErrorResponse, ...authErrors },
      },
      config: { access: { scope: 'subscribers:read' } },
    },
    async (request) => {
      const { organizationId } = requireAuth(request);
      const content = await emailLog.content(organizationId, request.params.id);
      if (!content) throw notFound('email');
      const body = content.html !== null && content.text !== null ? { html: content.html, text: content.text } : await renderedBody(organizationId, content.id);
      return { ...content, html: body?.html ?? '', text: body?.text ?? '', headers: content.headers as Record<string, string> };
    },
  );
};
