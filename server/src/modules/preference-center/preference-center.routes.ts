import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import type { Config } from '../../config/index.ts';
import type { Links } from './links.ts';
import type { PreferenceCenterService } from './preference-center.service.ts';
import { requireAuth } from '../auth/index.ts';
import { createLocalLimiter } from '../../lib/local-limit.ts';
import { expiredToken, invalidToken, type TokenClaims } from '../../lib/tokens.ts';
import { clientIp } from '../../lib/client-ip.ts';
import { authErrors, ErrorResponse, IdParams, NoContent } from '../common.schemas.ts';
import {
  AcceptedResponse,
  CreatePreferenceTokenBody,
  ExportResponse,
  PreferenceCenterView,
  PreferenceTokenResponse,
  RequestLinkBody,
  ResubscribeBody,
  ResubscribeResponse,
  SetTagBody,
  SetTagResponse,
  TagParams,
  TokenQuery,
  UndoBody,
  UndoResponse,
  UnsubscribeAllQuery,
  UnsubscribeAllResponse,
} from './preference-center.schemas.ts';
import type { PreferenceLink } from './links.ts';

/**
 * The preference center's API. Subscriber routes are public in the auth sense and check the signed link
 * (`?token=`, as in the reference API) themselves; they are rate-limited per subscriber, so people behind
 * one address (an office, a mobile carrier) do not share a budget, while bad links count per client IP.
 */
