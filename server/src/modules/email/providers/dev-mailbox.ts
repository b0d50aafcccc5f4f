import type { Kysely } from 'kysely';
import type { DB } from '../../../db/types.ts';
import { maskEmail, maskEmailsIn } from '../../../lib/email.ts';
import { deleteInChunks, DELETE_CHUNK } from '../../../db/chunked-delete.ts';
import type { Executor } from '../../../db/client.ts';
import { newId, uuidv7Floor } from '../../../lib/ids.ts';
import type { Logger } from '../../../logger.ts';
import { sendEachInTurn, type EmailProvider, type OutgoingEmail, type SendResult } from './provider.ts';

const LINK = /https?:\/\/[^\s"'<>)]+/g;
// In HTML only what a reader can click is a link: href attributes, not xmlns namespaces, stylesheets or images.
const HREF = /<a\b[^>]*?\bhref\s*=\s*(["'])(https?:\/\/[^"'<>\s]+)\1/gi;

/** Every http(s) link in a message, in order, without duplicates: what a reader would click. */
export function extractLinks(text: string, html: string): string[] {
  const links = [...(text.match(LINK) ?? []), ...[...html.matchAll(HREF)].map((m) => m[2]!)].map((l) => l.replace(/&amp;/g, '&'));
  return [...new Set(links)];
}

/** Stored headers as name → value (the column is jsonb written by the dev mailbox provider). */
export const headersOf = (value: unknown): Record<string, string> =>
  Object.fromEntries(
    Object.entries(value && typeof value === 'object' ? value : {}).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );

/** The dev mailbox repository: stores messages instead of sending them, and reads them back. */
export function createDevMailbox(db: Kysely<DB>) {
  const columns = ['id', 'organization_id', 'from_address', 'to_address', 'subject', 'html', 'text', 'headers', 'created_at'] as const;
  return {
    /**
     * Stores a message once per idempotency key: a retried delivery returns the first message's id,
     * as Resend does, so the dev mailbox shows exactly what a real inbox would receive.
     */
    async store(email: OutgoingEmail): Promise<SendResult & { created: boolean }> {
      const id = newId();
      const inserted = await db
        .insertInto('dev_mailbox')
        .values({
          id,
          organization_id: email.organizationId,
          from_address: email.from,
          to_address: email.to,
          subject: email.subject,
          html: email.html,
          text: email.text,
          headers: JSON.stringify(email.headers ?? {}),
          tags: JSON.stringify(email.tags ?? []),
          idempotency_key: email.idempotencyKey ?? null,
        })
        .onConflict((oc) => oc.column('idempotency_key').where('idempotency_key', 'is not', null).doNothing())
        .returning('id')
        .executeTakeFirst();
      if (inserted) return { providerMessageId: `dev_${inserted.id}`, created: true };
      const existing = await db.selectFrom('dev_mailbox').select('id').where('idempotency_key', '=', email.idempotencyKey!).executeTakeFirstOrThrow();
      return { providerMessageId: `dev_${existing.id}`, created: false };
    },

    /**
     * Stores several messages in one statement on the caller's executor (a transaction commits them with
     * its other writes), once per idempotency key: automation runs of an sf_test_ key deliver here
     * instead of through the provider. Returns how many were new.
     */
    async storeMany(executor: Executor, emails: readonly OutgoingEmail[]): Promise<number> {
      if (emails.length === 0) return 0;
      const inserted = await executor
        .insertInto('dev_mailbox')
        .values(
          emails.map((email) => ({
            id: newId(),
            organization_id: email.organizationId,
            from_address: email.from,
            to_address: email.to,
            subject: email.subject,
            html: email.html,
            text: email.text,
            headers: JSON.stringify(email.headers ?? {}),
            tags: JSON.stringify(email.tags ?? []),
            idempotency_key: email.idempotencyKey ?? null,
          })),
        )
        .onConflict((oc) => oc.column('idempotency_key').where('idempotency_key', 'is not', null).doNothing())
        .returning('id')
        .execute();
      return inserted.length;
    },

    async list(organizationId: string, options: { limit: number; beforeId?: string; to?: string }) {
      let query = db.selectFrom('dev_mailbox').select(columns).where('organization_id', '=', organizationId);
      if (options.beforeId) query = query.where('id', '<', options.beforeId);
      if (options.to) query = query.where((eb) => eb(eb.fn('lower', ['to_address']), '=', options.to!.toLowerCase()));
      return query
        .orderBy('id', 'desc')
        .limit(options.limit + 1)
        .execute();
    },

    /** Retention: messages stored before the cutoff. */
    async deleteBefore(cutoff: Date, signal?: AbortSignal): Promise<number> {
      const floor = uuidv7Floor(cutoff);
      return deleteInChunks(
        async () =>
          (
            await db
              .deleteFrom('dev_mailbox')
              .where('id', 'in', (eb) => eb.selectFrom('dev_mailbox').select('id').where('id', '<', floor).limit(DELETE_CHUNK))
              .executeTakeFirst()
          ).numDeletedRows,
        signal,
      );
    },

    /** The newest message to an address, whichever organization (or none) sent it: for operators. */
    async latestTo(address: string) {
      return db
        .selectFrom('dev_mailbox')
        .select(columns)
        .where((eb) => eb(eb.fn('lower', ['to_address']), '=', address.toLowerCase()))
        .orderBy('id', 'desc')
        .limit(1)
        .executeTakeFirst();
    },
  };
}

export type DevMailbox = ReturnType<typeof createDevMailbox>;

/**
 * The provider used when none is configured. Each stored message is announced in the log with its
 * links, so a developer running `npm start` can click a login or confirmation link straight away.
 */
export function createDevMailboxProvider(mailbox: DevMailbox, logger?: Pick<Logger, 'info'>): EmailProvider {
  const provider: EmailProvider = {
    name: 'dev',
    async send(email) {
      const { providerMessageId, created } = await mailbox.store(email);
      if (created && logger) {
        // The text part lists every link a reader can click; the HTML part also holds stylesheet links.
        // Addresses are masked like everywhere else in the logs (a subject or a mailto: link may hold one too).
        const links = extractLinks(email.text, email.text ? '' : email.html).map(maskEmailsIn);
        const to = maskEmail(email.to);
        const subject = maskEmailsIn(email.subject);
        logger.info({ to, subject, links }, `dev mailbox: "${subject}" to ${to} ${links.join(' ')}`);
      }
      return { providerMessageId };
    },
    sendBatch: (emails, options) => sendEachInTurn(provider, emails, options?.idempotencyKey),
  };
  return provider;
}
