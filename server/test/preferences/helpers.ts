import { expect } from 'vitest';
import type { TestContext } from '../support/context.ts';

/** Creates tags through the API and returns their ids by slug. */
export async function createTags(ctx: TestContext, key: string, tags: { name: string; category?: string | null; description?: string; is_public?: boolean }[]) {
  const ids: Record<string, string> = {};
  for (const tag of tags) {
    const res = await ctx.app.inject({ method: 'POST', url: '/api/v1/tags', headers: { authorization: `Bearer ${key}` }, payload: tag });
    expect(res.statusCode).toBe(201);
    ids[res.json().slug] = res.json().id;
  }
  return ids;
}

export async function createSubscriber(ctx: TestContext, key: string, body: Record<string, unknown>): Promise<string> {
  const res = await ctx.app.inject({ method: 'POST', url: '/api/v1/subscribers', headers: { authorization: `Bearer ${key}` }, payload: body });
  expect(res.statusCode).toBe(201);
  return res.json().id;
}

export async function preferenceToken(ctx: TestContext, key: string, subscriberId: string, expiresIn?: number): Promise<string> {
  const res = await ctx.app.inject({
    method: 'POST',
    url: `/api/v1/subscribers/${subscriberId}/preference-token`,
    headers: { authorization: `Bearer ${key}` },
    payload: expiresIn === undefined ? {} : { expires_in: expiresIn },
  });
  expect(res.statusCode).toBe(200);
  return res.json().token;
}

/**
 * A link that may also export and erase: asked for on the request-link form and read from the email it
 * sends, as the person does (links from other emails manage topics only).
 */
export async function dataLink(ctx: TestContext, email: string, organizationSlug: string): Promise<string> {
  const since = new Date(Date.now() - 1000);
  const res = await ctx.app.inject({ method: 'POST', url: '/api/v1/preference-center/request-link', payload: { email, organization: organizationSlug } });
  expect(res.statusCode).toBe(202);
  return tokenFromLink((await waitForMail(ctx, email, since)).text, '/?token=');
}

/** The newest dev-mailbox message to an address that arrived after `since`; waits for mail sent after a response. */
export async function waitForMail(ctx: TestContext, to: string, since: Date, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const message = await ctx.container.devMailbox.latestTo(to);
    if (message && new Date(message.created_at) >= since) return message;
    if (Date.now() > deadline) throw new Error(`no email to ${to} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Checks that no message to the address arrives after `since` within a short wait. */
export async function expectNoMail(ctx: TestContext, to: string, since: Date, waitMs = 300) {
  await new Promise((resolve) => setTimeout(resolve, waitMs));
  const message = await ctx.container.devMailbox.latestTo(to);
  expect(message && new Date(message.created_at) >= since ? message.subject : null).toBeNull();
}

export function tokenFromLink(text: string, path: '/?token=' | '/confirm?token='): string {
  const match = new RegExp(`${path.replace(/[?/]/g, (c) => `\\${c}`)}([A-Za-z0-9_.-]+)`).exec(text);
  if (!match) throw new Error(`no ${path} link in: ${text}`);
  return match[1]!;
}

export async function outbox(ctx: TestContext, subjectId: string) {
  const rows = await ctx.container.db.selectFrom('events').select(['type', 'payload']).where('subject_id', '=', subjectId).orderBy('id').execute();
  return rows.map((row) => ({ type: row.type, payload: row.payload as Record<string, unknown> }));
}

export async function history(ctx: TestContext, subscriberId: string) {
  return ctx.container.db
    .selectFrom('subscription_history')
    .select(['action', 'source', 'tag_id', 'ip', 'user_agent', 'details', 'created_at'])
    .where('subscriber_id', '=', subscriberId)
    .orderBy('id')
    .execute();
}
