import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestContext, TEST_TOKEN_SECRET, type TestContext } from '../support/context.ts';
import { isValidEventPayload } from '../../src/modules/events/index.ts';
import { generatedCsv, importer } from './helpers.ts';

let ctx: TestContext;
let org: { id: string; key: string };
let other: { id: string; key: string };
let call: ReturnType<typeof api>;
let imports: ReturnType<typeof importer>;

beforeAll(async () => {
  ctx = await createTestContext({ IMPORT_MAX_BYTES: String(4 * 1024 * 1024) });
  org = await ctx.createOrganization('Imports A');
  other = await ctx.createOrganization('Imports B');
  call = api(ctx, org.key);
  imports = importer(ctx);
});
afterAll(() => ctx.close());

const subscriber = async (email: string, key = org.key) => {
  const response = await api(ctx, key)('GET', `/api/v1/subscribers/by-email?email=${encodeURIComponent(email)}`);
  return response.statusCode === 200 ? response.json() : null;
};
const errorsCsv = async (id: string) => (await call('GET', `/api/v1/subscribers/imports/${id}/errors.csv`)).body;

describe('CSV formats', () => {
  it('reads a semicolon-separated Latin-1 file with CRLF line ends and recognises the header names', async () => {
    const csv = Buffer.from('E-Mail;Vorname;Nachname\r\nrené@latin.example;René;Müller\r\nzoe@latin.example;Zoë;Ørsted\r\n', 'latin1');
    const report = await imports.importCsv(org.key, csv);
    expect(report).toMatchObject({ status: 'completed', total: 2, created: 2, failed: 0, detected: { delimiter: ';', encoding: 'latin1', bom: false } });
    expect(report.detected.mapping).toEqual({ 'E-Mail': 'email', Vorname: 'first_name', Nachname: 'last_name' });
    expect(await subscriber('rené@latin.example')).toMatchObject({ first_name: 'René', last_name: 'Müller' });
    expect(await subscriber('zoe@latin.example')).toMatchObject({ first_name: 'Zoë', last_name: 'Ørsted', status: 'active', source: 'import' });
  });

  it('reads UTF-8 with a BOM, tabs, quoted fields with newlines and delimiters, and typed metadata', async () => {
    const csv =
      '\uFEFFEmail Address\tFirst Name\tNotes\tSeats\tVIP\r\n' +
      '"ann@utf.example"\t"Ann ""Annie"""\t"line one\nline two\twith tab"\t12\tyes\r\n' +
      'bob@utf.example\tBob\t\t3\tno\r\n';
    const report = await imports.importCsv(org.key, csv, {
      mapping: { Notes: 'metadata.notes', Seats: 'metadata.seats', VIP: 'metadata.vip' },
      metadata_types: { seats: 'number', vip: 'boolean' },
    });
    expect(report).toMatchObject({ status: 'completed', total: 2, created: 2, detected: { delimiter: '\t', encoding: 'utf-8', bom: true } });
    expect(await subscriber('ann@utf.example')).toMatchObject({
      first_name: 'Ann "Annie"',
      metadata: { notes: 'line one\nline two\twith tab', seats: 12, vip: true },
    });
    expect((await subscriber('bob@utf.example')).metadata).toEqual({ seats: 3, vip: false });
  });

  it('reports every invalid row with its row number, column and reason, and imports the rest', async () => {
    const csv = [
      'email,first_name,score',
      'good1@bad.example,Good,1', // row 2
      'not-an-email,Bad,1', // 3: invalid_email
      'good2@bad.example,Good', // 4: wrong_column_count
      ',Empty,1', // 5: missing_email
      'ctrl@bad.example,Bell\u0007,1', // 6: control_characters
      'GOOD1@bad.example,Again,1', // 7: duplicate_in_file
      'score@bad.example,Score,many', // 8: not_a_number
      '"quoted@bad.example","Multi',
      'line",2', // 9: a quoted newline is not a control character in… a name? it is: control_characters
      'good3@bad.example,Good,3', // 11
    ].join('\n');
    const report = await imports.importCsv(org.key, `${csv}\n`, { mapping: { score: 'metadata.score' }, metadata_types: { score: 'number' } });
    expect(report).toMatchObject({ status: 'completed', total: 9, created: 2, failed: 6, skipped: { duplicate_in_file: 1 } });
    expect(await errorsCsv(report.id)).toBe(
      [
        'row,column,reason',
        '3,email,invalid_email',
        '4,*,wrong_column_count',
        '5,email,missing_email',
        '6,first_name,control_characters',
        '7,email,duplicate_in_file',
        '8,score,not_a_number',
        '9,first_name,control_characters',
        '',
      ].join('\n'),
    );
    expect(await subscriber('good3@bad.example')).not.toBeNull();
  });

  it('reports a record that is not valid CSV as malformed_row, once, and imports the rows before it', async () => {
    // Row 3 closes a quote in the middle of a field: the parser stays inside quotes to the end of the
    // file, so row 4 is part of that record. It is one malformed row, counted and reported once.
    const csv = 'email,first_name\nbefore@malformed.example,Before\nbroken@malformed.example,"Bro"ken\nafter@malformed.example,After\n';
    const report = await imports.importCsv(org.key, csv);
    expect(report).toMatchObject({ status: 'completed', total: 2, created: 1, failed: 1 });
    expect(await errorsCsv(report.id)).toBe('row,column,reason\n3,*,malformed_row\n');
    expect(await subscriber('before@malformed.example')).not.toBeNull();
    expect(await subscriber('broken@malformed.example')).toBeNull();

    // A quote left open on the last row: the rows before it are imported.
    const open = await imports.importCsv(org.key, 'email,first_name\nfirst@malformed.example,First\nsecond@malformed.example,"Second\n');
    expect(open).toMatchObject({ status: 'completed', total: 2, created: 1, failed: 1 });
    expect(await errorsCsv(open.id)).toBe('row,column,reason\n3,*,malformed_row\n');
  });

  it('refuses a file without an email column at upload, with the reason', async () => {
    const response = await imports.upload(org.key, 'name,phone\nAnn,123\n');
    expect(response.statusCode).toBe(422);
    expect(response.json().error.code).toBe('invalid_mapping');
  });

  it('refuses a file over the size limit with 413 and keeps nothing', async () => {
    const response = await imports.upload(org.key, generatedCsv(120_000));
    expect(response.statusCode).toBe(413);
    expect((await call('GET', '/api/v1/subscribers/imports?limit=100')).json().items.some((i: { file_bytes: number }) => i.file_bytes > 4 * 1024 * 1024)).toBe(
      false,
    );
  });
});