export const preferenceCenterRoutes: FastifyPluginAsyncTypebox<{ config: Readonly<Config>; service: PreferenceCenterService; links: Links }> = async (
  app,
  { config, service, links },
) => {
  const ipOf = (request: FastifyRequest) => clientIp(request, config.TRUST_CF_CONNECTING_IP);
  const from = (request: FastifyRequest) => ({ ip: ipOf(request), userAgent: request.headers['user-agent']?.slice(0, 512) ?? null });
  const tokenErrors = { 401: ErrorResponse, 422: ErrorResponse, 429: ErrorResponse };
  // Each request's link, signature checked once for both its rate-limit key and its use.
  const inspected = new WeakMap<FastifyRequest, PreferenceLink | null>();
  const linkOf = (request: FastifyRequest): PreferenceLink | null => {
    let link = inspected.get(request);
    if (link === undefined) {
      const token = (request.query as { token?: unknown } | undefined)?.token;
      link = typeof token === 'string' && token.length <= 2048 ? links.inspectPreference(token) : null;
      inspected.set(request, link);
    }
    return link;
  };
  // The claims of a usable link, from the same single check; the rate-limit hook ran it already.
  const claimsOf = (request: FastifyRequest): TokenClaims => {
    const link = linkOf(request);
    if (!link) throw invalidToken();
    if (link.expired) throw expiredToken();
    return link.claims;
  };
  const limitKey = (request: FastifyRequest) => {
    const link = linkOf(request);
    return link ? `pref:${link.claims.organizationId}:${link.claims.subjectId}` : `ip:${ipOf(request)}`;
  };
  const perLink = { max: config.RATE_LIMIT_PREFERENCE_TOKEN_PER_MINUTE, keyGenerator: limitKey };
  const tokenRoute = { access: { public: true as const }, rateLimit: perLink };
  // The page's read is the hot path (every open of every email's link): counted in this process rather
  // than with a Redis round trip, which cost more than the read itself (lib/local-limit.ts).
  const pageReads = createLocalLimiter({ max: config.RATE_LIMIT_PREFERENCE_TOKEN_PER_MINUTE, windowMs: 60_000, maxKeys: 100_000 });

  // Personal data: never cached by a browser or proxy, never sent on as a referrer.
  app.addHook('onSend', (_request, reply, payload, done) => {
    void reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
    done(null, payload);
  });

  app.post(
    '/subscribers/:id/preference-token',
    {
      schema: {
        tags: ['preference-center'],
        operationId: 'createPreferenceToken',
        summary: 'Mint a signed preference-center link for a subscriber',
        params: IdParams,
        body: CreatePreferenceTokenBody,
        response: { 200: PreferenceTokenResponse, 404: ErrorResponse, ...authErrors },
      },
      config: { access: { scope: 'subscribers:write' } },
    },
    async (request) => service.issue(requireAuth(request).organizationId, request.params.id, request.body?.expires_in),
  );

  app.get(
    '/preference-center',
    {
      schema: {
        tags: ['preference-center'],
        operationId: 'getPreferenceCenter',
        summary: "The subscriber, the organization's branding and texts, and the public topics",
        querystring: TokenQuery,
        response: { 200: PreferenceCenterView, ...tokenErrors },
      },
      config: { access: { public: true }, rateLimit: false },
      onRequest: (request, reply, done) => {
        try {
          void reply.headers(pageReads.hit(limitKey(request)));
          done();
        } catch (error) {
          done(error as Error);
        }
      },
    },
    async (request) => {
      const link = linkOf(request);
      // Not a subscriber's link: perhaps an admin's preview, which only this read accepts.
      const previewOf = link ? null : links.verifyPreview(request.query.token);
      return previewOf ? service.preview(previewOf) : service.viewLink(link);
    },
  );

  app.put(
    '/preference-center/tags/:tag_id',
    {
      schema: {
        tags: ['preference-center'],
        operationId: 'setPreferenceTag',
        summary: 'Subscribe to or unsubscribe from one public topic',
        querystring: TokenQuery,
        params: TagParams,
        body: SetTagBody,
        response: { 200: SetTagResponse, 404: ErrorResponse, ...tokenErrors },
      },
      config: tokenRoute,
    },
    async (request) => service.setTag(claimsOf(request), request.params.tag_id, request.body.subscribed, from(request), request.body.reason ?? null),
  );

  app.post(
    '/preference-center/unsubscribe-all',
    {
      schema: {
        tags: ['preference-center'],
        operationId: 'unsubscribeAll',
        summary: 'Unsubscribe from every topic and all email; returns an undo token valid for 15 minutes',
        querystring: UnsubscribeAllQuery,
        response: { 200: UnsubscribeAllResponse, ...tokenErrors },
      },
      config: tokenRoute,
    },
    async (request) => service.unsubscribeAll(claimsOf(request), from(request), request.query.reason ?? null),
  );

  app.post(
    '/preference-center/unsubscribe-all/undo',
    {
      schema: {
        tags: ['preference-center'],
        operationId: 'undoUnsubscribeAll',
        summary: 'Take back an unsubscribe-all within 15 minutes',
        querystring: TokenQuery,
        body: UndoBody,
        response: { 200: UndoResponse, 409: ErrorResponse, ...tokenErrors },
      },
      config: tokenRoute,
    },
    async (request) => service.undoUnsubscribeAll(claimsOf(request), request.body.undo_token, from(request)),
  );

  app.post(
    '/preference-center/resubscribe',
    {
      schema: {
        tags: ['preference-center'],
        operationId: 'resubscribe',
        summary: 'Email a confirmation link; the subscriber is active again only after confirming',
        querystring: TokenQuery,
        body: ResubscribeBody,
        response: { 202: ResubscribeResponse, 200: ResubscribeResponse, ...tokenErrors },
      },
      config: { ...tokenRoute, idempotent: true },
    },
    async (request, reply) => {
      const result = await service.resubscribe(claimsOf(request), request.body?.locale);
      return reply.code(result.status === 'confirmation_sent' ? 202 : 200).send(result);
    },
  );

  app.get(
    '/preference-center/export',
    {
      schema: {
        tags: ['preference-center'],
        operationId: 'exportPreferenceData',
        summary: 'Everything held about the subscriber, as a JSON download',
        description: 'Needs a link emailed on request (request-link); a link from any other email answers 403 fresh_link_required.',
        querystring: TokenQuery,
        response: { 200: ExportResponse, 403: ErrorResponse, ...tokenErrors },
      },
      config: tokenRoute,
    },
    async (request, reply) => {
      const data = await service.export(claimsOf(request));
      return reply.header('content-disposition', 'attachment; filename="my-subscription-data.json"').send(data);
    },
  );

  app.delete(
    '/preference-center',
    {
      schema: {
        tags: ['preference-center'],
        operationId: 'deletePreferenceData',
        summary: 'Erase the subscriber and everything about them (irreversible)',
        description: 'Needs a link emailed on request (request-link); a link from any other email answers 403 fresh_link_required.',
        querystring: TokenQuery,
        response: { 204: NoContent, 403: ErrorResponse, ...tokenErrors },
      },
      config: tokenRoute,
    },
    async (request, reply) => {
      await service.erase(claimsOf(request), from(request));
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/preference-center/request-link',
    {
      schema: {
        tags: ['preference-center'],
        operationId: 'requestPreferenceLink',
        summary: 'Email a fresh link; the answer is the same whether or not the address is known',
        body: RequestLinkBody,
        response: { 202: AcceptedResponse, 422: ErrorResponse, 429: ErrorResponse },
      },
      config: { access: { public: true }, idempotent: true, rateLimit: { max: config.RATE_LIMIT_PUBLIC_FORM_PER_MINUTE } },
    },
    async (request, reply) => reply.code(202).send(await service.requestLink(request.body)),
  );
};
