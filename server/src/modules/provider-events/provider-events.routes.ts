import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { ProviderEventService } from './provider-events.service.ts';
import { AppError, badRequest, unauthorized } from '../../lib/errors.ts';
import { ErrorResponse } from '../common.schemas.ts';
import { verifySignature } from './signature.ts';
import { dsnReport, parseDsn } from './dsn.ts';
import { constantTimeEqual, sha256Hex } from '../../lib/crypto.ts';

const BODY_LIMIT = 256 * 1024;
const HeaderValue = Type.Optional(Type.String({ maxLength: 4096 }));

/**
 * Provider webhooks. The signature covers the exact bytes sent, so this plugin keeps JSON bodies as raw
 * text (in its own encapsulated scope; other routes are unaffected) and parses them only after checking.
 */
export const providerHookRoutes: FastifyPluginAsyncTypebox<{
  secret: string | undefined;
  bounceSecret: string | undefined;
  events: ProviderEventService;
}> = async (app, { secret, bounceSecret, events }) => {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_request, body, done) => done(null, body));
  app.addContentTypeParser('message/rfc822', { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_request, body, done) => done(null, body));

  const applyOrRetry = async (apply: () => Promise<string>) => {
    try {
      return { received: true, result: await apply() };
    } catch (error) {
      // A 5xx makes the sender deliver again later; the event id was not recorded, so it applies then.
      throw new AppError(500, 'event_not_applied', 'The event could not be applied; it will be retried', { cause: error });
    }
  };

  app.post(
    '/hooks/bounces',
    {
      schema: {
        tags: ['hooks'],
        operationId: 'receiveSmtpBounce',
        summary: 'A bounce (delivery status notification) returned to the SMTP bounce mailbox, posted as the raw message',
        description:
          'For SMTP relays without delivery webhooks: set SMTP_RETURN_PATH so every message is sent with a VERP return path, ' +
          'and pipe what arrives at that mailbox here (Content-Type: message/rfc822, Authorization: Bearer BOUNCE_WEBHOOK_SECRET).',
        headers: Type.Object({ authorization: HeaderValue }),
        response: { 200: Type.Object({ received: Type.Boolean(), result: Type.String() }), 400: ErrorResponse, 401: ErrorResponse, 415: ErrorResponse },
      },
      bodyLimit: BODY_LIMIT,
      config: { access: { public: true }, rateLimit: false },
    },
    async (request) => {
      const token = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
      if (!bounceSecret || !token || !constantTimeEqual(token, bounceSecret)) {
        if (!bounceSecret) request.log.warn('a bounce arrived but BOUNCE_WEBHOOK_SECRET is not set');
        throw unauthorized('invalid_token', 'The bounce token is missing or wrong');
      }
      const raw = typeof request.body === 'string' ? request.body : '';
      if (!raw) throw badRequest('empty_message', 'The request body must be the returned message');
      return applyOrRetry(() => events.apply(dsnReport(parseDsn(raw), `sha256:${sha256Hex(raw)}`)));
    },
  );

  app.post(
    '/hooks/resend',
    {
      schema: {
        tags: ['hooks'],
        operationId: 'receiveResendEvent',
        summary: 'Delivery events from Resend, signed with Standard Webhooks (svix-id, svix-timestamp, svix-signature)',
        headers: Type.Object({ 'svix-id': HeaderValue, 'svix-timestamp': HeaderValue, 'svix-signature': HeaderValue }),
        response: { 200: Type.Object({ received: Type.Boolean(), result: Type.String() }), 400: ErrorResponse, 401: ErrorResponse },
      },
      bodyLimit: BODY_LIMIT,
      config: { access: { public: true }, rateLimit: false },
    },
    async (request) => {
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
      return applyOrRetry(() => events.applyResendEvent(headers.id!, event));
    },
  );
};
