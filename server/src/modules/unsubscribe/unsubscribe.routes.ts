import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Config } from '../../config/index.ts';
import { claimedOrganization, type TokenSigner } from '../../lib/tokens.ts';
import type { EmailLinks } from '../email/index.ts';
import type { UnsubscribeService } from './unsubscribe.service.ts';
import type { TokenClaims } from '../../lib/tokens.ts';
import { clientIp } from '../../lib/client-ip.ts';
import { ErrorResponse } from '../common.schemas.ts';
import { UNSUBSCRIBE_PURPOSE } from '../email/index.ts';

const TokenParams = Type.Object(
  { token: Type.String({ minLength: 10, maxLength: 2048, pattern: '^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$' }) },
  { additionalProperties: false },
);
// The link people click: any text, so that a link cut short or mangled by a mail client still ends on
// a page ("send me a new link") instead of a JSON validation error.
const LinkParams = Type.Object({ token: Type.String({ minLength: 1, maxLength: 2048 }) }, { additionalProperties: false });
const LinkQuery = Type.Object(
  {
    view: Type.Optional(
      Type.Literal('manage', {
        description: 'manage: open the preference center on the topics (the footer\'s "Manage preferences" link) rather than on the unsubscribe card',
      }),
    ),
  },
  { additionalProperties: true },
);
const BODY_LIMIT = 4096;

/**
 * One-click unsubscribe (RFC 8058) at the URL of the List-Unsubscribe header. Mail clients POST with a
 * form body and no cookies; the signed token in the path is the only credential. POST unsubscribes at
 * once and answers 200 (never a redirect), also when already unsubscribed. GET is what link scanners and
 * people clicking the footer link do: it changes nothing and redirects to the preference center.
 */
export const unsubscribeRoutes: FastifyPluginAsyncTypebox<{
  config: Readonly<Config>;
  tokens: TokenSigner;
  links: EmailLinks;
  unsubscribe: UnsubscribeService;
}> = async (app, { config, tokens, links, unsubscribe }) => {
  // The body ("List-Unsubscribe=One-Click", form or multipart) carries nothing we need; accept any type.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_request, _body, done) => done(null, null));

  const noStore = { 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' };

  app.post(
    '/u/:token',
    {
      schema: {
        tags: ['unsubscribe'],
        operationId: 'oneClickUnsubscribe',
        summary: 'RFC 8058 one-click unsubscribe; idempotent',
        params: TokenParams,
        response: { 200: Type.Object({ status: Type.Literal('unsubscribed') }), 401: ErrorResponse },
      },
      bodyLimit: BODY_LIMIT,
      config: { access: { public: true }, rateLimit: false },
    },
    async (request, reply) => {
      const claims: TokenClaims = tokens.verify(request.params.token, UNSUBSCRIBE_PURPOSE);
      await unsubscribe.unsubscribe({
        organizationId: claims.organizationId,
        subscriberId: claims.subjectId,
        campaignId: claims.extra?.c ?? null,
        source: 'one_click',
        ip: clientIp(request, config.TRUST_CF_CONNECTING_IP),
        userAgent: request.headers['user-agent']?.slice(0, 512) ?? null,
      });
      return reply.headers(noStore).send({ status: 'unsubscribed' as const });
    },
  );

  app.get(
    '/u/:token',
    {
      schema: {
        tags: ['unsubscribe'],
        operationId: 'openUnsubscribeLink',
        summary: 'Redirects to the preference center, opened on the unsubscribe card; changes nothing',
        // The card names the campaign's public topics (`topics=` in the redirect) to offer "this topic only".
        description: 'A broken or tampered link redirects to the preference center\'s "send me a new link" page of the organization the link names.',
        params: LinkParams,
        querystring: LinkQuery,
        response: { 302: Type.Null({ description: 'Location: the preference center with a fresh preference token' }) },
      },
      config: { access: { public: true }, rateLimit: false },
    },
    async (request, reply) => {
      const app = config.PREFERENCES_APP_URL.replace(/\/+$/, '');
      let target: string;
      try {
        const claims = tokens.verify(request.params.token, UNSUBSCRIBE_PURPOSE);
        target = links.preferenceCenterUrl(claims.organizationId, claims.subjectId);
        if (request.query.view !== 'manage') {
          // The card offers to leave only the topics this email was about, when the campaign names some.
          const topics = await unsubscribe.campaignTopics(claims.organizationId, claims.extra?.c);
          target += `&view=unsubscribe${topics.length > 0 ? `&topics=${topics.join(',')}` : ''}`;
        }
      } catch {
        const organizationId = claimedOrganization(request.params.token);
        const slug = organizationId ? await unsubscribe.organizationSlug(organizationId) : null;
        target = `${app}/?error=invalid_link${slug ? `&org=${encodeURIComponent(slug)}` : ''}`;
      }
      return reply.headers(noStore).redirect(target, 302);
    },
  );
};