describe('dry run and real run', () => {
  it('a dry run writes nothing, and the real run started from it does exactly what it reported', async () => {
    await call('POST', '/api/v1/subscribers', { email: 'exists@dry.example', first_name: 'Old' });
    await call('POST', '/api/v1/subscribers', { email: 'same@dry.example', first_name: 'Same' });
    await call('POST', '/api/v1/suppressions', { email: 'blocked@dry.example' });
    const csv =
      'email,first_name\nnew1@dry.example,New\nexists@dry.example,Changed\nsame@dry.example,Same\nblocked@dry.example,X\nnew1@dry.example,Dup\nbad,Bad\n';
    const dry = await imports.importCsv(org.key, csv, { dry_run: true, update_existing: true, tags: ['Dry Tag'] });
    expect(dry).toMatchObject({
      status: 'completed',
      dry_run: true,
      total: 6,
      created: 1,
      updated: 2,
      unchanged: 0,
      failed: 1,
      skipped: { duplicate_in_file: 1, suppressed: 1 },
    });
    expect(dry.preview.map((p: { row: number; action: string }) => [p.row, p.action])).toEqual([
      [2, 'create'],
      [3, 'update'],
      [4, 'update'],
      [5, 'skip_suppressed'],
      [6, 'duplicate_in_file'],
      [7, 'invalid_email'],
    ]);
    expect(await subscriber('new1@dry.example')).toBeNull();
    expect((await call('GET', '/api/v1/tags')).json().items.some((t: { name: string }) => t.name === 'Dry Tag')).toBe(false);

    const started = await call('POST', `/api/v1/subscribers/imports/${dry.id}/start`);
    expect(started.statusCode).toBe(202);
    await imports.run(dry.id, false);
    const real = (await call('GET', `/api/v1/subscribers/imports/${dry.id}`)).json();
    for (const field of ['total', 'created', 'updated', 'unchanged', 'failed', 'skipped'] as const) expect(real[field]).toEqual(dry[field]);
    expect(real).toMatchObject({ status: 'completed', dry_run: false });
    expect(await subscriber('exists@dry.example')).toMatchObject({ first_name: 'Changed', tags: [expect.objectContaining({ name: 'Dry Tag' })] });
    expect(await subscriber('blocked@dry.example')).toBeNull();
    const event = await ctx.container.db.selectFrom('events').select(['type', 'payload']).where('subject_id', '=', dry.id).executeTakeFirstOrThrow();
    expect(event.type).toBe('import.completed');
    expect(isValidEventPayload(event.type, event.payload)).toBe(true);
  });
});

