import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { LIMIT_KINDS, loadConfig, type LimitKind } from './config/index.ts';
import { createContainer } from './container.ts';
import { exitOnStartupError } from './entrypoints/lifecycle.ts';
import { isEmail } from './lib/email.ts';
import { isUuid } from './lib/ids.ts';
import { extractLinks, headersOf } from './modules/email/index.ts';
import { parseLimitOverride, type LimitOverride } from './modules/entitlements/index.ts';
import { SUBSCRIBER_STATUSES } from './modules/subscribers/index.ts';
import { createMetrics } from './metrics/registry.ts';
import { cliImport } from './cli-imports.ts';

// Operator commands. Each prints exactly one JSON object on stdout so scripts can parse it.
const usage = `Usage:
  cli create-org --name <name> --admin-email <email> [--slug <slug>]
  cli seed-demo
  cli mailbox --to <email>     the latest dev-mailbox message to that address
  cli create-admin --email <email> [--org <slug>] [--role owner|admin] [--platform-admin]
                               a user who can sign in (as owner by default of that organization)
  cli purge-deleted-organizations   finish purging organizations whose deletion was interrupted
  cli import <file.csv> --org <slug> [--tag <name>]… [--dry-run] [--update-existing]
                               imports subscribers, with a progress bar on stderr and the report on stdout
  cli export --org <slug> [--format csv|ndjson] [--status <status>] [--tag <slug>] [--segment <id>] > file.csv
  cli set-limits --org <slug> [--subscribers N|unlimited|plan] [--emails-per-month N|unlimited|plan]
                 [--webhook-endpoints N|unlimited|plan] [--custom-domains N|unlimited|plan]
                               overrides one organization's limits (a number, or "unlimited"), or gives a limit back
                               to its plan ("plan"); prints the plan and the limits in force
  cli set-plan --org <slug> <plan>
                               puts an organization without a running Stripe subscription on a plan (e.g. "free" for
                               one the "legacy" plan kept unlimited when billing was turned on)`;

function fail(message: string): never {
  process.stderr.write(`${message}\n${usage}\n`);
  process.exit(2);
}

const [command, ...rest] = process.argv.slice(2);
const { values, positionals } = parseArgs({
  args: rest,
  options: {
    name: { type: 'string' },
    'admin-email': { type: 'string' },
    slug: { type: 'string' },
    to: { type: 'string' },
    email: { type: 'string' },
    org: { type: 'string' },
    role: { type: 'string' },
    'platform-admin': { type: 'boolean' },
    tag: { type: 'string', multiple: true },
    'dry-run': { type: 'boolean' },
    'update-existing': { type: 'boolean' },
    format: { type: 'string' },
    status: { type: 'string' },
    segment: { type: 'string' },
    subscribers: { type: 'string' },
    'emails-per-month': { type: 'string' },
    'webhook-endpoints': { type: 'string' },
    'custom-domains': { type: 'string' },
  },
  allowPositionals: true,
  strict: true,
});

async function organizationOf(slug: string | undefined): Promise<string> {
  if (!slug) fail('--org is required');
  const organization = await container.services.organizationRepository.findBySlug(slug.trim());
  if (!organization) fail(`No organization with the slug "${slug}"`);
  return organization.id;
}

