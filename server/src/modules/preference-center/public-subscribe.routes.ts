import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config/index.ts';
import type { Confirmations } from './confirmations.ts';
import type { PublicSubscribeService } from './public-subscribe.service.ts';
import { clientIp } from '../../lib/client-ip.ts';
import { ErrorResponse, NoContent } from '../common.schemas.ts';
import {
  ConfirmationInfo,
  ConfirmationQuery,
  ConfirmBody,
  ConfirmResponse,
  OrgSlugParams,
  SubscribeBody,
  SubscribeResponse,
} from './public-subscribe.schemas.ts';

/**
 * Double opt-in: the subscribe endpoint for organizations' website forms (CORS for the origins the
 * organization allows, per-IP limit, honeypot) and the confirmation page's two calls. A link scanner
 * that opens the confirmation link confirms nothing: only the page's explicit POST does.
 */
export const publicSubscribeRoutes: FastifyPluginAsyncTypebox<{
  config: Readonly<Config>;
  service: PublicSubscribeService;
  confirmations: Confirmations;
}> = async (app, { config, service, confirmations }) => {
  const from = (request: FastifyRequest) => ({
    ip: clientIp(request, config.TRUST_CF_CONNECTING_IP),
    userAgent: request.headers['user-agent']?.slice(0, 512) ?? null,
  });
  const originOf = (request: FastifyRequest) => (typeof request.headers.origin === 'string' ? request.headers.origin : undefined);

  // CORS headers only for an origin the organization lists, on every answer (errors and 429 included) so
  // the website's script can read why a post failed.
  async function allowOrigin(request: FastifyRequest, reply: FastifyReply): Promise<boolean> {
    void reply.header('vary', 'origin');
    const origin = originOf(request);
    const slug = (request.params as { org_slug?: string } | undefined)?.org_slug;
    if (!origin || !slug) return false;
    if (!(await service.formOrigins(slug)).includes(origin.toLowerCase())) return false;
    void reply.header('access-control-allow-origin', origin);
    return true;
  }

  app.options(
    '/public/:org_slug/subscribe',
    {
      schema: { hide: true, operationId: 'preflightPublicSubscribe', params: OrgSlugParams, response: { 204: NoContent } },
      config: { access: { public: true } },
    },
    async (request, reply) => {
      if (await allowOrigin(request, reply)) {
        void reply.headers({
          'access-control-allow-methods': 'POST',
          'access-control-allow-headers': 'content-type, idempotency-key',
          'access-control-max-age': '600',
        });
      }
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/public/:org_slug/subscribe',
    {
      schema: {
        tags: ['public'],
        operationId: 'publicSubscribe',
        summary: 'Sign up from a website form; with double opt-in the person confirms by email',
        params: OrgSlugParams,
        body: SubscribeBody,
        response: { 202: SubscribeResponse, 403: ErrorResponse, 404: ErrorResponse, 422: ErrorResponse, 429: ErrorResponse },
      },
      config: { access: { public: true }, idempotent: true, rateLimit: { max: config.RATE_LIMIT_PUBLIC_FORM_PER_MINUTE } },
      onSend: async (request, reply, payload) => {
        await allowOrigin(request, reply);
        return payload;
      },
    },
    async (request, reply) => {
      const result = await service.subscribe(request.params.org_slug, request.body, { from: from(request), requestOrigin: originOf(request) });
      return reply.code(202).send(result);
    },
  );

  app.get(
    '/public/confirmation',
    {
      schema: {
        tags: ['public'],
        operationId: 'getConfirmation',
        summary: 'What the confirmation page shows for a confirmation link',
        querystring: ConfirmationQuery,
        response: { 200: ConfirmationInfo, 401: ErrorResponse, 422: ErrorResponse, 429: ErrorResponse },
      },
      config: { access: { public: true } },
    },
    async (request, reply) => {
      void reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
      return confirmations.info(request.query.token);
    },
  );

  app.post(
    '/public/confirm',
    {
      schema: {
        tags: ['public'],
        operationId: 'confirmSubscription',
        summary: 'Confirm a subscription (double opt-in; each link works once); records the consent',
        body: ConfirmBody,
        response: { 200: ConfirmResponse, 401: ErrorResponse, 409: ErrorResponse, 422: ErrorResponse, 429: ErrorResponse },
      },
      config: { access: { public: true } },
    },
    async (request, reply) => {
      void reply.header('cache-control', 'no-store');
      return confirmations.confirm(request.body.token, request.body.locale, from(request));
    },
  );
};