describe('consent rules', () => {
  it('never reactivates an unsubscribed subscriber, never resubscribes a topic someone left, and creates tags private', async () => {
    const { id } = (await call('POST', '/api/v1/subscribers', { email: 'gone@rules.example', tags: ['Weekly'] })).json();
    await call('PATCH', `/api/v1/subscribers/${id}`, { status: 'unsubscribed' });
    await call('DELETE', `/api/v1/subscribers/${id}/tags/weekly`);
    const report = await imports.importCsv(org.key, 'email,first_name,tags\ngone@rules.example,Back,Weekly;Imported Topic\n', { update_existing: true });
    expect(report).toMatchObject({ status: 'completed', updated: 1 });
    const after = await subscriber('gone@rules.example');
    expect(after).toMatchObject({ status: 'unsubscribed', first_name: 'Back' });
    expect(after.tags.map((t: { slug: string }) => t.slug)).toEqual(['imported-topic']);
    const tag = await ctx.container.db
      .selectFrom('tags')
      .select('is_public')
      .where('organization_id', '=', org.id)
      .where('slug', '=', 'imported-topic')
      .executeTakeFirstOrThrow();
    expect(tag.is_public).toBe(false);
  });

  it('skips existing subscribers unless update_existing is set, and records history with source import', async () => {
    const report = await imports.importCsv(org.key, 'email,first_name\ngone@rules.example,Other\nfresh@rules.example,Fresh\n');
    expect(report).toMatchObject({ created: 1, updated: 0, skipped: { exists: 1 } });
    expect((await subscriber('gone@rules.example')).first_name).toBe('Back');
    const fresh = await subscriber('fresh@rules.example');
    const history = (await call('GET', `/api/v1/subscribers/${fresh.id}/events`)).json().items;
    expect(history.map((h: { action: string; source: string }) => [h.action, h.source])).toEqual([['created', 'import']]);
  });

  it('refuses to import beyond the subscriber limit, naming both numbers, and applies nothing', async () => {
    const limited = await ctx.createOrganization('Imports limited');
    await ctx.container.db.updateTable('organizations').set({ max_subscribers: 3 }).where('id', '=', limited.id).execute();
    const report = await imports.importCsv(limited.key, generatedCsv(5, 0, 'limit.example'));
    expect(report.status).toBe('failed');
    expect(report.error).toMatchObject({ code: 'plan_limit_exceeded' });
    expect(report.error.message).toContain('allows 3 subscribers');
    expect(report.error.message).toContain('5 more');
    expect((await api(ctx, limited.key)('GET', '/api/v1/subscribers')).json().items).toEqual([]);
  });
});

describe('access', () => {
  it('keeps imports and exports inside their organization and checks scopes', async () => {
    const report = await imports.importCsv(org.key, 'email\nmine@tenant.example\n');
    const otherCall = api(ctx, other.key);
    expect((await otherCall('GET', `/api/v1/subscribers/imports/${report.id}`)).statusCode).toBe(404);
    expect((await otherCall('GET', `/api/v1/subscribers/imports/${report.id}/errors.csv`)).statusCode).toBe(404);
    expect((await otherCall('DELETE', `/api/v1/subscribers/imports/${report.id}`)).statusCode).toBe(404);
    expect((await otherCall('GET', '/api/v1/subscribers/export')).body).not.toContain('mine@tenant.example');
    const reader = await ctx.createKey(org.id, ['subscribers:read', 'imports:read']);
    expect((await imports.upload(reader.key, 'email\nx@tenant.example\n')).json().error.code).toBe('insufficient_scope');
    expect((await api(ctx, reader.key)('GET', `/api/v1/subscribers/imports/${report.id}`)).statusCode).toBe(200);
    const writer = await ctx.createKey(org.id, ['imports:write']);
    expect((await api(ctx, writer.key)('GET', '/api/v1/subscribers/export')).json().error.code).toBe('insufficient_scope');
    const list = (await call('GET', '/api/v1/subscribers/imports')).json();
    expect(list.items[0]).toMatchObject({ id: report.id, created_by: { type: 'api_key' } });
  });
});

