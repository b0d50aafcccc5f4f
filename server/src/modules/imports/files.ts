import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * Uploaded CSV files between the api and the worker: one file per import, named by its id, in a folder
 * both processes see. Files are streamed in and out, never held in memory.
 */
export function createImportFiles(configuredDir: string) {
  const dir = configuredDir || path.join(os.tmpdir(), 'subscribe-flow-imports');
  const fileOf = (id: string) => path.join(dir, `${id}.csv`);

  return {
    /** Streams an upload to disk; the file appears under its final name only once it is complete. */
    async write(id: string, source: Readable): Promise<number> {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const partial = `${fileOf(id)}.part`;
      const sink = createWriteStream(partial, { mode: 0o600 });
      try {
        await pipeline(source, sink);
      } catch (error) {
        await rm(partial, { force: true });
        throw error;
      }
      await rename(partial, fileOf(id));
      return sink.bytesWritten;
    },

    async head(id: string, bytes: number): Promise<Buffer> {
      const handle = await open(fileOf(id), 'r');
      try {
        const buffer = Buffer.alloc(bytes);
        const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
        return buffer.subarray(0, bytesRead);
      } finally {
        await handle.close();
      }
    },

    read: (id: string): Readable => createReadStream(fileOf(id), { highWaterMark: 256 * 1024 }),

    remove: (id: string) => rm(fileOf(id), { force: true }),
  };
}

export type ImportFiles = ReturnType<typeof createImportFiles>;
