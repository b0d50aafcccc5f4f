import { describe, expect, it } from 'vitest';
import { createTokenSigner } from './tokens.ts';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const claims = { purpose: 'pref', organizationId: 'org-1', subjectId: 'sub-1', expiresAt: 2_000_000_000 };

describe('signed tokens', () => {
  it('round-trips claims', () => {
    const signer = createTokenSigner([A], () => 1_000_000_000_000);
    expect(signer.verify(signer.sign(claims), 'pref')).toEqual(claims);
  });

  it('rejects a token whose claims were altered', () => {
    const signer = createTokenSigner([A]);
    const [body, signature] = signer.sign(claims).split('.');
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body!, 'base64url').toString()), s: 'sub-2' })).toString('base64url');
    expect(() => signer.verify(`${forged}.${signature}`, 'pref')).toThrowError(expect.objectContaining({ code: 'invalid_token' }));
    expect(() => signer.verify('garbage', 'pref')).toThrowError(expect.objectContaining({ code: 'invalid_token' }));
  });

  it('rejects a token minted for another purpose', () => {
    const signer = createTokenSigner([A]);
    expect(() => signer.verify(signer.sign(claims), 'unsub')).toThrowError(expect.objectContaining({ code: 'invalid_token' }));
  });

  it('reports expiry separately from tampering', () => {
    const signer = createTokenSigner([A], () => 2_000_000_001_000);
    expect(() => signer.verify(signer.sign(claims), 'pref')).toThrowError(expect.objectContaining({ code: 'token_expired', status: 401 }));
  });

  it('accepts tokens signed with a previous secret after rotation, and signs with the new one', () => {
    const before = createTokenSigner([A]);
    const after = createTokenSigner([B, A]);
    expect(after.verify(before.sign(claims), 'pref').subjectId).toBe('sub-1');
    const retired = createTokenSigner([B]);
    expect(() => retired.verify(before.sign(claims), 'pref')).toThrowError(expect.objectContaining({ code: 'invalid_token' }));
    expect(retired.verify(after.sign(claims), 'pref').subjectId).toBe('sub-1');
  });
});