describe('export', () => {
  it('streams CSV and NDJSON with the list filters, tags and chosen metadata columns', async () => {
    const exporter = await ctx.createOrganization('Exporter');
    const exportCall = api(ctx, exporter.key);
    await imports.importCsv(exporter.key, 'email,first_name,tags,plan\na@exp.example,"Ann, A.",News;Deals,pro\nb@exp.example,Bob,News,free\n', {
      mapping: { plan: 'metadata.plan' },
    });
    await exportCall('PATCH', `/api/v1/subscribers/${(await subscriber('b@exp.example', exporter.key)).id}`, { status: 'unsubscribed' });
    const csv = await exportCall('GET', '/api/v1/subscribers/export?metadata=plan');
    expect(csv.headers['content-type']).toContain('text/csv');
    const lines = csv.body.trim().split('\n');
    expect(lines[0]).toBe('id,email,first_name,last_name,status,source,tags,metadata.plan,created_at,updated_at');
    expect(lines).toHaveLength(3);
    expect(lines.find((l) => l.includes('a@exp.example'))).toContain(',a@exp.example,"Ann, A.",,active,import,deals;news,pro,');
    expect(lines[1]).toMatch(/,\d{4}-\d\d-\d\dT\d\d:\d\d:[\d.]+\+00:00$/);
    const active = (await exportCall('GET', '/api/v1/subscribers/export?status=active&format=ndjson')).body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(active).toHaveLength(1);
    expect(active[0]).toMatchObject({ email: 'a@exp.example', first_name: 'Ann, A.', tags: ['deals', 'news'], metadata: { plan: 'pro' } });
    const tagged = (await exportCall('GET', '/api/v1/subscribers/export?tag=deals')).body.trim().split('\n');
    expect(tagged).toHaveLength(2);
  });

  it('exports exactly the rows the list shows for each of its filters, inside the organization', async () => {
    const exporter = await ctx.createOrganization('Filter exporter');
    const exportCall = api(ctx, exporter.key);
    await imports.importCsv(
      exporter.key,
      'email,first_name,last_name,tags\n' +
        'ada@filters.example,Ada,Lovelace,News;Deals\n' +
        'alan@filters.example,Alan,Turing,News\n' +
        'grace@filters.example,Grace,Hopper,Deals\n' +
        'edsger@other.example,Edsger,Dijkstra,\n' +
        'barbara@filters.example,Barbara,Liskov,Events\n' +
        'under_score@filters.example,Ken,Thompson,News;Events\n',
    );
    const middle = new Date().toISOString();
    for (const email of ['late1@filters.example', 'late2@other.example']) {
      expect((await exportCall('POST', '/api/v1/subscribers', { email, first_name: 'Late', tags: ['news'] })).statusCode).toBe(201);
    }
    const idOf = async (email: string) => (await subscriber(email, exporter.key)).id as string;
    expect((await exportCall('PATCH', `/api/v1/subscribers/${await idOf('alan@filters.example')}`, { status: 'unsubscribed' })).statusCode).toBe(200);
    // Bounces come from the email provider; set directly here.
    await sql`update subscribers set status = 'bounced' where id = ${await idOf('grace@filters.example')}::uuid`.execute(ctx.container.db);
    // Another organization with the same tags, names and addresses is never part of the export.
    const neighbour = await ctx.createOrganization('Filter neighbour');
    await imports.importCsv(neighbour.key, 'email,first_name,tags\nada@filters.example,Ada,News;Deals\nzed@filters.example,Ada,News\n');

    const listIds = async (query: string) => {
      const ids: string[] = [];
      let cursor: string | null = null;
      do {
        const response = await exportCall('GET', `/api/v1/subscribers?limit=2&${query}${cursor ? `&cursor=${cursor}` : ''}`);
        expect(response.statusCode).toBe(200);
        const page = response.json() as { items: { id: string }[]; next_cursor: string | null };
        ids.push(...page.items.map((i) => i.id));
        cursor = page.next_cursor;
      } while (cursor);
      return ids.sort();
    };
    const exportIds = async (query: string) => {
      const response = await exportCall('GET', `/api/v1/subscribers/export?${query}`);
      expect(response.statusCode).toBe(200);
      const [header, ...rows] = response.body.trim().split('\n');
      expect(header).toMatch(/^id,email,/);
      return rows.map((r) => r.split(',')[0]!).sort();
    };
    const queries = [
      '',
      'status=active,bounced',
      'tags_any=news,deals&status=active',
      'tags_all=news,deals',
      'tags_none=news',
      'tag=Deals&tags_none=events',
      'source=api',
      `created_after=${encodeURIComponent(middle)}`,
      `created_before=${encodeURIComponent(middle)}&tags_any=events`,
      'q=lovelace',
      'q=other.example',
      'q=under_',
      'q=al&status=active,unsubscribed',
      'tags_all=news,no-such-tag',
    ];
    const expected = [8, 7, 4, 1, 3, 2, 2, 2, 2, 1, 2, 1, 1, 0];
    for (const [i, query] of queries.entries()) {
      const listed = await listIds(query);
      expect({ query, rows: await exportIds(query) }).toEqual({ query, rows: listed });
      expect({ query, count: listed.length }).toEqual({ query, count: expected[i] });
    }
    // NDJSON takes the same filters.
    const ndjson = (await exportCall('GET', '/api/v1/subscribers/export?format=ndjson&tags_all=news,deals')).body.trim().split('\n');
    expect(ndjson.map((l) => JSON.parse(l).email)).toEqual(['ada@filters.example']);
    // The filters are checked as the list checks them.
    expect((await exportCall('GET', '/api/v1/subscribers/export?status=active,gone')).statusCode).toBe(422);
    expect((await exportCall('GET', `/api/v1/subscribers/export?q=${'x'.repeat(101)}`)).statusCode).toBe(422);
  });

  it("exports the members of a saved segment, combined with the other filters, and only the organization's segments", async () => {
    const exporter = await ctx.createOrganization('Segment exporter');
    const exportCall = api(ctx, exporter.key);
    await imports.importCsv(exporter.key, 'email,tags,plan\npro1@seg.example,News,pro\npro2@seg.example,,pro\nfree@seg.example,News,free\n', {
      mapping: { plan: 'metadata.plan' },
    });
    const segment = (
      await exportCall('POST', '/api/v1/segments', { name: 'Pro', filter: { match: 'all', conditions: [{ field: 'metadata.plan', op: 'eq', value: 'pro' }] } })
    ).json();
    const emails = (body: string) =>
      body
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(',')[1])
        .sort();
    const members = await exportCall('GET', `/api/v1/subscribers/export?segment_id=${segment.id}`);
    expect(members.statusCode).toBe(200);
    expect(emails(members.body)).toEqual(['pro1@seg.example', 'pro2@seg.example']);
    expect(emails((await exportCall('GET', `/api/v1/subscribers/export?segment_id=${segment.id}&tag=news`)).body)).toEqual(['pro1@seg.example']);
    const ndjson = (await exportCall('GET', `/api/v1/subscribers/export?segment_id=${segment.id}&format=ndjson`)).body.trim().split('\n');
    expect(ndjson.map((l) => JSON.parse(l).email).sort()).toEqual(['pro1@seg.example', 'pro2@seg.example']);
    // The connection that listed the members goes back to the pool clean: the next export works as well.
    expect(emails((await exportCall('GET', `/api/v1/subscribers/export?segment_id=${segment.id}`)).body)).toHaveLength(2);

    const foreign = await api(ctx, org.key)('GET', `/api/v1/subscribers/export?segment_id=${segment.id}`);
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().error.code).toBe('segment_not_found');
    expect((await exportCall('GET', '/api/v1/subscribers/export?segment_id=not-a-uuid')).statusCode).toBe(422);
  });
});

