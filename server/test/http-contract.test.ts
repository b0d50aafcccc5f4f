import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestContext, type TestContext } from './support/context.ts';

let ctx: TestContext;
let key: string;
let call: ReturnType<typeof api>;

beforeAll(async () => {
  ctx = await createTestContext({ BODY_LIMIT_BYTES: '4096', RATE_LIMIT_API_KEY_PER_MINUTE: '1000' });
  key = (await ctx.createOrganization()).key;
  call = api(ctx, key);
});
afterAll(() => ctx.close());

const post = (payload: string, contentType = 'application/json') =>
  ctx.app.inject({ method: 'POST', url: '/api/v1/subscribers', headers: { authorization: `Bearer ${key}`, 'content-type': contentType }, payload });

describe('bad input always gets a 4xx with the error shape, never a 500', () => {
  it('malformed JSON → 400 invalid_json', async () => {
    const res = await post('{"email": ');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: { code: 'invalid_json', message: expect.any(String), request_id: expect.any(String) } });
  });

  it('an oversized body → 413 payload_too_large', async () => {
    const res = await post(JSON.stringify({ email: 'a@b.test', metadata: { x: 'y'.repeat(5000) } }));
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe('payload_too_large');
  });

  it('a body that is not JSON → 415', async () => {
    expect((await post('email=a@b.test', 'application/x-www-form-urlencoded')).statusCode).toBe(415);
  });

  it.each([
    ['wrong types', { email: 12, first_name: ['x'], metadata: 'x' }, ['email', 'first_name', 'metadata']],
    ['unknown fields', { email: 'a@b.test', admin: true }, ['admin']],
    ['a missing field', { first_name: 'x' }, ['email']],
    ['an invalid email', { email: 'a@@b' }, ['email']],
    ['an email with spaces', { email: 'a b@c.test' }, ['email']],
    ['too long strings', { email: 'a@b.test', first_name: 'x'.repeat(101) }, ['first_name']],
    ['a JSON array body', [], ['body']],
  ])('%s → 422 validation_error naming each field', async (_name, body, fields) => {
    const res = await post(JSON.stringify(body));
    expect(res.statusCode).toBe(422);
    expect(res.json().error.code).toBe('validation_error');
    expect(
      res
        .json()
        .error.details.map((d: { field: string }) => d.field)
        .sort(),
    ).toEqual(fields);
  });

  it('a malformed id in the path → 422 naming the parameter', async () => {
    const res = await call('GET', '/api/v1/subscribers/not-a-uuid');
    expect(res.statusCode).toBe(422);
    expect(res.json().error.details[0]).toMatchObject({ field: 'id', location: 'params' });
  });

  it('an unknown route → 404 route_not_found', async () => {
    const res = await call('GET', '/api/v1/nothing-here');
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('route_not_found');
  });
});

describe('request ids', () => {
  it('echoes a sane x-request-id and puts it into error bodies', async () => {
    const res = await ctx.app.inject({
      method: 'GET',
      url: '/api/v1/subscribers/by-email?email=none%40x.test',
      headers: { authorization: `Bearer ${key}`, 'x-request-id': 'trace-123' },
    });
    expect(res.headers['x-request-id']).toBe('trace-123');
    expect(res.json().error.request_id).toBe('trace-123');
  });

  it('generates one when the caller sends none or a strange one', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/health', headers: { 'x-request-id': 'bad id\u0000' } });
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('idempotency keys', () => {
  it('replays the first response for the same key and body, with Idempotency-Replayed', async () => {
    const headers = { 'idempotency-key': 'create-ada-1' };
    const first = await call('POST', '/api/v1/subscribers', { email: 'idem@example.com' }, headers);
    const second = await call('POST', '/api/v1/subscribers', { email: 'idem@example.com' }, headers);
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(201);
    expect(second.headers['idempotency-replayed']).toBe('true');
    expect(second.json()).toEqual(first.json());
    expect((await call('GET', '/api/v1/subscribers?q=idem')).json().items).toHaveLength(1);
  });

  it('refuses the same key with another body: 422 idempotency_key_reused', async () => {
    const headers = { 'idempotency-key': 'create-2' };
    await call('POST', '/api/v1/subscribers', { email: 'idem2@example.com' }, headers);
    const res = await call('POST', '/api/v1/subscribers', { email: 'other@example.com' }, headers);
    expect(res.statusCode).toBe(422);
    expect(res.json().error.code).toBe('idempotency_key_reused');
  });

  it('answers 409 while the first request with the key is still running', async () => {
    const headers = { 'idempotency-key': 'concurrent-1' };
    const body = { subscribers: Array.from({ length: 80 }, (_, i) => ({ email: `c${i}@c.test` })) };
    const [one, two] = await Promise.all([call('POST', '/api/v1/subscribers/batch', body, headers), call('POST', '/api/v1/subscribers/batch', body, headers)]);
    expect([one.statusCode, two.statusCode].sort()).toEqual([200, 409]);
    expect([one, two].find((r) => r.statusCode === 409)!.json().error.code).toBe('idempotency_key_in_use');
  });

  it('keeps keys apart per organization and leaves requests without a key alone', async () => {
    const other = api(ctx, (await ctx.createOrganization('Other')).key);
    const headers = { 'idempotency-key': 'shared-key' };
    expect((await call('POST', '/api/v1/tags', { name: 'One' }, headers)).statusCode).toBe(201);
    const res = await other('POST', '/api/v1/tags', { name: 'One' }, headers);
    expect(res.statusCode).toBe(201);
    expect(res.headers['idempotency-replayed']).toBeUndefined();
    expect((await call('POST', '/api/v1/tags', { name: 'Two' })).statusCode).toBe(201);
    expect((await call('POST', '/api/v1/tags', { name: 'Two' })).statusCode).toBe(409);
  });
});
