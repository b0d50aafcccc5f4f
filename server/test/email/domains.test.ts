import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestContext, sessionApi, type TestContext } from '../support/context.ts';
import { createFakeResend } from '../support/fake-resend.ts';
import { mjml, resendConfig, startWorker, waitFor } from './helpers.ts';

const fake = createFakeResend();
let ctx: TestContext;
let asOwner: ReturnType<typeof sessionApi>;
let call: ReturnType<typeof api>;
let orgId: string;
let domainId: string;

beforeAll(async () => {
  await fake.start();
  ctx = await createTestContext(resendConfig(fake, { PROVIDER_RATE_LIMIT_PER_SECOND: '0' }));
  const org = await ctx.createOrganization('Acme');
  orgId = org.id;
  call = api(ctx, org.key);
  asOwner = sessionApi(ctx, await ctx.createSession(org.id, 'owner'));
});
afterAll(async () => {
  await ctx?.close();
  await fake.close();
});

describe('sending domains', () => {
  it('registers a domain through the Resend Domains API and shows the DNS records to publish', async () => {
    const res = await asOwner('POST', '/api/v1/settings/domains', { name: 'Mail.Acme.test', region: 'eu-west-1' });
    expect(res.statusCode).toBe(201);
    const domain = res.json();
    domainId = domain.id;
    expect(domain).toMatchObject({ name: 'mail.acme.test', region: 'eu-west-1', status: 'not_started', verified_at: null });
    expect(domain.records.map((r: { type: string; name: string }) => `${r.type} ${r.name}`)).toEqual([
      'TXT _resend',
      'MX send',
      'TXT send',
      'CNAME resend._domainkey',
    ]);
    expect(domain).not.toHaveProperty('provider_domain_id');
    expect(fake.domains.size).toBe(1);
    expect((await asOwner('GET', '/api/v1/settings/domains')).json().items.map((d: { id: string }) => d.id)).toEqual([domainId]);
  });

  it('keeps a domain to one organization', async () => {
    expect((await asOwner('POST', '/api/v1/settings/domains', { name: 'mail.acme.test' })).json().error.code).toBe('domain_exists');
    const other = await ctx.createOrganization('Other');
    const otherOwner = sessionApi(ctx, await ctx.createSession(other.id, 'owner'));
    expect((await otherOwner('POST', '/api/v1/settings/domains', { name: 'mail.acme.test' })).statusCode).toBe(409);
    expect((await otherOwner('GET', `/api/v1/settings/domains/${domainId}`)).statusCode).toBe(404);
  });

  it("verifies on request, and the cron poll picks up the provider's verdict through the worker", async () => {
    const verify = await asOwner('POST', `/api/v1/settings/domains/${domainId}/verify`);
    expect(verify.json().status).toBe('pending');
    const providerId = [...fake.domains.keys()][0]!;
    fake.setDomainStatus(providerId, 'verified');
    const worker = await startWorker(ctx, { queues: ['sync', 'email'] });
    try {
      await ctx.container.jobs.enqueue('domains.poll', { tick: '2026-11-23T0610Z' });
      const domain = await waitFor(async () => {
        const current = (await asOwner('GET', `/api/v1/settings/domains/${domainId}`)).json();
        return current.status === 'verified' ? current : undefined;
      });
      expect(domain.verified_at).not.toBeNull();
      expect(domain.records.every((r: { status: string }) => r.status === 'verified')).toBe(true);
    } finally {
      await worker.close();
    }
  });

  it('makes a verified domain the sender, and refuses a from address on any other domain', async () => {
    expect((await asOwner('GET', '/api/v1/settings/email')).json()).toEqual({
      from_name: null,
      from_email: null,
      effective_from: '"Acme" <no-reply@mail.acme.test>',
      send_domain: 'mail.acme.test',
      domain_verified: true,
    });
    const refused = await asOwner('PATCH', '/api/v1/settings/email', { from_email: 'news@elsewhere.test' });
    expect(refused.statusCode).toBe(422);
    expect(refused.json().error).toMatchObject({ code: 'sender_domain_not_verified', details: [{ field: 'from_email' }] });
    const changed = await asOwner('PATCH', '/api/v1/settings/email', { from_name: 'Acme News', from_email: 'news@mail.acme.test' });
    expect(changed.json()).toMatchObject({ effective_from: '"Acme News" <news@mail.acme.test>', domain_verified: true });

    await call('POST', '/api/v1/templates', { name: 'Hi', slug: 'hi', subject: 'Hi', mjml_content: mjml('Hi') });
    const worker = await startWorker(ctx, { queues: ['email'] });
    try {
      await call('POST', '/api/v1/emails/send', { template_slug: 'hi', to: 'ada@example.com' });
      await waitFor(() => fake.emails.length === 1);
      expect(fake.emails[0]!.from).toBe('"Acme News" <news@mail.acme.test>');
    } finally {
      await worker.close();
    }
  });

  it('removes a domain here and at the provider; mail then goes out from the default sender', async () => {
    expect((await asOwner('DELETE', `/api/v1/settings/domains/${domainId}`)).statusCode).toBe(204);
    expect(fake.domains.size).toBe(0);
    expect((await asOwner('GET', '/api/v1/settings/email')).json()).toMatchObject({
      effective_from: '"Acme News" <no-reply@news.example.net>',
      domain_verified: false,
      send_domain: null,
    });
  });

  it('is for dashboard sessions: API keys get 403 session_required, viewers may only read', async () => {
    expect((await call('GET', '/api/v1/settings/domains')).json().error.code).toBe('session_required');
    const viewer = sessionApi(ctx, await ctx.createSession(orgId, 'viewer'));
    expect((await viewer('GET', '/api/v1/settings/email')).statusCode).toBe(200);
    expect((await viewer('POST', '/api/v1/settings/domains', { name: 'x.acme.test' })).json().error.code).toBe('insufficient_role');
  });
});
