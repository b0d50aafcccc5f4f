import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { QUEUE_NAMES, type QueueName } from './registry.ts';

/**
 * A connection for enqueueing. Unlike a worker's, its commands give up after a couple of reconnect
 * attempts, so an API request fails fast when Redis is down instead of hanging; the sweep jobs pick up
 * whatever was committed but not enqueued.
 */
export function createProducerConnection(url: string): Redis {
  // Lazy: processes that never enqueue (the OpenAPI export, most CLI commands) never connect.
  return new Redis(url, { maxRetriesPerRequest: 2, enableReadyCheck: true, lazyConnect: true });
}

/** Closes a connection whether or not it ever connected (QUIT would wait for a connection forever). */
export async function closeConnection(connection: Redis): Promise<void> {
  if (connection.status === 'ready') await connection.quit().catch(() => connection.disconnect());
  else connection.disconnect();
}

/** BullMQ connections for workers: blocking commands must wait forever, as BullMQ requires. */
export function createWorkerConnection(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true });
}

/** One Queue object per queue name, sharing a connection; `prefix` keeps stacks apart in one Redis. */
export function createQueues(connection: Redis, prefix: string) {
  const queues = new Map<QueueName, Queue>();
  function get(name: QueueName): Queue {
    let queue = queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection, prefix });
      queues.set(name, queue);
    }
    return queue;
  }
  return {
    get,
    names: QUEUE_NAMES,
    async close(): Promise<void> {
      await Promise.allSettled([...queues.values()].map((queue) => queue.close()));
    },
  };
}

export type Queues = ReturnType<typeof createQueues>;
