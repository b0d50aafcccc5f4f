import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Config } from '../../config/index.ts';
import { clientIp } from '../../lib/client-ip.ts';
import { AppError } from '../../lib/errors.ts';
import type { TokenClaims, TokenSigner } from '../../lib/tokens.ts';
import { ErrorResponse } from '../common.schemas.ts';
import { CLICK_PURPOSE, OPEN_PURPOSE, trackableUrl, TRAP_PURPOSE } from '../email/index.ts';
import { classify, type Hit } from './classifier.ts';
import type { EngagementRecorder } from './recorder.ts';

// A transparent 1×1 GIF (42 bytes).
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
const TokenParams = Type.Object({ token: Type.String({ maxLength: 4096 }) }, { additionalProperties: false });
const noStore = { 'cache-control': 'no-store, max-age=0', 'referrer-policy': 'no-referrer', 'x-robots-tag': 'noindex' };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const invalidLink = () => new AppError(404, 'invalid_link', 'This link is not valid. Open the email again, or copy the address the email names.');

/** The claims of a genuine tracking token, or null: garbage is never an error the reader sees as a 5xx. */
function claimsOf(
  tokens: TokenSigner,
  token: string,
  purpose: string,
): (TokenClaims & { campaignId: string; messageId: string | null; sentAt: number | null }) | null {
  let claims: TokenClaims;
  try {
    claims = tokens.verify(token, purpose);
  } catch {
    return null;
  }
  const campaignId = claims.extra?.c;
  if (!campaignId || !UUID.test(campaignId) || !UUID.test(claims.organizationId)) return null;
  const messageId = claims.subjectId === '-' ? null : claims.subjectId;
  if (messageId !== null && !UUID.test(messageId)) return null;
  const seconds = Number(claims.extra?.t);
  return { ...claims, campaignId, messageId, sentAt: Number.isFinite(seconds) ? seconds * 1000 : null };
}

/**
 * Open and click tracking (`/t/…`, outside /api/v1, no credentials: the signed token in the path is
 * the only one). `/t/o/{token}` is the open pixel, `/t/c/{token}` a link, `/t/h/{token}` the hidden
 * honeypot link. Each hit is classified human or machine and handed to the recorder, which writes it
 * later in a batch: nothing here waits for PostgreSQL. A link redirects only to the address signed into
 * its token (never an open redirect); a forged, altered or garbage token gets a 404 (link) or the pixel
 * (open), never a 5xx. HEAD is answered like GET (Fastify) and counted as a machine.
 */
export const trackingRoutes: FastifyPluginAsyncTypebox<{ config: Readonly<Config>; tokens: TokenSigner; recorder: EngagementRecorder }> = async (
  app,
  { config, tokens, recorder },
) => {
  const hitOf = (request: FastifyRequest, kind: Hit['kind'], sentAt: number | null): Hit => ({
    kind,
    method: request.method,
    userAgent: request.headers['user-agent'] ?? null,
    ip: clientIp(request, config.TRUST_CF_CONNECTING_IP),
    sentAt,
    at: Date.now(),
  });
  // Each hit is recorded as an engagement event already, and a campaign brings thousands a second: a log
  // line per hit would double the writes (and was a tenth of the redirect's CPU). Failures still log.
  const common = { config: { access: { public: true as const }, rateLimit: false as const }, logLevel: 'warn' as const };

  app.get(
    '/t/o/:token',
    {
      schema: {
        tags: ['tracking'],
        operationId: 'trackOpen',
        summary: 'Open pixel: a 1×1 GIF, always; counts the open when the token is genuine',
        params: TokenParams,
        response: { 200: Type.Unknown({ description: 'image/gif' }) },
      },
      ...common,
    },
    async (request, reply) => {
      const claims = claimsOf(tokens, request.params.token, OPEN_PURPOSE);
      if (claims) {
        const verdict = classify(hitOf(request, 'open', claims.sentAt));
        recorder.record({
          organizationId: claims.organizationId,
          campaignId: claims.campaignId,
          messageId: claims.messageId,
          kind: 'open',
          ...verdict,
          url: null,
          userAgent: request.headers['user-agent'] ?? null,
          source: 'pixel',
          at: new Date(),
        });
      }
      return reply.headers({ ...noStore, 'content-type': 'image/gif' }).send(PIXEL);
    },
  );

  app.get(
    '/t/c/:token',
    {
      schema: {
        tags: ['tracking'],
        operationId: 'trackClick',
        summary: 'A tracked link: counts the click and redirects to the address signed into the link',
        params: TokenParams,
        response: { 302: Type.Null({ description: "Location: the link's address" }), 404: ErrorResponse },
      },
      ...common,
    },
    async (request, reply) => {
      const claims = claimsOf(tokens, request.params.token, CLICK_PURPOSE);
      const target = claims?.extra?.u;
      if (!claims || !target || !trackableUrl(target)) throw invalidLink();
      const verdict = classify(hitOf(request, 'click', claims.sentAt));
      recorder.record({
        organizationId: claims.organizationId,
        campaignId: claims.campaignId,
        messageId: claims.messageId,
        kind: 'click',
        ...verdict,
        url: target,
        userAgent: request.headers['user-agent'] ?? null,
        source: 'redirect',
        at: new Date(),
      });
      return reply.headers(noStore).redirect(target, 302);
    },
  );

  app.get(
    '/t/h/:token',
    {
      schema: {
        tags: ['tracking'],
        operationId: 'trackHoneypot',
        summary: 'The hidden link no person sees: whatever follows it is a machine',
        params: TokenParams,
        response: { 404: ErrorResponse },
      },
      ...common,
    },
    async (request) => {
      const claims = claimsOf(tokens, request.params.token, TRAP_PURPOSE);
      if (claims) {
        const verdict = classify(hitOf(request, 'trap', claims.sentAt));
        recorder.record({
          organizationId: claims.organizationId,
          campaignId: claims.campaignId,
          messageId: claims.messageId,
          kind: 'click',
          ...verdict,
          url: null,
          userAgent: request.headers['user-agent'] ?? null,
          source: 'honeypot',
          at: new Date(),
        });
      }
      throw invalidLink();
    },
  );
};
