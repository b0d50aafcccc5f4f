import { describe, expect, it } from 'vitest';
import { AppError } from '../../lib/errors.ts';
import { assertAllowedTarget, createTargetPolicy, parseTargetUrl, refusedAddress } from './ssrf.ts';

const strict = createTargetPolicy({ WEBHOOKS_ALLOW_PRIVATE: false, WEBHOOKS_ALLOW_PRIVATE_HOSTS: '' });

const codeOf = async (work: () => unknown): Promise<string | null> => {
  try {
    await work();
    return null;
  } catch (error) {
    return error instanceof AppError ? error.code : String(error);
  }
};

describe('the SSRF guard', () => {
  it('refuses every class of internal address, IPv4 and IPv6, and allows public ones', () => {
    const refused = [
      '127.0.0.1',
      '127.255.255.254',
      '0.0.0.0',
      '10.1.2.3',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '169.254.169.254',
      '169.254.0.1',
      '100.64.0.1',
      '100.100.100.200',
      '192.0.2.1',
      '198.18.0.1',
      '224.0.0.1',
      '255.255.255.255',
      '::1',
      '::',
      'fd00:ec2::254',
      'fc00::1',
      'fe80::1',
      'ff02::1',
      '::ffff:127.0.0.1',
      '::ffff:a9fe:a9fe',
      '64:ff9b::10.0.0.1',
    ];
    const problems = refused.filter((address) => refusedAddress(address, strict) === null);
    expect(problems, 'addresses the guard let through').toEqual([]);
    for (const address of ['93.184.215.14', '1.1.1.1', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8']) {
      expect(refusedAddress(address, strict), address).toBeNull();
    }
  });

  it('refuses non-http schemes, credentials in the URL and literal internal addresses', async () => {
    expect(await codeOf(() => parseTargetUrl('ftp://example.com/hook', strict))).toBe('invalid_webhook_url');
    expect(await codeOf(() => parseTargetUrl('file:///etc/passwd', strict))).toBe('invalid_webhook_url');
    expect(await codeOf(() => parseTargetUrl('https://user:pass@example.com/', strict))).toBe('invalid_webhook_url');
    expect(await codeOf(() => parseTargetUrl('not a url', strict))).toBe('invalid_webhook_url');
    expect(await codeOf(() => parseTargetUrl('http://[::1]:8080/hook', strict))).toBe('webhook_url_blocked');
    expect(await codeOf(() => parseTargetUrl('http://169.254.169.254/latest/meta-data/', strict))).toBe('webhook_url_blocked');
    // Other spellings of an address are normalized by the URL parser before the check.
    expect(await codeOf(() => parseTargetUrl('http://2130706433/', strict))).toBe('webhook_url_blocked');
    expect(await codeOf(() => parseTargetUrl('http://0x7f.1/', strict))).toBe('webhook_url_blocked');
    expect(await codeOf(() => parseTargetUrl('https://93.184.215.14/hook', strict))).toBeNull();
  });

  it('refuses a host name that resolves to an internal address', async () => {
    expect(await codeOf(() => assertAllowedTarget(new URL('http://localhost:8080/hook'), strict))).toBe('webhook_url_blocked');
  });

  it('lets the operator allow named private addresses or ranges, and only those', async () => {
    const allowList = createTargetPolicy({ WEBHOOKS_ALLOW_PRIVATE: false, WEBHOOKS_ALLOW_PRIVATE_HOSTS: '127.0.0.1, 10.5.0.0/16' });
    expect(refusedAddress('127.0.0.1', allowList)).toBeNull();
    expect(refusedAddress('10.5.3.4', allowList)).toBeNull();
    expect(refusedAddress('127.0.0.2', allowList)).not.toBeNull();
    expect(refusedAddress('10.6.0.1', allowList)).not.toBeNull();
    expect(refusedAddress('169.254.169.254', allowList)).not.toBeNull();
    const all = createTargetPolicy({ WEBHOOKS_ALLOW_PRIVATE: true, WEBHOOKS_ALLOW_PRIVATE_HOSTS: '' });
    expect(refusedAddress('192.168.0.10', all)).toBeNull();
    expect(() => createTargetPolicy({ WEBHOOKS_ALLOW_PRIVATE: false, WEBHOOKS_ALLOW_PRIVATE_HOSTS: 'internal.example' })).toThrow(
      /WEBHOOKS_ALLOW_PRIVATE_HOSTS/,
    );
  });
});
