import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestContext, type TestContext } from '../support/context.ts';
import { waitFor } from '../email/helpers.ts';
import { generatedCsv, importer } from './helpers.ts';

let ctx: TestContext;
let imports: ReturnType<typeof importer>;

beforeAll(async () => {
  ctx = await createTestContext();
  imports = importer(ctx);
});
afterAll(() => ctx.close());

const countIn = async (organizationId: string, table: 'subscribers' | 'subscription_history' | 'subscriber_tags') =>
  Number(
    (
      await ctx.container.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll().as('n'))
        .where('organization_id', '=', organizationId)
        .executeTakeFirstOrThrow()
    ).n,
  );

/** Ends the connection running a statement that matches `pattern`, as a killed worker's connection ends. */
async function killStatement(pattern: string): Promise<boolean> {
  const result = await sql<{ killed: boolean }>`select pg_terminate_backend(pid) as killed from pg_stat_activity
    where datname = current_database() and pid <> pg_backend_pid() and state = 'active' and query ilike ${pattern}`.execute(ctx.container.db);
  return result.rows.some((r) => r.killed);
}

async function upload(key: string, csv: string, options: Record<string, unknown> = {}): Promise<string> {
  const response = await imports.upload(key, csv, options);
  expect(response.statusCode).toBe(202);
  return response.json().id;
}

describe('imports at scale', { timeout: 90_000 }, () => {
  // 100k rows take about as long as the rest of this file on a busy 2-core machine; bench/import.ts
  // measures 100k and 1M. Here 20k rows prove the set-based path end to end.
  it('imports 20,000 rows set-based, with one history row and one tag link per row', async () => {
    const org = await ctx.createOrganization('Scale');
    const report = await imports.importCsv(org.key, generatedCsv(20_000), { mapping: { plan: 'metadata.plan' } });
    expect(report).toMatchObject({ status: 'completed', total: 20_000, created: 20_000, failed: 0 });
    expect(await countIn(org.id, 'subscribers')).toBe(20_000);
    expect(await countIn(org.id, 'subscriber_tags')).toBe(20_000);
    // One "created" and one "tag_subscribed" entry per subscriber.
    expect(await countIn(org.id, 'subscription_history')).toBe(40_000);
  });

  it('a worker killed in the middle of the merge leaves nothing applied, and the retry imports every row once', async () => {
    const org = await ctx.createOrganization('Killed in merge');
    const id = await upload(org.key, generatedCsv(20_000, 0, 'merge.example'), { tags: ['Imported'] });
    const first = imports.run(id, false).then(
      () => 'finished',
      (error: Error) => error.message,
    );
    await waitFor(() => killStatement('insert into subscri%'), 20_000, 5);
    expect(await first).toMatch(/terminat|connection/i);
    expect(await countIn(org.id, 'subscribers')).toBe(0);
    expect((await api(ctx, org.key)('GET', `/api/v1/subscribers/imports/${id}`)).json()).toMatchObject({ status: 'running', phase: 'merging' });

    await imports.run(id, false); // BullMQ hands the stalled job to another worker
    expect((await api(ctx, org.key)('GET', `/api/v1/subscribers/imports/${id}`)).json()).toMatchObject({ status: 'completed', created: 20_000, total: 20_000 });
    expect(await countIn(org.id, 'subscribers')).toBe(20_000);
    expect(await countIn(org.id, 'subscription_history')).toBe(60_000);
    // A job delivered once more after completion changes nothing.
    expect(await imports.run(id, false)).toEqual({ skipped: true });
    expect(await countIn(org.id, 'subscribers')).toBe(20_000);
  });

  it('a worker killed while copying the file restarts from the file without duplicates', async () => {
    const org = await ctx.createOrganization('Killed in copy');
    const id = await upload(org.key, generatedCsv(20_000, 0, 'copy.example'));
    const first = imports.run(id, false).then(
      () => 'finished',
      (error: Error) => error.message,
    );
    await waitFor(() => killStatement('copy import_stage%'), 20_000, 2);
    expect(await first).not.toBe('finished');
    await imports.run(id, false);
    expect((await api(ctx, org.key)('GET', `/api/v1/subscribers/imports/${id}`)).json()).toMatchObject({ status: 'completed', created: 20_000, total: 20_000 });
    expect(await countIn(org.id, 'subscribers')).toBe(20_000);
  });

  it('cancels a running import within a second, applying nothing', async () => {
    const org = await ctx.createOrganization('Cancelled');
    const call = api(ctx, org.key);
    const id = await upload(org.key, generatedCsv(40_000, 0, 'cancel.example'));
    const run = imports.run(id, false);
    await waitFor(async () => (await call('GET', `/api/v1/subscribers/imports/${id}`)).json().processed > 0, 20_000, 5);
    const cancel = await call('DELETE', `/api/v1/subscribers/imports/${id}`);
    const cancelledAt = Date.now();
    expect(cancel.json()).toMatchObject({ status: 'cancelled' });
    expect(await run).toEqual({ cancelled: true });
    expect(Date.now() - cancelledAt).toBeLessThan(1000);
    expect(await countIn(org.id, 'subscribers')).toBe(0);
    expect((await call('DELETE', `/api/v1/subscribers/imports/${id}`)).statusCode).toBe(409);
  });

  it('shows progress while it runs: rows processed, bytes, phase, rate', async () => {
    const org = await ctx.createOrganization('Progress');
    const call = api(ctx, org.key);
    // Large enough for the staging to outlast a few progress ticks (250 ms) on an idle machine.
    const id = await upload(org.key, generatedCsv(150_000, 0, 'progress.example'));
    const run = imports.run(id, false);
    const seen = await waitFor(
      async () => {
        const report = (await call('GET', `/api/v1/subscribers/imports/${id}`)).json();
        return report.status === 'running' && report.processed > 0 ? report : null;
      },
      20_000,
      5,
    );
    expect(seen.phase).toBe('staging');
    expect(seen.bytes_processed).toBeGreaterThan(0);
    expect(seen.rows_per_second).toBeGreaterThan(0);
    expect(seen.eta_seconds).not.toBeNull();
    await run;
    expect((await call('GET', `/api/v1/subscribers/imports/${id}`)).json()).toMatchObject({ status: 'completed', processed: 150_000, eta_seconds: 0 });
  });
});
