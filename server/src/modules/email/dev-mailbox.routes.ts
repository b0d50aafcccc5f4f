import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { DevMailbox } from './providers/dev-mailbox.ts';
import { decodeCursor, toPage } from '../../lib/pagination.ts';
import { requireAuth } from '../auth/index.ts';
import { authErrors, Cursor, ErrorResponse, Limit, NextCursor, Timestamp, Uuid } from '../common.schemas.ts';
import { extractLinks, headersOf } from './providers/dev-mailbox.ts';

const MailboxMessage = Type.Object(
  {
    id: Uuid,
    from: Type.String(),
    to: Type.String(),
    subject: Type.String(),
    text: Type.String(),
    html: Type.String(),
    headers: Type.Record(Type.String(), Type.String(), { description: 'The headers the message was sent with (List-Unsubscribe, List-Id, Reply-To, …)' }),
    links: Type.Array(Type.String(), { description: 'Every link in the message, in order' }),
    created_at: Timestamp,
  },
  { $id: 'DevMailboxMessage' },
);

/** The dev mailbox of the caller's organization: what would have been sent with no provider configured. */
export const devMailboxRoutes: FastifyPluginAsyncTypebox<{ devMailbox: DevMailbox }> = async (app, { devMailbox }) => {
  app.get(
    '/dev/mailbox',
    {
      schema: {
        tags: ['email'],
        operationId: 'listDevMailbox',
        summary: 'Messages kept in the dev mailbox for this organization, newest first',
        querystring: Type.Object(
          {
            limit: Type.Optional(Limit),
            cursor: Type.Optional(Cursor),
            to: Type.Optional(Type.String({ minLength: 1, maxLength: 254 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(MailboxMessage), next_cursor: NextCursor }), 400: ErrorResponse, ...authErrors },
      },
      config: { access: { role: 'admin' } },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const rows = await devMailbox.list(requireAuth(request).organizationId, { limit, beforeId: decodeCursor(request.query.cursor), to: request.query.to });
      return toPage(
        rows.map((m) => ({
          id: m.id,
          from: m.from_address,
          to: m.to_address,
          subject: m.subject,
          text: m.text,
          html: m.html,
          headers: headersOf(m.headers),
          links: extractLinks(m.text, m.html),
          created_at: m.created_at,
        })),
        limit,
      );
    },
  );
};
