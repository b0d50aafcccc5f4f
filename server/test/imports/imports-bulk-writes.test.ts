import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidv7BulkPrefix } from '../../src/lib/ids.ts';
import { api, createTestContext, type TestContext } from '../support/context.ts';
import { generatedCsv, importer } from './helpers.ts';

let ctx: TestContext;
let imports: ReturnType<typeof importer>;

beforeAll(async () => {
  ctx = await createTestContext();
  imports = importer(ctx);
});
afterAll(() => ctx.close());

// The merge writes these tables with row triggers switched off (session_replication_role = replica),
// having checked and locked what their foreign keys point at for the whole set. That mode would skip
// any other trigger too: one added to these tables must fire ALWAYS (as the audience counters' do,
// test/segments/audience-counters.test.ts runs them under replica mode) or be run by the import itself.
const BULK_TABLES = ['subscribers', 'subscriber_tags', 'subscription_history'];

describe('the bulk writes of an import', () => {
  it('touch tables that have no triggers besides their foreign-key checks and ones that fire always', async () => {
    const triggers = await sql<{ table: string; name: string }>`select c.relname as table, t.tgname as name
      from pg_trigger t join pg_class c on c.oid = t.tgrelid
      where c.relname = any(${BULK_TABLES}::text[]) and not t.tgisinternal and t.tgenabled <> 'A'`.execute(ctx.container.db);
    expect(triggers.rows).toEqual([]);
  });

  it('leave every foreign key satisfied and give time-ordered UUIDv7 ids in the order of the rows', async () => {
    const org = await ctx.createOrganization('Bulk writes');
    const before = uuidv7BulkPrefix(Date.now() - 1000);
    const report = await imports.importCsv(org.key, generatedCsv(500, 0, 'bulk.example'), { tags: ['Everyone'] });
    expect(report).toMatchObject({ status: 'completed', created: 500 });
    const orphans = await sql<{ links: number; history: number }>`select
      (select count(*) from subscriber_tags st where st.organization_id = ${org.id}
        and not exists (select 1 from subscribers s where s.id = st.subscriber_id and s.organization_id = st.organization_id)
        or st.organization_id = ${org.id} and not exists (select 1 from tags t where t.id = st.tag_id and t.organization_id = st.organization_id))::int as links,
      (select count(*) from subscription_history h where h.organization_id = ${org.id}
        and not exists (select 1 from subscribers s where s.id = h.subscriber_id and s.organization_id = h.organization_id))::int as history`.execute(
      ctx.container.db,
    );
    expect(orphans.rows[0]).toEqual({ links: 0, history: 0 });

    const ids = await sql<{
      id: string;
      email: string;
    }>`select id, email from subscribers where organization_id = ${org.id} order by lower(email) collate "C"`.execute(ctx.container.db);
    const uuidV7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    expect(ids.rows.every((r) => uuidV7.test(r.id))).toBe(true);
    // Made in address order, ids increase with the address, and they sort after ids made before the import.
    expect(ids.rows.map((r) => r.id)).toEqual(ids.rows.map((r) => r.id).sort());
    expect(ids.rows[0]!.id.replaceAll('-', '') > before).toBe(true);
    const history = await sql<{
      action: string;
    }>`select action from subscription_history where organization_id = ${org.id} and subscriber_id = ${ids.rows[0]!.id} order by id`.execute(ctx.container.db);
    expect(history.rows.map((h) => h.action)).toEqual(['created', 'tag_subscribed', 'tag_subscribed']);
  });

  it("leave nothing in the trigram indexes' pending lists, which a later insert or search would otherwise pay for", async () => {
    const org = await ctx.createOrganization('Bulk pending');
    // Empty the lists first (earlier tests and other organizations leave entries there).
    const clean = () =>
      sql<{ name: string; pages: number }>`select c.relname as name, gin_clean_pending_list(i.indexrelid)::int as pages
        from pg_index i join pg_class c on c.oid = i.indexrelid join pg_am am on am.oid = c.relam
        where i.indrelid = 'subscribers'::regclass and am.amname = 'gin' order by 1`.execute(ctx.container.db);
    expect((await clean()).rows.map((r) => r.name)).toEqual(['subscribers_email_trgm_idx', 'subscribers_name_trgm_idx']);
    const report = await imports.importCsv(org.key, generatedCsv(300, 0, 'pending.example'));
    expect(report).toMatchObject({ status: 'completed', created: 300 });
    expect((await clean()).rows.map((r) => r.pages)).toEqual([0, 0]);
    // The entries are in the index: a search finds the new subscribers.
    const found = (await api(ctx, org.key)('GET', '/api/v1/subscribers?q=pending.example&include_total=true')).json();
    expect(found.total).toBe(300);
  });

  it('fail without applying anything when a subscriber they update is deleted under them, and the retry plans again', async () => {
    const org = await ctx.createOrganization('Bulk deleted');
    const call = api(ctx, org.key);
    const { id: goneId } = (await call('POST', '/api/v1/subscribers', { email: 'gone@bulk.example' })).json();
    const uploaded = (await imports.upload(org.key, 'email,first_name\ngone@bulk.example,Gone\nnew@bulk.example,New\n', { update_existing: true })).json();
    // The subscriber is deleted between the plan and the writes (here: when the writes start locking).
    const session = ctx.container.pool;
    const original = session.connect.bind(session);
    let deleted = false;
    const spy = async () => {
      const client = await original();
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
        const text = typeof args[0] === 'string' ? args[0] : '';
        if (!deleted && text.includes('for key share')) {
          deleted = true;
          return ctx.container.db
            .deleteFrom('subscribers')
            .where('id', '=', goneId)
            .execute()
            .then(() => query(...args));
        }
        return query(...args);
      };
      return client;
    };
    (session as unknown as { connect: typeof spy }).connect = spy;
    try {
      await expect(imports.run(uploaded.id, false)).rejects.toThrow(/deleted while it ran/);
    } finally {
      (session as unknown as { connect: typeof original }).connect = original;
    }
    expect((await call('GET', '/api/v1/subscribers')).json().items).toEqual([]);
    await imports.run(uploaded.id, false);
    expect((await call('GET', `/api/v1/subscribers/imports/${uploaded.id}`)).json()).toMatchObject({ status: 'completed', created: 2 });
  });
});
