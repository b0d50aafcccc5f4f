import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.ts';
import { createSubscriber, expectNoMail, tokenFromLink, waitForMail } from './helpers.ts';

let ctx: TestContext;
let org: { id: string; slug: string; key: string };

beforeAll(async () => {
  ctx = await createTestContext({ PUBLIC_EMAILS_PER_ADDRESS_PER_HOUR: '2', RATE_LIMIT_PUBLIC_FORM_PER_MINUTE: '8' });
  org = await ctx.createOrganization('Linkers');
});
afterAll(() => ctx.close());

// Each call from its own client address, so the per-IP limit does not interfere unless a test wants it.
let nextIp = 1;
const request = (payload: object, ip = `10.0.0.${nextIp++}`) =>
  ctx.app.inject({ method: 'POST', url: '/api/v1/preference-center/request-link', payload, remoteAddress: ip });

describe('requesting a new link', () => {
  it('emails a working link to a known address', async () => {
    await createSubscriber(ctx, org.key, { email: 'Known@Example.com', first_name: 'Kim' });
    const since = new Date(Date.now() - 1000);
    const res = await request({ email: 'known@example.com', organization: org.slug });
    expect(res.statusCode).toBe(202);
    const mail = await waitForMail(ctx, 'Known@Example.com', since);
    expect(mail.subject).toBe('Your link to manage your subscription to Linkers');
    expect(mail.text).toContain('Hello Kim,');
    const token = tokenFromLink(mail.text, '/?token=');
    const page = await ctx.app.inject({ method: 'GET', url: `/api/v1/preference-center?token=${token}` });
    expect(page.json().subscriber.email).toBe('Known@Example.com');
  });

  it('writes the email in the language asked for', async () => {
    await createSubscriber(ctx, org.key, { email: 'deutsch@example.com' });
    const since = new Date(Date.now() - 1000);
    await request({ email: 'deutsch@example.com', organization: org.slug, locale: 'de' });
    expect((await waitForMail(ctx, 'deutsch@example.com', since)).subject).toBe('Ihr Link zur Verwaltung Ihres Abonnements bei Linkers');
  });

  it('answers exactly the same for an unknown address or organization, and sends nothing', async () => {
    const known = await request({ email: 'known@example.com', organization: org.slug });
    const since = new Date();
    const unknown = await request({ email: 'stranger@example.com', organization: org.slug });
    const noOrg = await request({ email: 'stranger@example.com', organization: 'no-such-org' });
    for (const res of [unknown, noOrg]) {
      expect(res.statusCode).toBe(known.statusCode);
      expect(res.json()).toEqual(known.json());
    }
    await expectNoMail(ctx, 'stranger@example.com', since);
  });

  it('limits emails per address per hour, known or not', async () => {
    await createSubscriber(ctx, org.key, { email: 'limited@example.com' });
    const codes = [];
    for (let i = 0; i < 3; i += 1) codes.push((await request({ email: 'limited@example.com', organization: org.slug })).statusCode);
    expect(codes).toEqual([202, 202, 429]);
    const unknownCodes = [];
    for (let i = 0; i < 3; i += 1) unknownCodes.push((await request({ email: 'nobody@example.com', organization: org.slug })).statusCode);
    expect(unknownCodes).toEqual(codes);
  });

  it('limits requests per client address', async () => {
    const codes = [];
    for (let i = 0; i < 9; i += 1) codes.push((await request({ email: `ip${i}@example.com`, organization: org.slug }, '10.9.9.9')).statusCode);
    expect(codes.slice(0, 8).every((c) => c === 202)).toBe(true);
    expect(codes[8]).toBe(429);
  });

  it('validates the body', async () => {
    const res = await request({ email: 'not-an-email', organization: 'Bad Slug' });
    expect(res.statusCode).toBe(422);
    expect(
      res
        .json()
        .error.details.map((d: { field: string }) => d.field)
        .sort(),
    ).toEqual(['email', 'organization']);
  });
});
