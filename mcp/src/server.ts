import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { SubscribeFlowError, type SubscribeFlowClient } from '@subscribe-flow/sdk';
import { z } from 'zod';

// Every input is bounded as the API bounds it, so an assistant cannot make the server ask for unbounded work.
const id = z.uuid().describe('A subscriber id (UUID)');
const email = z.email().max(254);
const slug = z.string().min(1).max(100).describe('A tag slug, e.g. product-updates');
const limit = z.number().int().min(1).max(100).default(25).describe('At most this many items (1–100)');

/** A tool's answer: the API's JSON as text, or the API's error (code, message, request id) marked as an error. */
async function answer(call: () => Promise<unknown>): Promise<CallToolResult> {
  try {
    const result = await call();
    return { content: [{ type: 'text', text: JSON.stringify(result ?? { ok: true }, null, 2) }] };
  } catch (error) {
    if (!(error instanceof SubscribeFlowError)) throw error;
    const text = `${error.code}: ${error.message}${error.requestId ? ` (request id ${error.requestId})` : ''}`;
    return { isError: true, content: [{ type: 'text', text }] };
  }
}

/**
 * The MCP server over one API client. The tools are a deliberate, small set; what each may do is decided
 * by the API key's scopes on the server (a read-only key's write tools answer with the API's 403), never
 * by this process.
 */
