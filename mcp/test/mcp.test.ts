import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { SubscribeFlowClient } from '../../sdk/src/index.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../../server/test/support/context.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const bin = path.resolve(here, '../src/bin.ts');
const guide = readFileSync(path.resolve(here, '../../docs-site/src/content/docs/guides/mcp.md'), 'utf8');

let ctx: TestContext;
let baseUrl: string;
let organization: { id: string; key: string };
// One process with the organization's full key serves most tests; the read-only test starts its own.
let full: Client;
const clients: Client[] = [];

/** An MCP client connected to a fresh `subscribe-flow-mcp` process configured with `apiKey`. */
async function connect(apiKey: string): Promise<Client> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    // "source" resolves @subscribe-flow/sdk to its TypeScript sources, so no build is needed to test.
    args: ['--conditions=source', bin],
    env: { PATH: process.env.PATH ?? '', SUBSCRIBE_FLOW_API_KEY: apiKey, SUBSCRIBE_FLOW_URL: baseUrl },
    stderr: 'pipe',
  });
  const client = new Client({ name: 'test', version: '1.0.0' });
  await client.connect(transport);
  clients.push(client);
  return client;
}

const text = (result: unknown) => ((result as CallToolResult).content[0] as { text: string }).text;

beforeAll(async () => {
  ctx = await createTestContext();
  await ctx.app.listen({ port: 0, host: '127.0.0.1' });
  baseUrl = `http://127.0.0.1:${(ctx.app.server.address() as AddressInfo).port}`;
  organization = await ctx.createOrganization('MCP test');
  full = await connect(organization.key);
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await ctx?.close();
});

