import { createCipheriv, createDecipheriv, createSecretKey, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import { hmacSha256 } from '../../lib/crypto.ts';

/**
 * Standard Webhooks v1 signing (https://www.standardwebhooks.com): the secret is `whsec_` + base64 of
 * random bytes; each request carries `webhook-id`, `webhook-timestamp` (Unix seconds) and
 * `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, several space-separated when more
 * than one secret signs (the day after a rotation).
 */
export function newSigningSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** The HMAC key of a `whsec_` secret: its base64-decoded bytes, prepared once for many signatures. */
export const signingKey = (secret: string): KeyObject => createSecretKey(Buffer.from(secret.replace(/^whsec_/, ''), 'base64'));

/** The header value; `secrets` as strings or, for many deliveries of one endpoint, as prepared keys. */
export function signatureHeader(secrets: readonly (string | KeyObject)[], id: string, timestamp: number, body: string): string {
  return secrets
    .map((secret) => `v1,${hmacSha256(typeof secret === 'string' ? signingKey(secret) : secret, `${id}.${timestamp}.${body}`).toString('base64')}`)
    .join(' ');
}

/**
 * The reference system's documented header, for receivers written for it: `sha256=` + hex HMAC-SHA256 of
 * the raw body, keyed with the secret exactly as shown (the whole `whsec_…` string). It has no timestamp,
 * so it cannot stop replays; it is opt-in per endpoint.
 */
export function legacySignatureHeader(secret: string, body: string): string {
  return `sha256=${hmacSha256(secret, body).toString('hex')}`;
}

/**
 * Signing secrets at rest: AES-256-GCM under a key derived from the installation's TOKEN_SECRET (HKDF,
 * its own purpose label, so the key signs nothing else). The first TOKEN_SECRET encrypts; every one is
 * tried when decrypting (GCM's tag tells which fits), so rotating TOKEN_SECRET the documented way keeps
 * existing endpoints working. Stored as `v1.<iv>.<tag>.<ciphertext>`, base64url.
 */
export function createSecretBox(tokenSecrets: readonly string[]) {
  const keys = tokenSecrets.map((secret) => Buffer.from(hkdfSync('sha256', secret, 'subscribe-flow', 'webhook-signing-secrets', 32)));
  if (keys.length === 0) throw new Error('no TOKEN_SECRET to derive the webhook secret key from');

  return {
    seal(plain: string): string {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', keys[0]!, iv);
      const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return ['v1', iv, cipher.getAuthTag(), data].map((part) => (typeof part === 'string' ? part : part.toString('base64url'))).join('.');
    },

    open(sealed: string): string {
      const [version, iv, tag, data] = sealed.split('.');
      if (version !== 'v1' || !iv || !tag || data === undefined) throw new Error('not a sealed webhook secret');
      for (const key of keys) {
        try {
          const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
          decipher.setAuthTag(Buffer.from(tag, 'base64url'));
          return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
        } catch {
          // Sealed under another TOKEN_SECRET; try the next.
        }
      }
      throw new Error('the webhook secret was sealed under a TOKEN_SECRET that is no longer configured');
    },
  };
}

export type SecretBox = ReturnType<typeof createSecretBox>;