export function createMcpServer(client: SubscribeFlowClient, info: { version: string } = { version: '0.1.0' }): McpServer {
  const server = new McpServer({ name: 'subscribe-flow', version: info.version });
  const read = { readOnlyHint: true, openWorldHint: false } as const;
  const write = { readOnlyHint: false, destructiveHint: false, openWorldHint: false } as const;

  server.registerTool(
    'find_subscribers',
    {
      description: 'List subscribers, newest first, optionally filtered by email prefix, status or tag slug.',
      inputSchema: {
        email_prefix: z.string().min(1).max(254).optional().describe('Case-insensitive email prefix'),
        status: z.enum(['pending', 'active', 'unsubscribed', 'bounced', 'complained']).optional(),
        tag: slug.optional(),
        limit,
      },
      annotations: read,
    },
    ({ email_prefix, status, tag, limit }) =>
      answer(() => client.subscribers.list({ limit, ...(email_prefix ? { q: email_prefix } : {}), ...(status ? { status } : {}), ...(tag ? { tag } : {}) })),
  );

  server.registerTool(
    'get_subscriber',
    {
      description: 'One subscriber with their tags, by id or by email address (give one of the two).',
      inputSchema: { id: id.optional(), email: email.optional() },
      annotations: read,
    },
    ({ id, email }) =>
      answer(() => {
        if (id) return client.subscribers.get(id);
        if (email) return client.subscribers.getByEmail(email);
        throw new SubscribeFlowError({ status: 400, code: 'invalid_input', message: 'Give id or email' });
      }),
  );

  server.registerTool(
    'create_subscriber',
    {
      description: 'Add a subscriber (active, with consent recorded as given through the API), optionally subscribed to tags.',
      inputSchema: {
        email,
        first_name: z.string().max(100).optional(),
        last_name: z.string().max(100).optional(),
        tags: z.array(slug).max(20).optional().describe('Tag slugs to subscribe to'),
      },
      annotations: write,
    },
    (input) => answer(() => client.subscribers.create({ ...input, source: 'mcp' })),
  );

  server.registerTool(
    'tag_subscriber',
    {
      description: 'Subscribe a subscriber to tags (by slug).',
      inputSchema: { subscriber_id: id, tags: z.array(slug).min(1).max(20) },
      annotations: write,
    },
    ({ subscriber_id, tags }) => answer(() => client.subscribers.addTags(subscriber_id, tags)),
  );

  server.registerTool(
    'untag_subscriber',
    {
      description: 'Unsubscribe a subscriber from one tag (by slug).',
      inputSchema: { subscriber_id: id, tag: slug },
      annotations: write,
    },
    ({ subscriber_id, tag }) => answer(() => client.subscribers.removeTag(subscriber_id, tag)),
  );

  server.registerTool(
    'list_tags',
    {
      description: "The organization's tags (topics subscribers opt in to).",
      inputSchema: { limit },
      annotations: read,
    },
    ({ limit }) => answer(() => client.tags.list({ limit })),
  );

  server.registerTool(
    'list_templates',
    {
      description: "The organization's email templates (slug, name, subject, category).",
      inputSchema: { limit },
      annotations: read,
    },
    ({ limit }) => answer(() => client.templates.list({ limit })),
  );

  server.registerTool(
    'send_email',
    {
      description: 'Send a transactional email from a published template to an address or a subscriber id. Suppressed addresses are not mailed.',
      inputSchema: {
        template_slug: z.string().min(1).max(80),
        to: z.union([z.uuid(), email]).describe('An email address or a subscriber id'),
        variables: z
          .record(z.string().max(100), z.union([z.string().max(2000), z.number(), z.boolean()]))
          .optional()
          .refine((v) => v === undefined || Object.keys(v).length <= 50, 'At most 50 variables'),
        idempotency_key: z
          .string()
          .min(1)
          .max(255)
          .regex(/^[\x21-\x7e]+$/)
          .optional()
          .describe('The same key never sends twice'),
      },
      annotations: { ...write, openWorldHint: true },
    },
    ({ idempotency_key, ...body }) => answer(() => client.emails.send(body, idempotency_key ? { idempotencyKey: idempotency_key } : {})),
  );

  const campaignId = z.uuid().describe('A campaign id (UUID)');
  const segmentId = z.uuid().describe('A segment id (UUID)');
  const tagIds = z.array(z.uuid()).min(1).max(20);

  server.registerTool(
    'list_campaigns',
    {
      description: "The organization's campaigns, newest first, optionally only those with one status.",
      inputSchema: { status: z.enum(['draft', 'scheduled', 'sending', 'paused', 'sent', 'cancelled', 'failed']).optional(), limit },
      annotations: read,
    },
    ({ status, limit }) => answer(() => client.campaigns.list({ limit, ...(status ? { status } : {}) })),
  );

  server.registerTool(
    'get_campaign',
    {
      description: 'One campaign: its status, template, audience and counts.',
      inputSchema: { campaign_id: campaignId },
      annotations: read,
    },
    ({ campaign_id }) => answer(() => client.campaigns.get(campaign_id)),
  );

  server.registerTool(
    'create_campaign_draft',
    {
      description:
        'Draft a campaign from a marketing template (list_templates) to subscribers of tags (list_tags, by id) or a segment (list_segments). Nothing is sent: count its audience with count_campaign_recipients, then send_campaign.',
      inputSchema: {
        name: z.string().min(1).max(200),
        template_id: z.uuid().describe('A marketing template id'),
        include_tag_ids: tagIds.optional().describe('Subscribers of any of these tags (ids)'),
        exclude_tag_ids: tagIds.optional().describe('Except subscribers of these tags (ids)'),
        segment_id: segmentId.optional().describe('Or the subscribers a segment matches'),
        subject: z.string().min(1).max(200).optional().describe("Overrides the template's subject"),
        preheader: z.string().max(200).optional(),
      },
      annotations: write,
    },
    ({ include_tag_ids, exclude_tag_ids, segment_id, ...rest }) =>
      answer(() =>
        client.campaigns.create({
          ...rest,
          ...(include_tag_ids ? { tag_filter: { include_tags: include_tag_ids, ...(exclude_tag_ids ? { exclude_tags: exclude_tag_ids } : {}) } } : {}),
          ...(segment_id ? { segment_id } : {}),
        }),
      ),
  );

  server.registerTool(
    'count_campaign_recipients',
    {
      description: 'How many subscribers a campaign would be sent to now, and how many are left out and why.',
      inputSchema: { campaign_id: campaignId },
      annotations: read,
    },
    ({ campaign_id }) => answer(() => client.campaigns.recipientCount(campaign_id)),
  );

  server.registerTool(
    'send_campaign',
    {
      description:
        'Send a draft campaign now, or schedule it. Without confirm: true nothing is sent: the answer says how many people it would reach. Ask the user, then call again with confirm: true and the recipient count they agreed to.',
      inputSchema: {
        campaign_id: campaignId,
        confirm: z.boolean().optional().describe('true only after the user agreed to send to this audience'),
        expected_recipients: z
          .number()
          .int()
          .min(0)
          .max(100_000_000)
          .optional()
          .describe('The recipient count the user agreed to; the send is refused if the audience changed'),
        scheduled_at: z.iso.datetime({ offset: true }).optional().describe('Send at this time (ISO 8601) instead of now'),
      },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
    },
    ({ campaign_id, confirm, expected_recipients, scheduled_at }) =>
      answer(async () => {
        const audience = await client.campaigns.recipientCount(campaign_id);
        if (confirm !== true) {
          return {
            sent: false,
            would_send_to: audience.count,
            excluded: audience.excluded,
            next: 'Ask the user to confirm, then call send_campaign again with confirm: true and expected_recipients.',
          };
        }
        if (expected_recipients === undefined || expected_recipients !== audience.count) {
          throw new SubscribeFlowError({
            status: 409,
            code: 'confirmation_mismatch',
            message: `The audience is ${audience.count} recipients${expected_recipients === undefined ? '; confirm with expected_recipients' : `, not the ${expected_recipients} confirmed`}. Nothing was sent.`,
          });
        }
        // One idempotency key per campaign: a repeated confirmed call never sends a second time.
        return client.campaigns.send(campaign_id, scheduled_at ? { scheduled_at } : {}, { idempotencyKey: `mcp-send-${campaign_id}` });
      }),
  );

  server.registerTool(
    'get_campaign_stats',
    {
      description: "A campaign's results: targeted, sent, delivered, opened, clicked, bounced, complained, unsubscribed, skipped by reason.",
      inputSchema: { campaign_id: campaignId },
      annotations: read,
    },
    ({ campaign_id }) => answer(() => client.campaigns.stats(campaign_id)),
  );

  server.registerTool(
    'list_segments',
    {
      description: "The organization's saved segments (audiences defined by a filter).",
      inputSchema: { limit },
      annotations: read,
    },
    ({ limit }) => answer(() => client.segments.list({ limit })),
  );

  server.registerTool(
    'count_segment',
    {
      description: 'How many subscribers a segment matches now, with a sample of the first members.',
      inputSchema: { segment_id: segmentId, sample: z.boolean().default(false).describe('Also answer up to 50 members') },
      annotations: read,
    },
    ({ segment_id, sample }) =>
      answer(async () => ({
        ...(await client.segments.count(segment_id)),
        ...(sample ? { members: (await client.segments.members(segment_id)).items } : {}),
      })),
  );

  server.registerTool(
    'get_stats',
    {
      description: 'Subscriber counts by status, tag counts and recent growth of the organization.',
      inputSchema: {},
      annotations: read,
    },
    () => answer(() => client.stats.overview()),
  );

  return server;
}
