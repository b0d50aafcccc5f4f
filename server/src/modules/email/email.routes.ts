import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { EmailService } from './email.service.ts';
import { unprocessable } from '../../lib/errors.ts';
import { requireAuth, requireSession } from '../auth/index.ts';
import { authErrors, ErrorResponse, IdParams } from '../common.schemas.ts';
import { EmailMessage, SendEmailBody, SendEmailResult, SubscriberEmailPage, SubscriberEmailsQuery, TemplateTestBody, TemplateTestResult } from './email.schemas.ts';

const VARIABLES_MAX_BYTES = 64 * 1024;

export const emailRoutes: FastifyPluginAsyncTypebox<{ emails: EmailService }> = async (app, { emails }) => {

  app.post('/templates/:id/test', {
    schema: {
      tags: ['templates'], operationId: 'sendTemplateTest',
      summary: 'Send the template to yourself as a test, rendered for a sample subscriber; subject marked [Test]',
      description: 'Team members only (a session, not an API key), and only to their own address. Works for marketing templates too: the address need not be a subscriber. Counts against the month\'s quota.',
      params: IdParams, body: TemplateTestBody, response: { 202: TemplateTestResult, 402: ErrorResponse, 404: ErrorResponse, ...authErrors },
    },
    config: { access: { role: 'admin' } },
  }, async (request, reply) => {
    const session = requireSession(request);
    const variables = request.body.variables ?? {};
    if (Buffer.byteLength(JSON.stringify(variables)) > VARIABLES_MAX_BYTES) {
      throw unprocessable('validation_error', 'The request is not valid', [{ field: 'variables', code: 'too_long', message: `must be at most ${VARIABLES_MAX_BYTES} bytes as JSON` }]);
    }
    return reply.code(202).send(await emails.sendTest(session.organizationId, { templateId: request.params.id, userId: session.userId, variables }));
  });

  app.post('/emails/send', {
    schema: {
      tags: ['emails'], operationId: 'sendEmail',
      summary: 'Send a transactional email from a template; answers 202 once it is queued',
      body: SendEmailBody,
      response: { 202: SendEmailResult, 402: ErrorResponse, 404: ErrorResponse, ...authErrors },
    },
    config: { access: { scope: 'emails:send' }, idempotent: true },
  }, async (request, reply) => {
    const body = request.body;
    if ((body.template_slug === undefined) === (body.template_id === undefined)) {
      throw unprocessable('validation_error', 'The request is not valid', [{ field: 'template_slug', message: 'give exactly one of template_slug and template_id' }]);
    }
    if (body.variables && Buffer.byteLength(JSON.stringify(body.variables)) > VARIABLES_MAX_BYTES) {
      throw unprocessable('validation_error', 'The request is not valid', [{ field: 'variables', message: `must be at most ${VARIABLES_MAX_BYTES} bytes as JSON` }]);
    }
    const header = request.headers['idempotency-key'];
    const result = await emails.send(requireAuth(request).organizationId, body, typeof header === 'string' ? header : undefined);
    return reply.code(202).send(result);
  });

  app.get('/emails/:id', {
    schema: { tags: ['emails'], operationId: 'getEmail', summary: 'Status of a sent email, with the provider\'s message id', params: IdParams, response: { 200: EmailMessage, 404: ErrorResponse, ...authErrors } },
    config: { access: { scope: 'emails:send', role: 'viewer' } },
  }, async (request) => emails.get(requireAuth(request).organizationId, request.params.id));

  // Listed under subscribers in the API reference, next to their consent history and notes; the email
  // module owns the messages, so the route lives here.
  app.get('/subscribers/:id/emails', {
    schema: {
      tags: ['subscribers'], operationId: 'listSubscriberEmails', summary: 'Emails sent to a subscriber, newest first (status and timestamps, never the body)',
      params: IdParams, querystring: SubscriberEmailsQuery, response: { 200: SubscriberEmailPage, 400: ErrorResponse, 404: ErrorResponse, ...authErrors },
    },
    config: { access: { scope: 'subscribers:read' } },
  }, async (request) => emails.listForSubscriber(requireAuth(request).organizationId, request.params.id, request.query));
};