describe('CLI', () => {
  it('imports a file with a progress bar and the report as JSON, and exports the organization to stdout', async () => {
    const cliOrg = await ctx.createOrganization('Imports CLI');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'sf-cli-import-'));
    const file = path.join(dir, 'list.csv');
    await writeFile(file, 'email,first_name\none@cli.example,One\ntwo@cli.example,Two\nnot-an-address,Three\n');
    const serverDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
    const cli = (args: string[]) =>
      promisify(execFile)(process.execPath, ['src/cli.ts', ...args], {
        cwd: serverDir,
        env: {
          ...process.env,
          DATABASE_URL: ctx.databaseUrl,
          REDIS_URL: ctx.config.REDIS_URL,
          REDIS_PREFIX: ctx.config.REDIS_PREFIX,
          TOKEN_SECRET: TEST_TOKEN_SECRET,
          LOG_LEVEL: 'silent',
          IMPORT_DIR: dir,
        },
      });
    try {
      const imported = await cli(['import', file, '--org', cliOrg.slug, '--tag', 'From CLI']);
      expect(JSON.parse(imported.stdout)).toMatchObject({ status: 'completed', total: 3, created: 2, failed: 1, tags: ['From CLI'], created_by: null });
      expect(imported.stderr).toContain('100%');
      const exported = await cli(['export', '--org', cliOrg.slug, '--tag', 'from-cli']);
      const lines = exported.stdout.trim().split('\n');
      expect(lines).toHaveLength(3);
      expect(
        lines
          .slice(1)
          .map((l) => l.split(',')[1])
          .sort(),
      ).toEqual(['one@cli.example', 'two@cli.example']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
