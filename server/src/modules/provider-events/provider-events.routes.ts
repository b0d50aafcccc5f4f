import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { ProviderEventService } from './provider-events.service.ts';
import { AppError, badRequest, unauthorized } from '../../lib/errors.ts';
import { ErrorResponse } from '../common.schemas.ts';
import { verifySignature } from './signature.ts';

const BODY_LIMIT = 256 * 1024;
const HeaderValue = Type.Optional(Type.String({ maxLength: 4096 }));

/**
 * Provider webhooks. The signature covers the exact bytes sent, so this plugin keeps JSON bodies as raw
 * text (in its own encapsulated scope; other routes are unaffected) and parses them only after checking.
 */
export const providerHookRoutes: FastifyPluginAsyncTypebox<{ secret: string | undefined; events: ProviderEventService }> = async (app, { secret, events }) => {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_request, body, done) => done(null, body));

  app.post('/hooks/resend', {
    schema: {
      tags: ['hooks'], operationId: 'receiveResendEvent',
      summary: 'Delivery events from Resend, signed with Standard Webhooks (svix-id, svix-timestamp, svix-signature)',
      headers: Type.Object({ 'svix-id': HeaderValue, 'svix-timestamp': HeaderValue, 'svix-signature': HeaderValue }),
      response: { 200: Type.Object({ received: Type.Boolean(), result: Type.String() }), 400: ErrorResponse, 401: ErrorResponse },
    },
    bodyLimit: BODY_LIMIT,
    config: { access: { public: true }, rateLimit: false },
  }, async (request) => {
    const header = (name: string) => {
      const value = request.headers[`svix-${name}`] ?? request.headers[`webhook-${name}`];
      return typeof value === 'string' ? value : undefined;
    };
    const raw = typeof request.body === 'string' ? request.body : '';
    const headers = { id: header('id'), timestamp: header('timestamp'), signature: header('signature') };
    if (!secret || !verifySignature(secret, headers, raw)) {
      if (!secret) request.log.warn('a Resend webhook arrived but RESEND_WEBHOOK_SECRET is not set');
      throw unauthorized('invalid_signature', 'The webhook signature is missing, wrong or too old');
    }
    let event: unknown;
    try {
      event = JSON.parse(raw);
    } catch {
      throw badRequest('invalid_json', 'The request body is not valid JSON');
    }
    try {
      return { received: true, result: await events.applyResendEvent(headers.id!, event) };
    } catch (error) {
      // A 5xx makes the provider deliver again later; the event id was not recorded, so it applies then.
      throw new AppError(500, 'event_not_applied', 'The event could not be applied; it will be retried', { cause: error });
    }
  });
};
