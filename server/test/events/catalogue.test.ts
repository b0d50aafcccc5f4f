import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_TYPES, eventCatalogueJson, isValidEventPayload } from '../../src/modules/events/index.ts';
import { api, createTestContext, sessionApi, type TestContext } from '../support/context.ts';
import { createFakeResend } from '../support/fake-resend.ts';
import { messageRow, mjml, resendConfig, signedHeaders, startWorker, waitFor } from '../email/helpers.ts';

const fake = createFakeResend();
let ctx: TestContext;
let call: ReturnType<typeof api>;
let organizationId: string;
let worker: Awaited<ReturnType<typeof startWorker>>;

beforeAll(async () => {
  await fake.start();
  ctx = await createTestContext(resendConfig(fake, { PROVIDER_RATE_LIMIT_PER_SECOND: '0' }));
  const org = await ctx.createOrganization('Catalogue');
  organizationId = org.id;
  call = api(ctx, org.key);
  worker = await startWorker(ctx);
});
afterAll(async () => {
  await worker?.close();
  await ctx?.close();
  await fake.close();
});

/** Provider webhook for a sent message, signed as Resend signs it. */
async function providerEvent(type: string, message: { id: string; providerId: string }, extra: Record<string, unknown> = {}, id = `msg_${type}_${message.id}`) {
  const body = JSON.stringify({
    type,
    created_at: new Date().toISOString(),
    data: {
      email_id: message.providerId,
      to: ['x@example.com'],
      subject: 'Hello',
      tags: { organization_id: organizationId, message_id: message.id },
      ...extra,
    },
  });
  const res = await ctx.app.inject({ method: 'POST', url: '/hooks/resend', payload: body, headers: signedHeaders(body, id) });
  expect(res.statusCode).toBe(200);
}

describe('the event catalogue', () => {
  it('describes every type with a JSON Schema for the docs and the webhooks', () => {
    const catalogue = eventCatalogueJson();
    expect(catalogue.map((e) => e.type)).toEqual(EVENT_TYPES);
    for (const entry of catalogue) {
      expect(entry.description.length).toBeGreaterThan(10);
      expect(entry.payload).toMatchObject({ type: 'object' });
    }
  });

  it('matches every payload written by SQL and by code, on every path that writes events', async () => {
    // Written in SQL: single create (with tags), email sent; in code: the rest.
    const created = (await call('POST', '/api/v1/subscribers', { email: 'ada@example.com', first_name: 'Ada', tags: ['News', 'Offers'] })).json();
    await call('PATCH', `/api/v1/subscribers/${created.id}`, { first_name: 'Ada L.' });
    await call('POST', `/api/v1/subscribers/${created.id}/tags`, { tags: ['Events'] });
    await call('DELETE', `/api/v1/subscribers/${created.id}/tags/offers`);
    await call('POST', `/api/v1/subscribers/${created.id}/notes`, { body: 'Met at a conference' });
    await call('POST', '/api/v1/subscribers/batch', {
      subscribers: [
        { email: 'new@example.com', tags: ['News'] },
        { email: 'ada@example.com', last_name: 'Lovelace' },
      ],
    });
    const doomed = (await call('POST', '/api/v1/subscribers', { email: 'gone@example.com' })).json();
    await call('DELETE', `/api/v1/subscribers/${doomed.id}`);

    // Preference center: a topic off, unsubscribe from all (with its own status change).
    const token = (await call('POST', `/api/v1/subscribers/${created.id}/preference-token`, {})).json().token as string;
    const news = (await call('GET', '/api/v1/tags/by-name/news')).json();
    await call('PATCH', `/api/v1/tags/${news.id}`, { is_public: true });
    await ctx.app.inject({ method: 'PUT', url: `/api/v1/preference-center/tags/${news.id}?token=${token}`, payload: { subscribed: false } });
    await ctx.app.inject({ method: 'POST', url: `/api/v1/preference-center/unsubscribe-all?token=${token}` });

    // Email: sent (SQL), delivered, bounced (suppresses and changes the subscriber), complained, failed.
    await call('POST', '/api/v1/templates', { name: 'Hello', slug: 'hello', subject: 'Hello', mjml_content: mjml('Hello') });
    const sent = [];
    for (const email of ['one@example.com', 'two@example.com', 'three@example.com']) {
      await call('POST', '/api/v1/subscribers', { email });
      const id = (await call('POST', '/api/v1/emails/send', { template_slug: 'hello', to: email })).json().id as string;
      const row = await waitFor(async () => {
        const current = await messageRow(ctx, id);
        return current.status === 'sent' ? current : undefined;
      });
      sent.push({ id, providerId: row.provider_message_id! });
    }
    await providerEvent('email.delivered', sent[0]!);
    await providerEvent('email.opened', sent[0]!);
    await providerEvent('email.bounced', sent[1]!, { bounce: { type: 'Permanent', subType: 'General', message: 'mailbox unknown' } });
    await providerEvent('email.complained', sent[2]!);

    const rows = await ctx.container.db.selectFrom('events').select(['type', 'payload']).where('organization_id', '=', organizationId).execute();
    const types = new Set(rows.map((r) => r.type));
    for (const expected of [
      'subscriber.created',
      'subscriber.updated',
      'subscriber.deleted',
      'subscriber.note_added',
      'tag.subscribed',
      'tag.unsubscribed',
      'email.sent',
      'email.delivered',
      'email.opened',
      'email.bounced',
      'email.complained',
    ]) {
      expect(types, expected).toContain(expected);
    }
    const invalid = rows.filter((r) => !isValidEventPayload(r.type, r.payload));
    expect(invalid).toEqual([]);
  });

  it("writes a dashboard user's changes with the same payloads", async () => {
    const owner = await ctx.createSession(organizationId, 'owner');
    const created = (await sessionApi(ctx, owner)('POST', '/api/v1/subscribers', { email: 'dash@example.com', tags: ['Dashboard'] })).json();
    await sessionApi(ctx, owner)('DELETE', `/api/v1/subscribers/${created.id}`);
    const rows = await ctx.container.db.selectFrom('events').select(['type', 'payload']).where('subject_id', '=', created.id).execute();
    expect(rows.length).toBeGreaterThanOrEqual(3);
    expect(rows.filter((r) => !isValidEventPayload(r.type, r.payload))).toEqual([]);
  });
});
