import { sql, type Kysely } from 'kysely';
import type { DB } from '../../db/types.ts';

/** One open or click, classified, as written to PostgreSQL by a batch. */
export interface EngagementEvent {
  organizationId: string;
  campaignId: string;
  /** Null in privacy mode: the hit counts in the campaign's aggregates and is stored nowhere else. */
  messageId: string | null;
  kind: 'open' | 'click';
  machine: boolean;
  reason: string;
  url: string | null;
  userAgent: string | null;
  source: 'pixel' | 'redirect' | 'honeypot' | 'resend';
  at: Date;
}

const MAX_AGENT = 512;

/**
 * Writes a batch of hits in ONE statement: only hits whose campaign belongs to the organization signed
 * into the link (and whose message, when named, is that campaign's) count; each becomes a raw event
 * (unless in privacy mode), the first hit of a message per kind (and per link) is a unique, and the
 * hourly rollups (the campaign as a whole under url '', and each link) are incremented. A Resend
 * open or click counts only where our own tracking is off for the campaign (the two would count the
 * same reader twice). Rows are written in key order so concurrent batches cannot deadlock.
 */
export async function insertEngagement(db: Kysely<DB>, events: readonly EngagementEvent[]): Promise<number> {
  if (events.length === 0) return 0;
  const column = <T>(pick: (e: EngagementEvent) => T) => events.map(pick);
  const result = await sql<{ stored: string }>`
    with input as (
      select * from unnest(
        ${column((e) => e.organizationId)}::uuid[], ${column((e) => e.campaignId)}::uuid[], ${column((e) => e.messageId)}::uuid[],
        ${column((e) => e.kind)}::text[], ${column((e) => e.machine)}::bool[], ${column((e) => e.reason)}::text[], ${column((e) => e.url)}::text[],
        ${column((e) => e.userAgent?.slice(0, MAX_AGENT) ?? null)}::text[], ${column((e) => e.source)}::text[], ${column((e) => e.at)}::timestamptz[]
      ) as i(organization_id, campaign_id, email_message_id, kind, machine, reason, url, user_agent, source, occurred_at)
    ),
    valid as (
      select i.*, m.subscriber_id
      from input i
      join campaigns c on c.id = i.campaign_id and c.organization_id = i.organization_id
      join organizations o on o.id = i.organization_id
      left join email_messages m on m.id = i.email_message_id and m.organization_id = i.organization_id and m.campaign_id = i.campaign_id
      where (i.email_message_id is null or m.id is not null)
        and (i.source <> 'resend' or not (c.tracking and o.tracking_enabled))
    ),
    stored as (
      insert into engagement_events (organization_id, campaign_id, email_message_id, subscriber_id, kind, machine, reason, url, user_agent, source, occurred_at)
      select organization_id, campaign_id, email_message_id, subscriber_id, kind, machine, reason, url, user_agent, source, occurred_at
      from valid where email_message_id is not null
      returning 1
    ),
    keyed as (
      select organization_id, campaign_id, email_message_id, kind, machine, '' as url, occurred_at from valid
      union all
      select organization_id, campaign_id, email_message_id, kind, machine, url, occurred_at from valid where kind = 'click' and url is not null
    ),
    firsts as (
      insert into engagement_firsts (email_message_id, kind, machine, url, campaign_id, occurred_at)
      select email_message_id, kind, machine, url, campaign_id, min(occurred_at)
      from keyed where email_message_id is not null
      group by email_message_id, kind, machine, url, campaign_id
      order by email_message_id, kind, machine, url
      on conflict do nothing
      returning campaign_id, kind, machine, url, occurred_at
    ),
    totals as (
      select organization_id, campaign_id, date_trunc('hour', occurred_at, 'UTC') as bucket, kind, machine, url, count(*) as total
      from keyed group by 1, 2, 3, 4, 5, 6
    ),
    uniques as (
      select campaign_id, date_trunc('hour', occurred_at, 'UTC') as bucket, kind, machine, url, count(*) as uniques
      from firsts group by 1, 2, 3, 4, 5
    ),
    rolled as (
      insert into engagement_rollups (organization_id, campaign_id, bucket, kind, machine, url, total, uniques)
      select t.organization_id, t.campaign_id, t.bucket, t.kind, t.machine, t.url, t.total, coalesce(u.uniques, 0)
      from totals t left join uniques u using (campaign_id, bucket, kind, machine, url)
      order by t.campaign_id, t.kind, t.machine, t.url, t.bucket
      on conflict (campaign_id, kind, machine, url, bucket)
      do update set total = engagement_rollups.total + excluded.total, uniques = engagement_rollups.uniques + excluded.uniques
      returning 1
    )
    select (select count(*) from valid)::text as stored`.execute(db);
  return Number(result.rows[0]?.stored ?? 0);
}
