import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { retryDelayMs } from './delivery.ts';
import { createSecretBox, newSigningSecret, signatureHeader } from './signing.ts';

const TOKEN = 'a-token-secret-that-is-long-enough-000001';

describe('webhook signing', () => {
  it('signs so that the standardwebhooks library verifies, with either secret after a rotation', () => {
    const [current, previous] = [newSigningSecret(), newSigningSecret()];
    const body = JSON.stringify({ id: 'evt', type: 'webhook.test', data: {} });
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = {
      'webhook-id': 'evt',
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signatureHeader([current, previous], 'evt', timestamp, body),
    };
    expect(new Webhook(current).verify(body, headers)).toEqual(JSON.parse(body));
    expect(new Webhook(previous).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(newSigningSecret()).verify(body, headers)).toThrow();
  });

  it('keeps secrets encrypted and opens them after TOKEN_SECRET is rotated the documented way', () => {
    const secret = newSigningSecret();
    const sealed = createSecretBox([TOKEN]).seal(secret);
    expect(sealed).not.toContain(secret.slice(6, 20));
    expect(createSecretBox(['a-new-token-secret-that-is-long-enough-02', TOKEN]).open(sealed)).toBe(secret);
    expect(() => createSecretBox(['a-new-token-secret-that-is-long-enough-02']).open(sealed)).toThrow(/no longer configured/);
  });

  it('retries on the configured schedule with at most 20% jitter, then stops', () => {
    const delays = [5000, 300_000];
    expect(retryDelayMs(delays, 1, () => 0)).toBe(5000);
    expect(retryDelayMs(delays, 1, () => 0.999)).toBeLessThanOrEqual(6000);
    expect(retryDelayMs(delays, 2, () => 0.5)).toBe(330_000);
    expect(retryDelayMs(delays, 3)).toBeNull();
  });
});
