import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createResendDomains } from '../../src/modules/email/providers/resend-domains.ts';
import { ProviderError, type OutgoingEmail } from '../../src/modules/email/providers/provider.ts';
import { createResendClient, createResendProvider } from '../../src/modules/email/providers/resend.ts';
import { createFakeResend } from '../support/fake-resend.ts';

const fake = createFakeResend();
let provider: ReturnType<typeof createResendProvider>;
let domains: ReturnType<typeof createResendDomains>;

const email = (overrides: Partial<OutgoingEmail> = {}): OutgoingEmail => ({
  from: 'Acme <news@acme.test>',
  to: 'ada@example.com',
  subject: 'Hello',
  html: '<p>Hi</p>',
  text: 'Hi',
  organizationId: 'org',
  tags: [{ name: 'message_id', value: 'm1' }],
  ...overrides,
});

beforeAll(async () => {
  const client = createResendClient({ apiKey: 're_test_key', baseUrl: await fake.start() });
  provider = createResendProvider(client);
  domains = createResendDomains(client);
});
beforeEach(() => {
  fake.reset();
  fake.setRateLimit(null);
});
afterAll(() => fake.close());

describe('the Resend adapter', () => {
  it('sends through the SDK with headers and tags, and returns the provider id', async () => {
    const result = await provider.send(email({ headers: { 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' } }));
    expect(fake.emails).toHaveLength(1);
    expect(fake.emails[0]).toMatchObject({
      id: result.providerMessageId,
      to: ['ada@example.com'],
      subject: 'Hello',
      tags: [{ name: 'message_id', value: 'm1' }],
    });
    expect(fake.emails[0]!.headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
  });

  it('sends an email once per idempotency key and answers a retry with the first id', async () => {
    const first = await provider.send(email({ idempotencyKey: 'email-message/1' }));
    const second = await provider.send(email({ idempotencyKey: 'email-message/1' }));
    expect(second.providerMessageId).toBe(first.providerMessageId);
    expect(fake.emails).toHaveLength(1);
  });

  it('sends up to 100 emails in one batch request', async () => {
    const results = await provider.sendBatch(
      Array.from({ length: 100 }, (_, i) => email({ to: `r${i}@example.com` })),
      { idempotencyKey: 'batch-1' },
    );
    expect(results).toHaveLength(100);
    expect(fake.requests).toHaveLength(1);
    expect(fake.emails.every((e) => e.batch && e.idempotencyKey === 'batch-1')).toBe(true);
    await expect(provider.sendBatch(Array.from({ length: 101 }, () => email()))).rejects.toThrow(RangeError);
  });

  it('reports 429 as rate_limited with the Retry-After delay', async () => {
    fake.setRateLimit({ requests: 1 });
    await provider.send(email());
    const error = await provider.send(email()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ kind: 'rate_limited', code: 'rate_limit_exceeded', retryAfterMs: 1000 });
  });

  it('tells quota, rejection and outage apart', async () => {
    fake.failNext({ status: 429, name: 'monthly_quota_exceeded' });
    await expect(provider.send(email())).rejects.toMatchObject({ kind: 'quota_exceeded' });
    fake.failNext({ status: 422, name: 'invalid_from_address' });
    await expect(provider.send(email())).rejects.toMatchObject({ kind: 'rejected', code: 'invalid_from_address' });
    fake.failNext({ status: 500, name: 'internal_server_error' });
    await expect(provider.send(email())).rejects.toMatchObject({ kind: 'unavailable' });
    await fake.close();
    await expect(provider.send(email())).rejects.toMatchObject({ kind: 'unavailable' });
    await fake.start(Number(new URL(fake.url).port));
  });

  it('creates, reads, verifies and removes sending domains', async () => {
    const created = await domains.create('mail.acme.test', 'eu-west-1');
    expect(created.status).toBe('not_started');
    expect(created.records.map((r) => `${r.type} ${r.name}`)).toEqual(['TXT _resend', 'MX send', 'TXT send', 'CNAME resend._domainkey']);
    await domains.verify(created.id);
    fake.setDomainStatus(created.id, 'verified');
    expect((await domains.get(created.id)).status).toBe('verified');
    await domains.remove(created.id);
    await domains.remove(created.id);
    await expect(domains.get(created.id)).rejects.toMatchObject({ kind: 'rejected', code: 'not_found' });
  });
});
