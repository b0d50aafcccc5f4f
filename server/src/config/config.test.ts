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