let container: ReturnType<typeof createContainer>;
try {
  container = createContainer(loadConfig(), { processName: 'cli' });
} catch (error) {
  exitOnStartupError(error);
}
try {
  switch (command) {
    case 'create-org': {
      const name = values.name?.trim();
      const email = values['admin-email']?.trim();
      if (!name) fail('--name is required');
      if (!email || !isEmail(email)) fail('--admin-email must be an email address');
      const { organization, user, apiKey } = await container.services.organizations.createWithOwner({
        name,
        adminEmail: email,
        slug: values.slug,
        refuseExistingName: true,
      });
      process.stdout.write(
        `${JSON.stringify({ organization_id: organization.id, organization_slug: organization.slug, user_id: user.id, api_key: apiKey.key, api_key_id: apiKey.id })}\n`,
      );
      break;
    }
    case 'seed-demo': {
      const { organization, apiKey } = await container.services.organizations.ensureDemo({
        slug: 'demo',
        name: 'Demo',
        adminEmail: 'admin@demo.localhost',
        keyName: 'Demo key (npm start)',
      });
      process.stdout.write(`${JSON.stringify({ organization_id: organization.id, organization_slug: organization.slug, api_key: apiKey.key })}\n`);
      break;
    }
    case 'mailbox': {
      if (!values.to) fail('--to is required');
      const message = await container.devMailbox.latestTo(values.to.trim());
      if (!message) {
        process.stderr.write(`No message to ${values.to} in the dev mailbox\n`);
        process.exitCode = 1;
        break;
      }
      process.stdout.write(
        `${JSON.stringify({
          id: message.id,
          to: message.to_address,
          from: message.from_address,
          subject: message.subject,
          text: message.text,
          html: message.html,
          headers: headersOf(message.headers),
          links: extractLinks(message.text, message.html),
          created_at: message.created_at,
        })}\n`,
      );
      break;
    }
    case 'create-admin': {
      const email = values.email?.trim();
      if (!email || !isEmail(email)) fail('--email must be an email address');
      const role = values.role ?? 'owner';
      if (role !== 'owner' && role !== 'admin') fail('--role must be owner or admin');
      const created = await container.services.platform.createAdmin({
        email,
        organizationSlug: values.org?.trim(),
        role,
        platformAdmin: values['platform-admin'] ?? false,
      });
      process.stdout.write(`${JSON.stringify(created)}\n`);
      break;
    }
    case 'purge-deleted-organizations': {
      const purged = await container.services.organizations.purgePending();
      process.stdout.write(`${JSON.stringify({ purged })}\n`);
      break;
    }
    case 'import': {
      const file = positionals[0];
      if (!file) fail('the CSV file is required');
      const organizationId = await organizationOf(values.org);
      const handler = container.jobHandlers(createMetrics('cli'))['import.process'];
      const report = await cliImport({ imports: container.services.imports, handler, logger: container.logger }, organizationId, file, {
        tags: values.tag ?? [],
        dryRun: values['dry-run'] ?? false,
        updateExisting: values['update-existing'] ?? false,
      });
      process.stdout.write(`${JSON.stringify(report)}\n`);
      if (report.status !== 'completed') process.exitCode = 1;
      break;
    }
    case 'export': {
      const organizationId = await organizationOf(values.org);
      const format = values.format ?? 'csv';
      if (format !== 'csv' && format !== 'ndjson') fail('--format must be csv or ndjson');
      if (values.status && !(SUBSCRIBER_STATUSES as readonly string[]).includes(values.status))
        fail(`--status must be one of ${SUBSCRIBER_STATUSES.join(', ')}`);
      if (values.tag && (values.tag.length > 1 || !/^[a-z0-9-]{1,100}$/.test(values.tag[0]!))) fail('--tag takes one tag slug');
      if (values.segment && !isUuid(values.segment)) fail('--segment takes a segment id');
      const stream = await container.services.imports.exportStream(organizationId, {
        format,
        filter: { status: values.status, tag: values.tag?.[0] },
        segmentId: values.segment,
        metadataKeys: [],
      });
      await pipeline(stream, process.stdout);
      break;
    }
    case 'set-limits': {
      const organizationId = await organizationOf(values.org);
      const overrides: Partial<Record<LimitKind, LimitOverride>> = {};
      for (const kind of LIMIT_KINDS) {
        const option = kind.replaceAll('_', '-') as 'subscribers' | 'emails-per-month' | 'webhook-endpoints' | 'custom-domains';
        const value = values[option];
        if (value === undefined) continue;
        const parsed = parseLimitOverride(value);
        if (parsed === undefined) fail(`--${option} must be a whole number from 0 to 2,000,000,000, "unlimited" or "plan"`);
        overrides[kind] = parsed;
      }
      if (Object.keys(overrides).length === 0) fail('give at least one limit to set');
      await container.services.entitlements.setOverrides(organizationId, overrides);
      const usage = await container.services.entitlements.usage(organizationId);
      process.stdout.write(
        `${JSON.stringify({ organization_id: organizationId, plan: usage?.plan, limits: usage?.limits, overridden: Object.keys(overrides) })}\n`,
      );
      break;
    }
    case 'set-plan': {
      const organizationId = await organizationOf(values.org);
      const plan = positionals[0];
      if (!plan) fail('the plan is required');
      const result = await container.services.entitlements.setPlan(organizationId, plan);
      if (result === 'unknown_plan') fail(`there is no plan "${plan}"; plans: ${container.config.PLANS.map((p) => p.id).join(', ')}`);
      if (result === 'subscribed') fail('the organization has a running Stripe subscription; its plan follows the subscription (change it in Stripe)');
      const usage = await container.services.entitlements.usage(organizationId);
      process.stdout.write(`${JSON.stringify({ organization_id: organizationId, plan: usage?.plan, limits: usage?.limits })}\n`);
      break;
    }
    default:
      fail(command ? `Unknown command "${command}"` : 'No command given');
  }
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
} finally {
  await container.close();
}
