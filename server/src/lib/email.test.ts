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
});
