import type { Logger } from '../../logger.ts';
import type { EngagementEvent } from './engagement.repository.ts';

export interface RecorderOptions {
  /** Writes one batch (one statement); the recorder never calls it twice at once. */
  write: (events: EngagementEvent[]) => Promise<unknown>;
  logger: Pick<Logger, 'warn' | 'error'>;
  /** A batch is written this often while hits arrive. */
  flushMs: number;
  /** Hits per statement. */
  batchSize: number;
  /** Hits held at most; beyond it the oldest are dropped (and counted), so memory stays bounded. */
  maxBuffered: number;
}

/**
 * The redirect and the pixel answer without waiting for PostgreSQL: a hit is pushed into this buffer
 * and written with others in one set-based statement every `flushMs`. What a crash loses is at most the
 * last interval's hits; shutdown writes what is left. When the database is slow or down the buffer
 * keeps the newest `maxBuffered` hits and the rest are counted as dropped.
 */
export function createEngagementRecorder(options: RecorderOptions) {
  let buffer: EngagementEvent[] = [];
  let timer: NodeJS.Timeout | null = null;
  let writing: Promise<void> | null = null;
  let dropped = 0;
  let written = 0;

  async function writeAll(): Promise<void> {
    while (buffer.length > 0) {
      const batch = buffer.slice(0, options.batchSize);
      buffer = buffer.slice(batch.length);
      try {
        await options.write(batch);
        written += batch.length;
      } catch (error) {
        // Put the batch back once (the next interval retries it); the cap below bounds what is kept.
        buffer = batch.concat(buffer);
        trim();
        options.logger.warn({ err: error, pending: buffer.length }, 'writing tracking events failed; retrying on the next interval');
        return;
      }
    }
  }

  function trim(): void {
    if (buffer.length <= options.maxBuffered) return;
    const excess = buffer.length - options.maxBuffered;
    buffer = buffer.slice(excess);
    dropped += excess;
  }

  function flush(): Promise<void> {
    writing ??= writeAll().finally(() => {
      writing = null;
    });
    return writing;
  }

  function schedule(): void {
    if (timer) return;
    timer = setTimeout(() => {
      timer = null;
      void flush().then(() => {
        if (buffer.length > 0) schedule();
      });
    }, options.flushMs);
    timer.unref();
  }

  return {
    record(event: EngagementEvent): void {
      buffer.push(event);
      trim();
      schedule();
    },
    /** Writes everything buffered now (shutdown, tests). */
    async flush(): Promise<void> {
      if (timer) {
        clearTimeout(timer);
        timer = null;
      }
      await writing;
      await flush();
    },
    stats: () => ({ pending: buffer.length, written, dropped }),
  };
}

export type EngagementRecorder = ReturnType<typeof createEngagementRecorder>;
