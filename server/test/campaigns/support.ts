import { sql } from 'kysely';
import type { JobContext } from '../../src/jobs/context.ts';
import { createMetrics } from '../../src/metrics/registry.ts';
import { api, type TestContext } from '../support/context.ts';
import { mjml } from '../email/helpers.ts';

/**
 * An organization ready to send campaigns: postal address set, a marketing template, a topic tag and
 * `count` active subscribers of that topic (inserted with one statement, as an import would).
 */
export async function campaignOrganization(ctx: TestContext, name: string, count: number) {
  const org = await ctx.createOrganization(name);
  const call = api(ctx, org.key);
  await ctx.container.db.updateTable('organizations').set({ postal_address: '1 Example Street, Berlin' }).where('id', '=', org.id).execute();
  const template = (
    await call('POST', '/api/v1/templates', {
      name: 'Newsletter',
      slug: 'newsletter',
      category: 'marketing',
      subject: 'News for {{ subscriber.email }}',
      mjml_content: mjml('Hello {{ subscriber.first_name | default: "reader" }}'),
    })
  ).json() as { id: string };
  const tag = (await call('POST', '/api/v1/tags', { name: 'News' })).json() as { id: string; slug: string };
  await seedSubscribers(ctx, org.id, tag.id, count, `${org.slug}-r`);
  return { ...org, call, templateId: template.id, tagId: tag.id };
}

/** `count` active subscribers of the organization, each subscribed to `tagId`. */
export async function seedSubscribers(ctx: TestContext, organizationId: string, tagId: string, count: number, prefix: string): Promise<void> {
  await sql`
    with s as (
      insert into subscribers (id, organization_id, email, status, source, confirmed_at)
      select gen_random_uuid(), ${organizationId}::uuid, ${prefix} || g || '@example.com', 'active', 'import', now()
      from generate_series(1, ${count}) g
      returning id
    )
    insert into subscriber_tags (subscriber_id, tag_id, organization_id, status, source, subscribed_at)
    select s.id, ${tagId}::uuid, ${organizationId}::uuid, 'subscribed', 'import', now() from s`.execute(ctx.container.db);
  // A live database has planner statistics (autovacuum analyzes after bulk changes); give the test's the same.
  await sql`analyze subscribers, subscriber_tags`.execute(ctx.container.db);
}

/** Runs one job handler of the worker directly (as the worker would), without a queue. */
export function runJob(ctx: TestContext) {
  const handlers = ctx.container.jobHandlers(createMetrics('test-direct'));
  const context: JobContext = {
    jobId: 'direct',
    attemptsMade: 0,
    attempt: 1,
    lastAttempt: false,
    signal: new AbortController().signal,
    log: ctx.container.logger,
    rateLimited: () => Promise.reject(new Error('rate limited')),
    unrecoverable: (message) => new Error(message),
    giveBack: () => Promise.reject(new Error('given back')),
    postpone: () => Promise.reject(new Error('postponed')),
  };
  return <N extends keyof typeof handlers>(name: N, payload: Parameters<(typeof handlers)[N]>[0]) =>
    (handlers[name] as (p: unknown, c: JobContext) => Promise<unknown>)(payload, context);
}

/**
 * How many emails each address got at the fake provider, and the idempotency keys the fake accepted more
 * than once (a batch's emails share their request's key: a key counts once per request).
 */
export function deliveries(emails: readonly { to: string[]; idempotencyKey: string | null; request?: number }[]) {
  const perAddress = new Map<string, number>();
  for (const email of emails) for (const to of email.to) perAddress.set(to, (perAddress.get(to) ?? 0) + 1);
  const requestsByKey = new Map<string, Set<number | string>>();
  for (const [index, email] of emails.entries()) {
    if (email.idempotencyKey === null) continue;
    const requests = requestsByKey.get(email.idempotencyKey) ?? new Set();
    requests.add(email.request ?? `email-${index}`);
    requestsByKey.set(email.idempotencyKey, requests);
  }
  const repeatedKeys = [...requestsByKey.values()].reduce((sum, requests) => sum + requests.size - 1, 0);
  return { perAddress, duplicates: [...perAddress].filter(([, n]) => n > 1), repeatedKeys };
}

/**
 * The campaign's counters (summed over their shard rows, as progress and stats read them) against a
 * fresh count of its ledger and messages: they must be equal, and the states must add up to targeted.
 */
export async function countersAgainstLedger(ctx: TestContext, organizationId: string, campaignId: string) {
  const db = ctx.container.db;
  const counters = (
    await sql<Record<string, string | null>>`
    select sum(queued) as queued, sum(sending) as sending, sum(sent) as sent, sum(failed) as failed, sum(skipped) as skipped, sum(cancelled) as cancelled,
           sum(delivered) as delivered, sum(bounced) as bounced, sum(complained) as complained, sum(opened) as opened, sum(clicked) as clicked
    from campaign_counters where organization_id = ${organizationId} and campaign_id = ${campaignId}`.execute(db)
  ).rows[0]!;
  const states = (
    await sql<{ state: string; count: string }>`
    select campaign_recipient_state(r.status, r.email_message_id, m.id, m.status, m.provider_message_id, m.error_code) as state, count(*) as count
    from campaign_recipients r left join email_messages m on m.id = r.email_message_id
    where r.organization_id = ${organizationId} and r.campaign_id = ${campaignId} group by 1`.execute(db)
  ).rows;
  const outcomes = (
    await sql<Record<string, string>>`
    select count(*) filter (where delivered_at is not null) as delivered, count(*) filter (where bounced_at is not null) as bounced,
           count(*) filter (where complained_at is not null) as complained, count(*) filter (where opened_at is not null) as opened,
           count(*) filter (where clicked_at is not null) as clicked
    from email_messages where organization_id = ${organizationId} and campaign_id = ${campaignId}`.execute(db)
  ).rows[0]!;
  const skippedCounters = (
    await sql<{ reason: string; count: string }>`
    select reason, sum(count) as count from campaign_skip_counters where organization_id = ${organizationId} and campaign_id = ${campaignId}
    group by reason having sum(count) <> 0`.execute(db)
  ).rows;
  const skippedLedger = (
    await sql<{ reason: string; count: string }>`
    select coalesce(reason, 'unknown') as reason, count(*) as count from campaign_recipients
    where organization_id = ${organizationId} and campaign_id = ${campaignId} and status = 'skipped' group by 1`.execute(db)
  ).rows;
  const campaign = await db.selectFrom('campaigns').select('targeted_count').where('id', '=', campaignId).executeTakeFirstOrThrow();
  const fresh: Record<string, number> = { queued: 0, sending: 0, sent: 0, failed: 0, skipped: 0, cancelled: 0 };
  for (const row of states) fresh[row.state] = Number(row.count);
  for (const [key, value] of Object.entries(outcomes)) fresh[key] = Number(value);
  const byReason = (rows: { reason: string; count: string }[]) => Object.fromEntries(rows.map((r) => [r.reason, Number(r.count)]).sort());
  const counted = Object.fromEntries(Object.entries(counters).map(([key, value]) => [key, Number(value ?? 0)]));
  const total = ['queued', 'sending', 'sent', 'failed', 'skipped', 'cancelled'].reduce((sum, key) => sum + counted[key]!, 0);
  return {
    counters: counted,
    ledger: fresh,
    skippedCounters: byReason(skippedCounters),
    skippedLedger: byReason(skippedLedger),
    total,
    targeted: campaign.targeted_count,
  };
}
