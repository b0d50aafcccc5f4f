import { createHash } from 'node:crypto';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

/** What compiling one MJML document gave: its HTML, or MJML's problems (line numbers where known). */
export type MjmlResult = { ok: true; html: string } | { ok: false; message: string; problems: { line: number | null; message: string }[] };

// Compiled HTML is at most a few hundred KB; 100 entries bound the cache to tens of MB at worst.
const CACHE_ENTRIES = 100;
// A compile that runs longer is stuck or hostile: the worker is replaced and the save refused.
const COMPILE_TIMEOUT_MS = 20_000;

// The worker runs as the same kind of file as this one: .ts from source, .js once built.
const workerUrl = new URL(`./mjml-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

interface Pending {
  owner: Worker;
  resolve: (result: MjmlResult) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * MJML compilation off the event loop, once per distinct document: one worker thread compiles, and
 * results are cached by the SHA-256 of the source, so saving a template, its previews while editing and
 * the same source saved again compile once. The worker starts on first use (only processes that save or
 * preview templates pay for MJML's memory) and holds the process open only while it has work.
 */
export function createMjmlCompiler() {
  let worker: Worker | undefined;
  let nextId = 0;
  const pending = new Map<number, Pending>();
  const cache = new Map<string, Promise<MjmlResult>>();
  let compilations = 0;

  function failAll(owner: Worker, error: Error): void {
    for (const [id, job] of pending) {
      if (job.owner !== owner) continue;
      clearTimeout(job.timer);
      job.reject(error);
      pending.delete(id);
    }
  }

  function start(): Worker {
    const started = new Worker(workerUrl);
    started.on('message', (message: { id: number } & MjmlResult) => {
      const job = pending.get(message.id);
      if (!job) return;
      pending.delete(message.id);
      clearTimeout(job.timer);
      const { id: _id, ...result } = message;
      job.resolve(result);
      if (pending.size === 0) started.unref();
    });
    started.on('error', (error) => failAll(started, error));
    started.on('exit', () => {
      if (worker === started) worker = undefined;
      failAll(started, new Error('the MJML worker stopped'));
    });
    return started;
  }

  function run(source: string): Promise<MjmlResult> {
    worker ??= start();
    const current = worker;
    current.ref();
    compilations += 1;
    const id = (nextId += 1);
    return new Promise<MjmlResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error('MJML compilation took too long'));
        // Whatever it is stuck on goes with it; the next compile starts a fresh worker.
        if (worker === current) worker = undefined;
        void current.terminate();
      }, COMPILE_TIMEOUT_MS);
      pending.set(id, { owner: current, resolve, reject, timer });
      current.postMessage({ id, source });
    });
  }

  return {
    /** Compiles (or recalls) one MJML document. Rejects only when the worker fails, never for bad MJML. */
    compile(source: string): Promise<MjmlResult> {
      const key = createHash('sha256').update(source).digest('base64url');
      const cached = cache.get(key);
      if (cached) {
        cache.delete(key);
        cache.set(key, cached);
        return cached;
      }
      const result = run(source);
      cache.set(key, result);
      // A failed run (worker crash, timeout) is not a property of the source: forget it.
      result.catch(() => cache.delete(key));
      if (cache.size > CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
      return result;
    },

    /** Documents actually compiled since start, and how many results are held (for metrics and tests). */
    stats: () => ({ compilations, cached: cache.size }),

    async close(): Promise<void> {
      const current = worker;
      worker = undefined;
      if (current) await current.terminate();
    },
  };
}

export type MjmlCompiler = ReturnType<typeof createMjmlCompiler>;
