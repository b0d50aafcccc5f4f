import type { TestContext } from '../support/context.ts';
import type { JobContext } from '../../src/jobs/context.ts';
import { createMetrics } from '../../src/metrics/registry.ts';

/** A multipart/form-data body with the options field first and the CSV as the file part. */
export function multipart(file: Buffer | string, options?: Record<string, unknown>, fileName = 'list.csv') {
  const boundary = `----sf${Math.random().toString(16).slice(2)}`;
  const parts: Buffer[] = [];
  if (options) parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="options"\r\n\r\n${JSON.stringify(options)}\r\n`));
  parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${fileName}"\r\nContent-Type: text/csv\r\n\r\n`));
  parts.push(typeof file === 'string' ? Buffer.from(file) : file);
  parts.push(Buffer.from(`\r\n--${boundary}--\r\n`));
  return { payload: Buffer.concat(parts), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

export function jobContext(ctx: TestContext, overrides: Partial<JobContext> = {}): JobContext {
  return {
    jobId: 'test',
    attemptsMade: 0,
    attempt: 1,
    lastAttempt: false,
    signal: new AbortController().signal,
    log: ctx.container.logger,
    rateLimited: async () => {
      throw new Error('rate limited');
    },
    unrecoverable: (m) => new Error(m),
    giveBack: async () => {
      throw new Error('given back');
    },
    postpone: async () => {
      throw new Error('postponed');
    },
    ...overrides,
  };
}

/** Uploads a CSV as the key's organization and runs the queued job in this process, as the worker would. */
export function importer(ctx: TestContext) {
  const handlers = ctx.container.jobHandlers(createMetrics('test-imports'));
  const run = (id: string, dryRun: boolean, context: Partial<JobContext> = {}) =>
    handlers['import.process']({ import_id: id, dry_run: dryRun }, jobContext(ctx, context));
  return {
    run,
    async upload(key: string, file: Buffer | string, options?: Record<string, unknown>) {
      const body = multipart(file, options);
      return ctx.app.inject({
        method: 'POST',
        url: '/api/v1/subscribers/imports',
        headers: { authorization: `Bearer ${key}`, ...body.headers },
        payload: body.payload,
      });
    },
    /** Upload, run, and the final report. */
    async importCsv(key: string, file: Buffer | string, options: Record<string, unknown> = {}) {
      const uploaded = await this.upload(key, file, options);
      if (uploaded.statusCode !== 202) throw new Error(`upload answered ${uploaded.statusCode}: ${uploaded.body}`);
      const { id } = uploaded.json();
      await run(id, options.dry_run === true);
      const report = await ctx.app.inject({ method: 'GET', url: `/api/v1/subscribers/imports/${id}`, headers: { authorization: `Bearer ${key}` } });
      return report.json();
    },
  };
}

/** A CSV of `count` generated subscribers (header email,first_name,last_name,tags,plan). */
export function generatedCsv(count: number, start = 0, domain = 'bulk.example'): string {
  const lines = ['email,first_name,last_name,tags,plan'];
  for (let i = start; i < start + count; i += 1)
    lines.push(`user${i}@${domain},First${i},Last${i},${i % 2 === 0 ? 'even' : 'odd'},${i % 3 === 0 ? 'pro' : 'free'}`);
  return `${lines.join('\n')}\n`;
}
