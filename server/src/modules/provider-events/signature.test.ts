import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { signPayload, verifySignature } from './signature.ts';

const secret = `whsec_${Buffer.from('a-webhook-secret-of-32-bytes-len').toString('base64')}`;
const body = JSON.stringify({ type: 'email.delivered', data: { email_id: 'e1' } });
const now = 1_800_000_000_000;
const at = Math.floor(now / 1000);

describe('Standard Webhooks signature', () => {
  it('accepts a signature made by the reference library', () => {
    const signature = new Webhook(secret).sign('msg_1', new Date(now), body);
    expect(verifySignature(secret, { id: 'msg_1', timestamp: String(at), signature }, body, now)).toBe(true);
  });

  it('accepts any matching entry of a rotated list', () => {
    const signature = `v1,bm90LXRoaXMtb25l ${signPayload(secret, 'msg_1', at, body)}`;
    expect(verifySignature(secret, { id: 'msg_1', timestamp: String(at), signature }, body, now)).toBe(true);
  });

  it('refuses a changed body, id or timestamp, and a wrong secret', () => {
    const signature = signPayload(secret, 'msg_1', at, body);
    expect(verifySignature(secret, { id: 'msg_1', timestamp: String(at), signature }, `${body} `, now)).toBe(false);
    expect(verifySignature(secret, { id: 'msg_2', timestamp: String(at), signature }, body, now)).toBe(false);
    expect(verifySignature(secret, { id: 'msg_1', timestamp: String(at + 1), signature }, body, now)).toBe(false);
    expect(verifySignature(`whsec_${Buffer.from('another-secret').toString('base64')}`, { id: 'msg_1', timestamp: String(at), signature }, body, now)).toBe(
      false,
    );
  });

  it('refuses deliveries older or newer than five minutes, and missing headers', () => {
    const old = at - 301;
    expect(verifySignature(secret, { id: 'm', timestamp: String(old), signature: signPayload(secret, 'm', old, body) }, body, now)).toBe(false);
    const future = at + 301;
    expect(verifySignature(secret, { id: 'm', timestamp: String(future), signature: signPayload(secret, 'm', future, body) }, body, now)).toBe(false);
    expect(verifySignature(secret, { id: undefined, timestamp: String(at), signature: 'v1,x' }, body, now)).toBe(false);
  });
});
