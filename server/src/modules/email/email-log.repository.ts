import { sql, type Kysely } from 'kysely';
import type { DB } from '../../db/types.ts';
import { uuidv7Floor } from '../../lib/ids.ts';
import type { MessageStatus } from './email.repository.ts';

export interface EmailLogFilter {
  status?: MessageStatus;
  category?: 'transactional' | 'marketing';
  /** The recipient's address, or its beginning, any case. */
  to?: string;
  templateId?: string;
  campaignId?: string;
  subscriberId?: string;
  since?: Date;
  until?: Date;
}

const LIKE_SPECIALS = /[\\%_]/g;

/**
 * The organization's email log: every message it sent (transactional, system, campaign), newest first.
 * Message ids are UUIDv7, so a time range becomes an id range on the (organization_id, id DESC) index,
 * and a recipient search uses (organization_id, lower(to_address), id DESC). Bodies are read only for
 * one message at a time.
 */
export function createEmailLogRepository(db: Kysely<DB>) {
  return {
    async list(organizationId: string, filter: EmailLogFilter, page: { limit: number; beforeId?: string }) {
      let query = db
        .selectFrom('email_messages as m')
        .leftJoin('templates as t', (join) => join.onRef('t.id', '=', 'm.template_id').onRef('t.organization_id', '=', 'm.organization_id'))
        .select([
          'm.id',
          'm.status',
          'm.category',
          'm.to_address',
          'm.from_address',
          'm.subject',
          'm.subscriber_id',
          'm.campaign_id',
          'm.provider_message_id',
          'm.error_code',
          'm.error_message',
          'm.open_count',
          'm.click_count',
          'm.created_at',
          'm.sent_at',
          'm.delivered_at',
          'm.opened_at',
          'm.clicked_at',
          'm.bounced_at',
          'm.complained_at',
          'm.failed_at',
          't.id as template_id',
          't.slug as template_slug',
          't.name as template_name',
        ])
        .where('m.organization_id', '=', organizationId);
      if (page.beforeId) query = query.where('m.id', '<', page.beforeId);
      if (filter.since) query = query.where('m.id', '>=', uuidv7Floor(filter.since));
      if (filter.until) query = query.where('m.id', '<', uuidv7Floor(filter.until));
      if (filter.status) query = query.where('m.status', '=', filter.status);
      if (filter.category) query = query.where('m.category', '=', filter.category);
      if (filter.templateId) query = query.where('m.template_id', '=', filter.templateId);
      if (filter.campaignId) query = query.where('m.campaign_id', '=', filter.campaignId);
      if (filter.subscriberId) query = query.where('m.subscriber_id', '=', filter.subscriberId);
      if (filter.to) {
        // A prefix of the lower-cased address; LIKE's wildcards in the search are taken literally.
        const prefix = filter.to.toLowerCase().replace(LIKE_SPECIALS, (c) => `\\${c}`);
        query = query.where(sql<boolean>`lower(m.to_address) like ${`${prefix}%`}`);
      }
      // The columns hold only these values (check constraints); the generated types say text.
      return await query
        .$narrowType<{ status: MessageStatus; category: 'transactional' | 'marketing' }>()
        .orderBy('m.id', 'desc')
        .limit(page.limit + 1)
        .execute();
    },

    /** One message with what was sent (headers, HTML, text) and the provider's events, oldest first. */
    async content(organizationId: string, id: string) {
      const message = await db
        .selectFrom('email_messages')
        .select(['id', 'headers', 'html', 'text'])
        .where('organization_id', '=', organizationId)
        .where('id', '=', id)
        .executeTakeFirst();
      if (!message) return undefined;
      const events = await db
        .selectFrom('provider_events')
        .select(['type', 'provider', 'received_at'])
        .where('organization_id', '=', organizationId)
        .where('email_message_id', '=', id)
        .orderBy('received_at', 'asc')
        .limit(200)
        .execute();
      return { ...message, events };
    },
  };
}

export type EmailLogRepository = ReturnType<typeof createEmailLogRepository>;
