import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestContext } from '../../server/test/support/context.ts';
import { generatedCsv, importer } from '../../server/test/imports/helpers.ts';
import { ConflictError, SubscribeFlowClient, ValidationError } from '../src/index.ts';
import { startApi } from './support.ts';

let ctx: TestContext;
let sf: SubscribeFlowClient;
let imports: ReturnType<typeof importer>;
let dir: string;

beforeAll(async () => {
  const started = await startApi({ IMPORT_MAX_BYTES: String(4 * 1024 * 1024) });
  ctx = started.ctx;
  sf = new SubscribeFlowClient({ apiKey: started.organization.key, baseUrl: started.baseUrl });
  // The import job runs in this process, as the worker would run it.
  imports = importer(ctx);
  dir = await mkdtemp(path.join(os.tmpdir(), 'sdk-imports-'));
});
afterAll(async () => {
  await ctx?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const text = (stream: ReadableStream<Uint8Array>) => new Response(stream).text();

describe('imports through the SDK', () => {
  it('uploads a Blob as a dry run, reads the report and the errors, then starts it for real', async () => {
    const csv = 'Email Address,First Name,Plan\nada@import.test,Ada,pro\nnot-an-email,Bob,free\nada@import.test,Ada again,pro\n';
    const created = await sf.imports.create(new Blob([csv], { type: 'text/csv' }), {
      dry_run: true,
      tags: ['imported'],
      mapping: { Plan: 'metadata.plan' },
      fileName: 'crm.csv',
    });
    expect(created).toMatchObject({ status: 'queued', dry_run: true, file_name: 'crm.csv' });
    expect(created.detected.mapping).toEqual({ 'Email Address': 'email', 'First Name': 'first_name', Plan: 'metadata.plan' });
    await imports.run(created.id, true);

    const report = await sf.imports.get(created.id);
    expect(report).toMatchObject({ status: 'completed', total: 3, created: 1, failed: 1, skipped: { duplicate_in_file: 1 } });
    await expect(sf.subscribers.getByEmail('ada@import.test')).rejects.toMatchObject({ status: 404 });
    const errors = await text(await sf.imports.errors(created.id));
    expect(errors).toMatch(/invalid_email/);
    expect(errors).not.toContain('not-an-email');

    const started = await sf.imports.start(created.id);
    expect(started.dry_run).toBe(false);
    await imports.run(created.id, false);
    expect((await sf.imports.get(created.id)).status).toBe('completed');
    expect(await sf.subscribers.getByEmail('ada@import.test')).toMatchObject({ first_name: 'Ada', metadata: { plan: 'pro' } });
  });

  it('streams a file from disk (a Node stream) and a web ReadableStream without holding it in memory', async () => {
    const file = path.join(dir, 'people.csv');
    await writeFile(file, generatedCsv(2000, 0, 'disk.test'));
    const fromDisk = await sf.imports.create(createReadStream(file), { fileName: 'people.csv' });
    expect(fromDisk.file_bytes).toBeGreaterThan(60_000);
    await imports.run(fromDisk.id, false);
    expect(await sf.imports.get(fromDisk.id)).toMatchObject({ status: 'completed', total: 2000, created: 2000 });

    const web = Readable.toWeb(Readable.from([generatedCsv(3, 0, 'web.test')])) as ReadableStream<Uint8Array>;
    const fromWeb = await sf.imports.create(web);
    expect(fromWeb.file_name).toBe('import.csv');
    await imports.run(fromWeb.id, false);
    expect(await sf.imports.get(fromWeb.id)).toMatchObject({ status: 'completed', created: 3 });

    const listed: string[] = [];
    for await (const item of sf.imports.listAll({ limit: 1 })) listed.push(item.id);
    expect(listed).toEqual(expect.arrayContaining([fromDisk.id, fromWeb.id]));
  });

  it('cancels a queued import once, and reports a file without an email column in words', async () => {
    const queued = await sf.imports.create(new Blob([generatedCsv(5, 0, 'cancel.test')]));
    expect((await sf.imports.cancel(queued.id)).status).toBe('cancelled');
    await expect(sf.imports.cancel(queued.id)).rejects.toBeInstanceOf(ConflictError);

    const error = await sf.imports.create(new Blob(['name,city\nAda,London\n'])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).message).toMatch(/email/i);
  });
});

describe('the subscriber export through the SDK', () => {
  it('streams CSV and NDJSON with the list filters', async () => {
    await sf.subscribers.create({ email: 'exported@example.com', first_name: 'Ex', tags: ['export-me'], metadata: { plan: 'team' } });
    const csv = await text(await sf.subscribers.export({ tag: 'export-me', metadata: 'plan' }));
    const [header, row, ...rest] = csv.trim().split('\n');
    expect(header).toContain('metadata.plan');
    expect(row).toContain('exported@example.com');
    expect(rest).toEqual([]);

    const stream = await sf.subscribers.export({ format: 'ndjson', q: 'user1' });
    const emails: string[] = [];
    let buffered = '';
    const decoder = new TextDecoder();
    const reader = stream.getReader();
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      buffered += decoder.decode(read.value, { stream: true });
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) if (line) emails.push((JSON.parse(line) as { email: string }).email);
    }
    // user1, user10–19, user100–199 and user1000–1999 of the 2,000 imported from disk, and user1 of the 3 from the web stream.
    expect(emails.filter((e) => e.endsWith('@disk.test'))).toHaveLength(1 + 10 + 100 + 1000);
    expect(emails.filter((e) => !e.endsWith('@disk.test'))).toEqual(['user1@web.test']);
  });
});
