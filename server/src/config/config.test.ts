import { describe, expect, it } from 'vitest';
import { loadConfig, loadPartialConfig } from './index.ts';

const secret = 's'.repeat(32);

describe('configuration', () => {
  it('applies defaults and converts types', () => {
    const config = loadConfig({ TOKEN_SECRET: secret, PORT: '8080', TRUST_CF_CONNECTING_IP: 'true', CORS_ORIGINS: 'https://a.test, https://b.test' });
    expect(config.PORT).toBe(8080);
    expect(config.HOST).toBe('127.0.0.1');
    expect(config.TRUST_CF_CONNECTING_IP).toBe(true);
    expect(config.CORS_ORIGINS).toEqual(['https://a.test', 'https://b.test']);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('fails fast naming each bad variable', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrowError(/PORT[\s\S]*|TOKEN_SECRET/);
    expect(() => loadConfig({ TOKEN_SECRET: secret, PORT: 'eighty' })).toThrowError(/PORT/);
    expect(() => loadConfig({ TOKEN_SECRET: 'short' })).toThrowError(/TOKEN_SECRET/);
    expect(() => loadConfig({ TOKEN_SECRET: `${secret},short` })).toThrowError(/TOKEN_SECRET: every secret/);
  });

  it('turns billing on only with both Stripe keys and refuses one without the other', () => {
    expect(loadConfig({ TOKEN_SECRET: secret }).BILLING_ENABLED).toBe(false);
    const on = loadConfig({ TOKEN_SECRET: secret, STRIPE_SECRET_KEY: 'sk_test_0123456789', STRIPE_WEBHOOK_SECRET: 'whsec_0123456789abc' });
    expect(on.BILLING_ENABLED).toBe(true);
    expect(() => loadConfig({ TOKEN_SECRET: secret, STRIPE_SECRET_KEY: 'sk_test_0123456789' })).toThrowError(/STRIPE_WEBHOOK_SECRET: is not set/);
    expect(() => loadConfig({ TOKEN_SECRET: secret, STRIPE_WEBHOOK_SECRET: 'whsec_0123456789abc' })).toThrowError(/STRIPE_SECRET_KEY: is not set/);
  });

  it('merges BILLING_PLANS over the default plans and names what is wrong in it', () => {
    const plans = loadConfig({
      TOKEN_SECRET: secret,
      BILLING_PLANS:
        '{"starter":{"stripe_price_id":"price_s","subscribers":10000},"agency":{"name":"Agency","stripe_price_id":"price_a","emails_per_month":null}}',
    }).PLANS;
    expect(plans.map((p) => p.id)).toEqual(['free', 'starter', 'professional', 'legacy', 'agency']);
    expect(plans[0]!.limits).toEqual({ subscribers: 1000, emails_per_month: 4000, webhook_endpoints: 0, custom_domains: 0 });
    expect(plans[1]).toEqual({
      id: 'starter',
      name: 'Starter',
      stripe_price_id: 'price_s',
      limits: { subscribers: 10000, emails_per_month: 50000, webhook_endpoints: 3, custom_domains: 0 },
    });
    expect(plans[3]!.limits).toEqual({ subscribers: null, emails_per_month: null, webhook_endpoints: null, custom_domains: null });
    expect(plans[4]!.limits).toEqual({ subscribers: null, emails_per_month: null, webhook_endpoints: null, custom_domains: null });
    const bad = (json: string) => () => loadConfig({ TOKEN_SECRET: secret, BILLING_PLANS: json });
    expect(bad('{')).toThrowError(/BILLING_PLANS: is not valid JSON/);
    expect(bad('{"starter":{"subscribers":-1}}')).toThrowError(/starter.subscribers must be a whole number/);
    expect(bad('{"free":{"stripe_price_id":"price_x"}}')).toThrowError(/free plan cannot have a Stripe price/);
    expect(bad('{"legacy":{"stripe_price_id":"price_x"}}')).toThrowError(/legacy plan cannot have a Stripe price/);
    expect(() => loadConfig({ TOKEN_SECRET: secret, BILLING_EXISTING_ORGANIZATIONS_PLAN: 'gold' })).toThrowError(
      /BILLING_EXISTING_ORGANIZATIONS_PLAN: names no plan \("gold"\)/,
    );
    expect(bad('{"starter":{"stripe_price_id":"price_x"},"professional":{"stripe_price_id":"price_x"}}')).toThrowError(/same Stripe price/);
  });

  it('keeps every rotation secret and never exposes the raw variable', () => {
    const config = loadConfig({ TOKEN_SECRET: `${'n'.repeat(32)},${secret}` });
    expect(config.TOKEN_SECRETS).toEqual(['n'.repeat(32), secret]);
    expect(JSON.stringify(config)).not.toContain('"TOKEN_SECRET"');
  });

  it('parses TRUST_PROXY as boolean, hop count or address list', () => {
    expect(loadConfig({ TOKEN_SECRET: secret, TRUST_PROXY: 'true' }).TRUST_PROXY).toBe(true);
    expect(loadConfig({ TOKEN_SECRET: secret, TRUST_PROXY: '2' }).TRUST_PROXY).toBe(2);
    expect(loadConfig({ TOKEN_SECRET: secret, TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' }).TRUST_PROXY).toEqual(['10.0.0.0/8', '127.0.0.1']);
  });

  it('lets one-shot processes check only what they use', () => {
    expect(loadPartialConfig(['DATABASE_URL']).DATABASE_URL).toContain('postgres://');
  });
});

describe('configuration for a real email provider', () => {
  const real = { TOKEN_SECRET: secret, EMAIL_PROVIDER: 'smtp', SMTP_URL: 'smtp://relay.example.net:587' };
  const publicUrls = {
    PUBLIC_API_URL: 'https://api.news.acme.org',
    PREFERENCES_APP_URL: 'https://api.news.acme.org/preferences',
    ADMIN_APP_URL: 'https://api.news.acme.org/admin',
    EMAIL_DEFAULT_FROM: 'Acme <news@news.acme.org>',
    AUTH_EMAIL_FROM: 'Acme <login@news.acme.org>',
  };

  it('refuses the localhost defaults, naming every variable', () => {
    let message = '';
    try {
      loadConfig(real);
    } catch (error) {
      message = (error as Error).message;
    }
    for (const name of ['PUBLIC_API_URL', 'PREFERENCES_APP_URL', 'ADMIN_APP_URL', 'EMAIL_DEFAULT_FROM', 'AUTH_EMAIL_FROM'])
      expect(message).toContain(`${name}: must be`);
  });

  it('refuses http links and senders on local domains', () => {
    expect(() => loadConfig({ ...real, ...publicUrls, PUBLIC_API_URL: 'http://api.news.acme.org' })).toThrowError(/PUBLIC_API_URL: must be a public https/);
    expect(() => loadConfig({ ...real, ...publicUrls, PREFERENCES_APP_URL: 'https://127.0.0.1/preferences' })).toThrowError(/PREFERENCES_APP_URL/);
    expect(() => loadConfig({ ...real, ...publicUrls, EMAIL_DEFAULT_FROM: 'Acme <no-reply@mail.local>' })).toThrowError(
      /EMAIL_DEFAULT_FROM: must be an address on a real sending domain/,
    );
  });

  it('starts with https links and real senders, and the dev mailbox keeps its localhost defaults', () => {
    expect(loadConfig({ ...real, ...publicUrls }).EMAIL_PROVIDER).toBe('smtp');
    expect(loadConfig({ TOKEN_SECRET: secret }).PUBLIC_API_URL).toBe('http://localhost:3000');
  });

  it('takes a VERP bounce mailbox only with a short local part', () => {
    expect(loadConfig({ ...real, ...publicUrls, SMTP_RETURN_PATH: 'bounces@bounce.acme.org' }).SMTP_RETURN_PATH).toBe('bounces@bounce.acme.org');
    expect(() => loadConfig({ ...real, ...publicUrls, SMTP_RETURN_PATH: 'a-very-long-bounce-mailbox@bounce.acme.org' })).toThrowError(/SMTP_RETURN_PATH/);
  });
});