describe('the MCP server over stdio', () => {
  it('lists its bounded set of tools, each with an input schema, as the MCP guide documents them', async () => {
    const client = full;
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name).sort();
    expect(names).toEqual([
      'count_campaign_recipients',
      'count_segment',
      'create_campaign_draft',
      'create_subscriber',
      'find_subscribers',
      'get_campaign',
      'get_campaign_stats',
      'get_stats',
      'get_subscriber',
      'list_campaigns',
      'list_segments',
      'list_tags',
      'list_templates',
      'send_campaign',
      'send_email',
      'tag_subscriber',
      'untag_subscriber',
    ]);
    const documented = [...guide.matchAll(/^\| `(\w+)`(?: \/ `(\w+)`)? \|/gm)].flatMap((m) => m.slice(1).filter(Boolean)).sort();
    expect(documented).toEqual(names);
    const find = tools.find((t) => t.name === 'find_subscribers')!;
    expect(find.inputSchema.properties).toHaveProperty('limit');
    expect(find.annotations?.readOnlyHint).toBe(true);
  });

  it('creates, tags and finds a subscriber with a full key, and reads stats', async () => {
    const client = full;
    const created = await client.callTool({ name: 'create_subscriber', arguments: { email: 'mcp@example.com', tags: ['news'] } });
    expect(created.isError).toBeFalsy();
    const subscriber = JSON.parse(text(created)) as { id: string; email: string };
    expect(subscriber.email).toBe('mcp@example.com');

    const tagged = await client.callTool({ name: 'tag_subscriber', arguments: { subscriber_id: subscriber.id, tags: ['digest'] } });
    expect(text(tagged)).toContain('digest');

    const found = await client.callTool({ name: 'find_subscribers', arguments: { email_prefix: 'mcp@' } });
    expect(JSON.parse(text(found)).items).toHaveLength(1);
    const byEmail = await client.callTool({ name: 'get_subscriber', arguments: { email: 'mcp@example.com' } });
    expect(JSON.parse(text(byEmail)).id).toBe(subscriber.id);

    const tags = await client.callTool({ name: 'list_tags', arguments: {} });
    expect(
      JSON.parse(text(tags))
        .items.map((t: { slug: string }) => t.slug)
        .sort(),
    ).toEqual(['digest', 'news']);
    const stats = await client.callTool({ name: 'get_stats', arguments: {} });
    expect(stats.isError).toBeFalsy();
  });

  it('sends a template email and answers the queued email', async () => {
    const mjml = '<mjml><mj-body><mj-section><mj-column><mj-text>Hi {{ name }}</mj-text></mj-column></mj-section></mj-body></mjml>';
    const created = await ctx.app.inject({
      method: 'POST',
      url: '/api/v1/templates',
      headers: { authorization: `Bearer ${organization.key}` },
      payload: { name: 'Hello', slug: 'hello', subject: 'Hello', mjml_content: mjml },
    });
    expect(created.statusCode).toBe(201);
    const sent = await full.callTool({
      name: 'send_email',
      arguments: { template_slug: 'hello', to: 'reader@example.com', variables: { name: 'Ada' }, idempotency_key: 'mcp-1' },
    });
    expect(sent.isError).toBeFalsy();
    const email = JSON.parse(text(sent)) as { id: string; status: string };
    const again = await full.callTool({
      name: 'send_email',
      arguments: { template_slug: 'hello', to: 'reader@example.com', variables: { name: 'Ada' }, idempotency_key: 'mcp-1' },
    });
    // The same idempotency key never sends twice: the first email is answered again.
    expect(JSON.parse(text(again)).id).toBe(email.id);
  });

  it('lets a read-only key read, and answers its write tools with the API refusal', async () => {
    const readOnly = await ctx.createKey(organization.id, ['subscribers:read', 'tags:read']);
    const client = await connect(readOnly.key);

    const found = await client.callTool({ name: 'find_subscribers', arguments: { limit: 5 } });
    expect(found.isError).toBeFalsy();

    const refused = await client.callTool({ name: 'create_subscriber', arguments: { email: 'sneaky@example.com' } });
    expect(refused.isError).toBe(true);
    expect(text(refused)).toMatch(/^insufficient_scope: .*\(request id \S+\)$/);
    // Nothing was written.
    const lookup = await full.callTool({ name: 'get_subscriber', arguments: { email: 'sneaky@example.com' } });
    expect(text(lookup)).toMatch(/^subscriber_not_found/);
  });

  it('drafts a campaign, counts its audience, sends it only with a confirmation of that count, and reads its stats', async () => {
    const sf = new SubscribeFlowClient({ apiKey: organization.key, baseUrl });
    await ctx.container.db.updateTable('organizations').set({ postal_address: '1 Example Street, Berlin' }).where('id', '=', organization.id).execute();
    const template = await sf.templates.create({
      name: 'Newsletter',
      slug: 'newsletter',
      category: 'marketing',
      subject: 'News',
      mjml_content: '<mjml><mj-body><mj-section><mj-column><mj-text>News</mj-text></mj-column></mj-section></mj-body></mjml>',
    });
    const tag = await sf.tags.create({ name: 'Campaign readers' });
    await sf.subscribers.batch({ subscribers: ['r1@example.com', 'r2@example.com'].map((email) => ({ email, tags: [tag.slug] })) });

    const drafted = await full.callTool({ name: 'create_campaign_draft', arguments: { name: 'Launch', template_id: template.id, include_tag_ids: [tag.id] } });
    expect(drafted.isError, text(drafted)).toBeFalsy();
    const campaign = JSON.parse(text(drafted)) as { id: string; status: string };
    expect(campaign.status).toBe('draft');
    expect(JSON.parse(text(await full.callTool({ name: 'count_campaign_recipients', arguments: { campaign_id: campaign.id } })))).toMatchObject({ count: 2 });

    // Without confirm nothing is sent: the answer is what would happen.
    const preview = await full.callTool({ name: 'send_campaign', arguments: { campaign_id: campaign.id } });
    expect(JSON.parse(text(preview))).toMatchObject({ sent: false, would_send_to: 2 });
    expect((await sf.campaigns.get(campaign.id)).status).toBe('draft');
    // A confirmation of another count than the audience's is refused.
    const stale = await full.callTool({ name: 'send_campaign', arguments: { campaign_id: campaign.id, confirm: true, expected_recipients: 5 } });
    expect(stale.isError).toBe(true);
    expect(text(stale)).toMatch(/^confirmation_mismatch: The audience is 2 recipients, not the 5 confirmed/);
    expect((await sf.campaigns.get(campaign.id)).status).toBe('draft');

    const sent = await full.callTool({ name: 'send_campaign', arguments: { campaign_id: campaign.id, confirm: true, expected_recipients: 2 } });
    expect(sent.isError, text(sent)).toBeFalsy();
    expect(JSON.parse(text(sent)).status).not.toBe('draft');
    // The same confirmed call again is answered from the first send (same idempotency key), not sent twice.
    const again = await full.callTool({ name: 'send_campaign', arguments: { campaign_id: campaign.id, confirm: true, expected_recipients: 2 } });
    expect(again.isError, text(again)).toBeFalsy();
    expect(JSON.parse(text(again)).id).toBe(campaign.id);

    const listed = JSON.parse(text(await full.callTool({ name: 'list_campaigns', arguments: { limit: 10 } }))).items as { id: string }[];
    expect(listed.map((c) => c.id)).toContain(campaign.id);
    expect(JSON.parse(text(await full.callTool({ name: 'get_campaign', arguments: { campaign_id: campaign.id } }))).name).toBe('Launch');
    const stats = await full.callTool({ name: 'get_campaign_stats', arguments: { campaign_id: campaign.id } });
    expect(JSON.parse(text(stats))).toHaveProperty('targeted');
  });

  it('lists segments and counts one with a sample of its members', async () => {
    const sf = new SubscribeFlowClient({ apiKey: organization.key, baseUrl });
    const segment = await sf.segments.create({
      name: 'Example.com',
      filter: { match: 'all', conditions: [{ field: 'email', op: 'domain', value: 'example.com' }] },
    });
    const listed = JSON.parse(text(await full.callTool({ name: 'list_segments', arguments: {} }))).items as { id: string }[];
    expect(listed.map((s) => s.id)).toEqual([segment.id]);
    const counted = JSON.parse(text(await full.callTool({ name: 'count_segment', arguments: { segment_id: segment.id, sample: true } })));
    const expected = (await sf.segments.count(segment.id)).count;
    expect(counted.count).toBe(expected);
    expect(counted.members).toHaveLength(Math.min(expected, 50));
  });

  it('rejects arguments outside the input schema before calling the API', async () => {
    const client = full;
    const result = await client.callTool({ name: 'find_subscribers', arguments: { limit: 5000 } });
    expect(result.isError).toBe(true);
  });
});
