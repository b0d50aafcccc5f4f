import { createHash, createHmac, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';

export const sha256Hex = (value: string): string => createHash('sha256').update(value).digest('hex');

/** URL-safe random string from `bytes` random bytes (base64url, so 4 characters per 3 bytes). */
export const randomToken = (bytes: number): string => randomBytes(bytes).toString('base64url');

export const hmacSha256 = (key: string | Buffer | KeyObject, value: string): Buffer => createHmac('sha256', key).update(value).digest();

export function constantTimeEqual(a: string | Buffer, b: string | Buffer): boolean {
  const left = Buffer.isBuffer(a) ? a : Buffer.from(a);
  const right = Buffer.isBuffer(b) ? b : Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
