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

/** How many emails each address got at the fake provider, and the idempotency keys seen twice. */
export function deliveries(emails: readonly { to: string[]; idempotencyKey: string | null }[]) {
  const perAddress = new Map<string, number>();
  for (const email of emails) for (const to of email.to) perAddress.set(to, (perAddress.get(to) ?? 0) + 1);
  const keys = emails.map((e) => e.idempotencyKey).filter((k): k is string => k !== null);
  return { perAddress, duplicates: [...perAddress].filter(([, n]) => n > 1), repeatedKeys: keys.length - new Set(keys).size };
}
