import type { Kysely } from 'kysely';
import type { DB } from '../../db/types.ts';
import { newId } from '../../lib/ids.ts';
import type { EmailProvider, OutgoingEmail, SendResult } from './provider.ts';

const LINK = /https?:\/\/[^\s"'<>)]+/g;

/** Every http(s) link in a message, in order, without duplicates: what a reader would click. */
export function extractLinks(text: string, html: string): string[] {
  const links = [...(text.match(LINK) ?? []), ...(html.match(LINK) ?? [])].map((l) => l.replace(/&amp;/g, '&'));
  return [...new Set(links)];
}

/** The dev mailbox repository: stores messages instead of sending them, and reads them back. */
export function createDevMailbox(db: Kysely<DB>) {
  const columns = ['id', 'organization_id', 'from_address', 'to_address', 'subject', 'html', 'text', 'headers', 'created_at'] as const;
  return {
    async store(email: OutgoingEmail): Promise<SendResult> {
      const id = newId();
      await db.insertInto('dev_mailbox').values({
        id,
        organization_id: email.organizationId,
        from_address: email.from,
        to_address: email.to,
        subject: email.subject,
        html: email.html,
        text: email.text,
        headers: JSON.stringify(email.headers ?? {}),
        tags: JSON.stringify(email.tags ?? []),
      }).execute();
      return { providerMessageId: `dev_${id}` };
    },

    async list(organizationId: string, options: { limit: number; beforeId?: string; to?: string }) {
      let query = db.selectFrom('dev_mailbox').select(columns).where('organization_id', '=', organizationId);
      if (options.beforeId) query = query.where('id', '<', options.beforeId);
      if (options.to) query = query.where((eb) => eb(eb.fn('lower', ['to_address']), '=', options.to!.toLowerCase()));
      return query.orderBy('id', 'desc').limit(options.limit + 1).execute();
    },

    /** The newest message to an address, whichever organization (or none) sent it: for operators. */
    async latestTo(address: string) {
      return db.selectFrom('dev_mailbox').select(columns)
        .where((eb) => eb(eb.fn('lower', ['to_address']), '=', address.toLowerCase()))
        .orderBy('id', 'desc').limit(1).executeTakeFirst();
    },
  };
}

export type DevMailbox = ReturnType<typeof createDevMailbox>;

export function createDevMailboxProvider(mailbox: DevMailbox): EmailProvider {
  return { name: 'dev', send: (email) => mailbox.store(email) };
}
