import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { JobHandler } from './jobs/context.ts';
import type { Logger } from './logger.ts';
import type { ImportService } from './modules/imports/index.ts';

/** `cli import`: uploads a file as the API would, runs the job in this process and draws its progress on stderr. */
export async function cliImport(
  deps: { imports: ImportService; handler: JobHandler<'import.process'>; logger: Logger },
  organizationId: string,
  file: string,
  options: { tags: string[]; dryRun: boolean; updateExisting: boolean },
) {
  await stat(file);
  const created = await deps.imports.upload(
    organizationId,
    null,
    { tags: options.tags, dry_run: options.dryRun, update_existing: options.updateExisting },
    { name: path.basename(file), stream: createReadStream(file), truncated: () => false },
    { enqueue: false },
  );
  const draw = async () => {
    const report = await deps.imports.get(organizationId, created.id);
    const share = report.file_bytes > 0 ? Math.min(1, report.bytes_processed / report.file_bytes) : 0;
    const width = 30;
    const bar = `${'#'.repeat(Math.round(share * width))}${'-'.repeat(width - Math.round(share * width))}`;
    const rate = report.rows_per_second ? ` ${report.rows_per_second.toLocaleString('en-US')} rows/s` : '';
    const eta = report.eta_seconds !== null && report.status === 'running' ? ` ETA ${report.eta_seconds}s` : '';
    process.stderr.write(
      `\r[${bar}] ${Math.round(share * 100)}% ${report.processed.toLocaleString('en-US')} rows${rate}${eta} ${report.phase ?? report.status}   `,
    );
  };
  const timer = setInterval(() => void draw().catch(() => undefined), 250);
  try {
    await deps.handler(
      { import_id: created.id, dry_run: options.dryRun },
      {
        jobId: `cli-${created.id}`,
        attemptsMade: 0,
        attempt: 1,
        lastAttempt: true,
        signal: new AbortController().signal,
        log: deps.logger,
        rateLimited: async () => {
          throw new Error('not rate limited');
        },
        unrecoverable: (message) => new Error(message),
        giveBack: async () => {
          throw new Error('interrupted');
        },
        postpone: async () => {
          throw new Error('interrupted');
        },
      },
    );
  } finally {
    clearInterval(timer);
  }
  await draw();
  process.stderr.write('\n');
  const { preview: _preview, ...report } = await deps.imports.get(organizationId, created.id);
  return report;
}
