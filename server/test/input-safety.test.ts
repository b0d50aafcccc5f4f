import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, sessionApi, type TestContext } from './support/context.ts';
import { createSubscriber } from './preferences/helpers.ts';

let ctx: TestContext;
let org: { id: string; slug: string; key: string };

beforeAll(async () => {
  ctx = await createTestContext({ RATE_LIMIT_PUBLIC_FORM_PER_MINUTE: '1000', RATE_LIMIT_IP_PER_MINUTE: '1000' });
  org = await ctx.createOrganization('Safe');
});
afterAll(() => ctx.close());

// JSON.stringify writes NUL as \u0000 and a lone surrogate as \ud800: exactly what a hostile client sends.
const send = (method: 'POST' | 'PATCH' | 'GET', url: string, body?: unknown, headers: Record<string, string> = { authorization: `Bearer ${org.key}` }) =>
  ctx.app.inject({ method, url, headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { payload: JSON.stringify(body) } : {}) });

const BAD = { nul: 'Ada\u0000', surrogate: 'Ada\ud800', high: '\udfffAda', bell: 'Ada\u0007', escape: '\u001b[31mAda', c1: 'Ada\u0085' };

function expectRefused(res: { statusCode: number; json: () => { error: { code: string; details: { field: string; code: string; message: string }[] } } }, field: string) {
  expect(res.statusCode).toBe(422);
  expect(res.json().error.code).toBe('validation_error');
  expect(res.json().error.details).toContainEqual(expect.objectContaining({ field, code: 'invalid_characters' }));
}

describe('control characters and invalid Unicode', () => {
  it('are refused with 422 naming the field in every body field of an authenticated write', async () => {
    for (const [kind, text] of Object.entries(BAD)) {
      expectRefused(await send('POST', '/api/v1/subscribers', { email: `${kind}@example.com`, first_name: text }), 'first_name');
      expectRefused(await send('POST', '/api/v1/subscribers', { email: `${kind}@example.com`, tags: ['ok', text] }), 'tags.1');
      expectRefused(await send('POST', '/api/v1/subscribers', { email: `${kind}@example.com`, metadata: { nested: { note: text } } }), 'metadata.nested.note');
      expectRefused(await send('POST', '/api/v1/tags', { name: text }), 'name');
    }
    // Object keys too.
    const key = await send('POST', '/api/v1/subscribers', { email: 'key@example.com', metadata: { 'bad\u0000key': 1 } });
    expect(key.statusCode).toBe(422);
    expect(key.json().error.details[0].code).toBe('invalid_characters');
    // Nothing was stored.
    expect((await send('GET', '/api/v1/subscribers/by-email?email=nul@example.com')).statusCode).toBe(404);
  });

  it('are refused in batch items, naming the item and field', async () => {
    const res = await send('POST', '/api/v1/subscribers/batch', { subscribers: [{ email: 'fine@example.com' }, { email: 'b@example.com', last_name: BAD.surrogate }] });
    expectRefused(res, 'subscribers.1.last_name');
  });

  it('are refused on the unauthenticated public form and link request', async () => {
    for (const text of Object.values(BAD)) {
      expectRefused(await send('POST', `/api/v1/public/${org.slug}/subscribe`, { email: 'form@example.com', first_name: text }, {}), 'first_name');
      expectRefused(await send('POST', `/api/v1/public/${org.slug}/subscribe`, { email: 'form@example.com', consent_text: text }, {}), 'consent_text');
      expectRefused(await send('POST', '/api/v1/preference-center/request-link', { email: 'form@example.com', organization: text }, {}), 'organization');
    }
  });

  it('are refused in path parameters and query strings', async () => {
    expectRefused(await send('GET', '/api/v1/tags/by-name/a%00b'), 'name');
    expectRefused(await send('GET', '/api/v1/subscribers?tag=news%00'), 'tag');
    expectRefused(await send('GET', '/api/v1/subscribers?q=a%0Ab'), 'q');
    expectRefused(await send('GET', '/api/v1/subscribers/by-email?email=a%00%40example.com'), 'email');
    expectRefused(await send('POST', `/api/v1/public/${org.slug}%01/subscribe`, { email: 'x@example.com' }, {}), 'org_slug');
  });

  it('keep line breaks and tabs where text may have them, and any well-formed Unicode', async () => {
    const id = await createSubscriber(ctx, org.key, { email: 'unicode@example.com', first_name: 'Zoë 🎉 日本' });
    const note = await send('POST', `/api/v1/subscribers/${id}/notes`, { body: 'line one\r\nline two\tindented' });
    expect(note.statusCode).toBe(201);
    expect(note.json().body).toBe('line one\r\nline two\tindented');
  });

  it('refuse an organization name that is one control character', async () => {
    const session = await ctx.createSession(org.id, 'owner');
    const call = sessionApi(ctx, session);
    for (const name of ['\u0001', '\u007f', ' \u0085 ']) {
      const res = await call('PATCH', '/api/v1/organizations/current', { name });
      expect(res.statusCode).toBe(422);
      expect(res.json().error.details[0].field).toBe('name');
    }
  });
});

describe('validation error details', () => {
  it('have a field, a stable code, the bound or format an app needs to word it, and a message that does not repeat the validator\'s internals', async () => {
    const res = await send('POST', '/api/v1/subscribers', {
      email: 'not-an-email', first_name: 'x'.repeat(101), tags: Array.from({ length: 51 }, (_, i) => `t${i}`), status: 'complained', nickname: 'x',
    });
    expect(res.statusCode).toBe(422);
    const details = res.json().error.details as { field: string; code: string; message: string }[];
    const byField = Object.fromEntries(details.map((d) => [d.field, d]));
    expect(byField).toMatchObject({
      email: { code: 'invalid_format', message: 'must be an email address', format: 'email' },
      first_name: { code: 'too_long', message: 'must be at most 100 characters', bound: 100 },
      tags: { code: 'too_many', message: 'must have at most 50 items', bound: 50 },
      status: { code: 'invalid_value', message: 'must be one of: "active", "pending"' },
      nickname: { code: 'not_allowed', message: 'is not a known field' },
    });
    const missing = await send('POST', '/api/v1/subscribers', {});
    expect(missing.json().error.details).toEqual([{ field: 'email', code: 'required', message: 'is required', location: 'body' }]);
    for (const detail of [...details, ...missing.json().error.details]) {
      expect(detail.message).not.toMatch(/constant|schema is false|must match pattern|anyOf|must NOT/);
    }
  });

  it('give batch items the same shape', async () => {
    const res = await send('POST', '/api/v1/subscribers/batch', { subscribers: [{ email: 'ok@example.com', status: 'bounced', extra: 1 }] });
    expect(res.statusCode).toBe(200);
    const details = res.json().results[0].error.details as { field: string; code: string; message: string }[];
    expect(details).toEqual(expect.arrayContaining([
      { field: 'status', code: 'invalid_value', message: 'must be one of: "active", "pending", "unsubscribed"' },
      { field: 'extra', code: 'not_allowed', message: 'is not a known field' },
    ]));
  });
});
