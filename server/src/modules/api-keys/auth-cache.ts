import type { Redis } from 'ioredis';
import type { Logger } from '../../logger.ts';

interface Entry<T> {
  value: T;
  organizationId: string;
  expiresAt: number;
}

/**
 * A short-lived, per-process cache of authenticated API keys, so a request costs no database round
 * trip for its key. Revoking a key or suspending an organization publishes an invalidation on Redis
 * that every API process applies at once; the TTL bounds staleness should such a message be missed
 * (Redis unreachable at that moment).
 */
export function createAuthCache<T>(deps: { redis: Redis; channel: string; logger: Logger; ttlMs: number; maxEntries: number; now?: () => number }) {
  const { channel, logger, ttlMs, maxEntries } = deps;
  const now = deps.now ?? Date.now;
  const entries = new Map<string, Entry<T>>();
  let subscriber: Redis | null = null;

  function evict(message: string): void {
    const [kind, id] = message.split(':', 2);
    if (kind === 'key' && id) entries.delete(id);
    if (kind === 'org' && id) for (const [hash, entry] of entries) if (entry.organizationId === id) entries.delete(hash);
  }

  function listen(): void {
    if (subscriber) return;
    // A subscription waits for its connection (however long Redis is away) and resubscribes on reconnect,
    // unlike the fail-fast command connection it is copied from.
    subscriber = deps.redis.duplicate({ enableOfflineQueue: true, commandTimeout: undefined, maxRetriesPerRequest: null });
    subscriber.on('error', (error) => logger.warn({ err: error }, 'auth cache subscriber error'));
    subscriber.on('message', (_channel: string, message: string) => evict(message));
    // Entries cached while the subscription was down may have missed invalidations.
    subscriber.on('ready', () => entries.clear());
    void subscriber.subscribe(channel).catch((error: unknown) => logger.warn({ err: error }, 'auth cache could not subscribe'));
  }

  async function publish(message: string): Promise<void> {
    try {
      await deps.redis.publish(channel, message);
    } catch (error) {
      logger.warn({ err: error }, 'could not publish an auth cache invalidation; other processes rely on the TTL');
    }
  }

  return {
    get(keyHash: string): T | undefined {
      const entry = entries.get(keyHash);
      if (!entry) return undefined;
      if (entry.expiresAt <= now()) {
        entries.delete(keyHash);
        return undefined;
      }
      return entry.value;
    },

    set(keyHash: string, organizationId: string, value: T): void {
      listen();
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
      entries.set(keyHash, { value, organizationId, expiresAt: now() + ttlMs });
    },

    /**
     * Drops the entry here and in every other process. Called after the revocation committed, so it never
     * fails: with Redis unreachable the other processes drop the entry when its TTL ends, or at once when
     * their subscription reconnects (which clears their cache).
     */
    async invalidateKey(keyHash: string): Promise<void> {
      entries.delete(keyHash);
      await publish(`key:${keyHash}`);
    },

    async invalidateOrganization(organizationId: string): Promise<void> {
      evict(`org:${organizationId}`);
      await publish(`org:${organizationId}`);
    },

    async close(): Promise<void> {
      entries.clear();
      if (subscriber) await subscriber.quit().catch(() => undefined);
      subscriber = null;
    },
  };
}

export type AuthCache<T> = ReturnType<typeof createAuthCache<T>>;
