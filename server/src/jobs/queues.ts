import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { failFastAfterFirstAttempt, FAIL_FAST_OPTIONS } from '../redis.ts';
import { QUEUE_NAMES, type QueueName } from './registry.ts';

/**
 * A connection for enqueueing. Unlike a worker's, its commands fail fast (redis.ts), so an API request
 * does not hang when Redis is down; the sweep jobs pick up whatever was committed but not enqueued.
 */
export function createProducerConnection(url: string): Redis {
  // Lazy: processes that never enqueue (the OpenAPI export, most CLI commands) never connect.
  return failFastAfterFirstAttempt(new Redis(url, { ...FAIL_FAST_OPTIONS, lazyConnect: true }));
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
      // Connect before BullMQ looks: it would otherwise connect a lazy connection itself, and should
      // Redis be down at that moment its queue stays failed for the life of the process. A connection
      // that is already connecting is awaited by BullMQ however long Redis is away (errors are logged
      // by the connection's error listener).
      if (connection.status === 'wait') connection.connect().catch(() => undefined);
      queue = new Queue(name, { connection, prefix });
      // The connection's own error listener logs Redis errors; without a listener here BullMQ would
      // print each of them again, raw, on stderr.
      queue.on('error', () => undefined);
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
