import { describe, expect, it } from 'vitest';
import { maskEmail, maskEmailsIn } from './email.ts';

describe('address masking', () => {
  it('keeps the first character and the domain of an address', () => {
    expect(maskEmail('jane.doe@example.com')).toBe('j***@example.com');
    expect(maskEmail('not-an-address')).toBe('***');
  });

  it('masks every address in free text and in URLs, percent-encoded or not', () => {
    expect(maskEmailsIn('550 5.1.1 <jane.doe@example.com>: Recipient address rejected; cc bob+x@mail.example.org')).toBe(
      '550 5.1.1 <j***@example.com>: Recipient address rejected; cc b***@mail.example.org',
    );
    expect(maskEmailsIn('/api/v1/subscribers?email=jane%40example.com&limit=5')).toBe('/api/v1/subscribers?email=j***%40example.com&limit=5');
    expect(maskEmailsIn('no address here, just a@b')).toBe('no address here, just a@b');
  });

  it('masks in time linear in the length of the text: a long signed token in a URL costs no more than its length', () => {
    const token = 'eyJwIjoidGMiLCJvIjoiMDE5MDAwMDAtMDAwMC03MDAwLTgwMDAtMDAwMDAwMDAwMDAx'.repeat(60);
    // An "@" at the end keeps the pattern from being skipped; before, one such URL took tens of milliseconds.
    const url = `/t/c/${token}.sig?from=jane.doe@example.com`;
    const started = performance.now();
    for (let i = 0; i < 10; i += 1) expect(maskEmailsIn(url)).toBe(`/t/c/${token}.sig?from=j***@example.com`);
    expect(performance.now() - started).toBeLessThan(100);
    expect(maskEmailsIn('a%40b%40example.com')).toBe('a***%40example.com');
  });
});
