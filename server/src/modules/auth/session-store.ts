import type { Redis } from 'ioredis';
import { randomToken, sha256Hex } from '../../lib/crypto.ts';
import { newId } from '../../lib/ids.ts';

// 32 random bytes → 43 base64url characters: the cookie value. Redis only ever sees its SHA-256.
const SESSION_ID_BYTES = 32;
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;
// Extending the expiry is a write; doing it at most once per interval keeps reads to one GET.
const TOUCH_INTERVAL_MS = 5 * 60_000;

interface StoredSession {
  /** Public id: what the owner sees in their session list and revokes by. Never the cookie value. */
  pid: string;
  uid: string;
  /** Created and last-seen times in epoch milliseconds. */
  cat: number;
  lat: number;
  ip: string | null;
  ua: string | null;
}

export interface Session {
  id: string;
  userId: string;
  /** Hash of the cookie value: the Redis key suffix. */
  keyHash: string;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  ip: string | null;
  userAgent: string | null;
  /** True when this lookup extended the expiry, so the caller should re-send the cookie. */
  touched: boolean;
}

export interface SessionStoreOptions {
  prefix: string;
  idleTtlSeconds: number;
  maxAgeSeconds: number;
  now?: () => number;
}

/**
 * Admin sessions in Redis. The key is `<prefix>:sess:<sha256(cookie value)>`, so a Redis dump does not
 * hand out working cookies. A per-user hash maps public session ids to those keys, which is what
 * "list my sessions" and "revoke that one" read. Expiry slides with use up to an absolute maximum.
 */
export function createSessionStore(redis: Redis, options: SessionStoreOptions) {
  const now = options.now ?? Date.now;
  const sessionKey = (keyHash: string) => `${options.prefix}:sess:${keyHash}`;
  const userKey = (userId: string) => `${options.prefix}:sess:user:${userId}`;

  function ttlSeconds(stored: StoredSession, at: number): number {
    const remainingAbsolute = Math.floor((stored.cat + options.maxAgeSeconds * 1000 - at) / 1000);
    return Math.min(options.idleTtlSeconds, remainingAbsolute);
  }

  function toSession(stored: StoredSession, keyHash: string, touched: boolean): Session {
    const expiresAt = Math.min(stored.lat + options.idleTtlSeconds * 1000, stored.cat + options.maxAgeSeconds * 1000);
    return {
      id: stored.pid,
      userId: stored.uid,
      keyHash,
      createdAt: new Date(stored.cat),
      lastSeenAt: new Date(stored.lat),
      expiresAt: new Date(expiresAt),
      ip: stored.ip,
      userAgent: stored.ua,
      touched,
    };
  }

  async function removeByHash(userId: string, publicId: string, keyHash: string): Promise<void> {
    await redis.multi().del(sessionKey(keyHash)).hdel(userKey(userId), publicId).exec();
  }

  return {
    /** Starts a session and returns the cookie value (shown to the browser only). */
    async create(userId: string, meta: { ip: string | null; userAgent: string | null }): Promise<{ cookieValue: string; session: Session }> {
      const cookieValue = randomToken(SESSION_ID_BYTES);
      const keyHash = sha256Hex(cookieValue);
      const at = now();
      const stored: StoredSession = { pid: newId(), uid: userId, cat: at, lat: at, ip: meta.ip, ua: meta.userAgent?.slice(0, 256) ?? null };
      const ttl = ttlSeconds(stored, at);
      await redis
        .multi()
        .set(sessionKey(keyHash), JSON.stringify(stored), 'EX', ttl)
        .hset(userKey(userId), stored.pid, keyHash)
        .expire(userKey(userId), options.maxAgeSeconds)
        .exec();
      return { cookieValue, session: toSession(stored, keyHash, false) };
    },

    /** The live session behind a cookie value, extending its idle expiry; null when unknown or expired. */
    async get(cookieValue: string): Promise<Session | null> {
      if (!SESSION_ID.test(cookieValue)) return null;
      const keyHash = sha256Hex(cookieValue);
      const raw = await redis.get(sessionKey(keyHash));
      if (raw === null) return null;
      const stored = JSON.parse(raw) as StoredSession;
      const at = now();
      const ttl = ttlSeconds(stored, at);
      if (ttl <= 0) {
        await removeByHash(stored.uid, stored.pid, keyHash);
        return null;
      }
      if (at - stored.lat < TOUCH_INTERVAL_MS) return toSession(stored, keyHash, false);
      const touched: StoredSession = { ...stored, lat: at };
      // XX: a session revoked between the GET and this SET must stay revoked.
      await redis.set(sessionKey(keyHash), JSON.stringify(touched), 'EX', ttl, 'XX');
      return toSession(touched, keyHash, true);
    },

    /** The user's live sessions, newest first; index entries whose session has expired are dropped. */
    async listForUser(userId: string): Promise<Session[]> {
      const index = await redis.hgetall(userKey(userId));
      const entries = Object.entries(index);
      if (entries.length === 0) return [];
      const values = await redis.mget(entries.map(([, keyHash]) => sessionKey(keyHash)));
      const sessions: Session[] = [];
      const stale: string[] = [];
      entries.forEach(([publicId, keyHash], i) => {
        const raw = values[i];
        if (raw) sessions.push(toSession(JSON.parse(raw) as StoredSession, keyHash, false));
        else stale.push(publicId);
      });
      if (stale.length > 0) await redis.hdel(userKey(userId), ...stale);
      return sessions.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
    },

    /** Ends one of the user's sessions by its public id; false when the user has no such session. */
    async revoke(userId: string, publicId: string): Promise<boolean> {
      const keyHash = await redis.hget(userKey(userId), publicId);
      if (!keyHash) return false;
      const removed = await redis.multi().del(sessionKey(keyHash)).hdel(userKey(userId), publicId).exec();
      return Number(removed?.[0]?.[1] ?? 0) > 0;
    },

    /** Ends every session of a user, e.g. when an operator locks the account. */
    async revokeAllForUser(userId: string): Promise<void> {
      const index = await redis.hgetall(userKey(userId));
      const keys = Object.values(index).map(sessionKey);
      await redis.del(...keys, userKey(userId));
    },
  };
}

export type SessionStore = ReturnType<typeof createSessionStore>;
