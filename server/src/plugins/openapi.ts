import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import type { TSchema } from 'typebox';
import { requiredRole } from '../modules/auth/index.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The request body as the OpenAPI document shows it, when validation is deliberately looser (batch items checked one by one). */
    documentedBody?: TSchema;
  }
}

/** OpenAPI 3.1 generated from the route schemas; the reference UI is served at /docs. */
export async function registerOpenApi(app: FastifyInstance, publicUrl: string): Promise<void> {
  await app.register(swagger, {
    // Components are named after the schemas' $id (Subscriber, Tag, ErrorResponse, …) rather than def-N,
    // so the generated clients and the docs carry the names the code uses.
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Subscribe Flow API',
        version: '1.0.0',
        description: 'Subscribers, topics (tags), consent and email. Authenticate with an API key (`Authorization: Bearer sf_live_…`) or, from the dashboard, with the `sf_session` cookie and `X-Organization-Id`.',
      },
      servers: [{ url: publicUrl }],
      // The order readers meet the API in: the docs site's reference follows it.
      tags: [
        { name: 'subscribers', description: 'People on your lists, their consent history and notes' },
        { name: 'tags', description: 'Topics subscribers opt in to' },
        { name: 'api-keys', description: 'Keys for the developer API, with scopes' },
        { name: 'auth', description: 'Dashboard sign-in by email link, and sessions' },
        { name: 'organizations', description: 'Organizations and their settings' },
        { name: 'members', description: 'Team members, roles (owner, admin, viewer) and invitations' },
        { name: 'audit', description: 'Who changed what' },
        { name: 'platform', description: 'For the operators of this installation' },
        { name: 'templates', description: 'Email templates: MJML with Liquid variables, previews' },
        { name: 'emails', description: 'Sending transactional email and reading what was sent' },
        { name: 'suppressions', description: 'Addresses that receive no email at all' },
        { name: 'automations', description: 'Welcome mails and drip sequences started by subscriber events or custom events from your app' },
        { name: 'imports', description: 'CSV imports of subscribers (streamed upload, dry run, progress, errors file) and streamed exports' },
        { name: 'preference-center', description: "The subscriber's own page, reached with a signed link from any email" },
        { name: 'public', description: 'Website forms: subscribe with double opt-in, confirm' },
        { name: 'settings', description: 'Sender, sending domains and preference-center settings of the organization' },
        { name: 'stats', description: 'Counts and growth for the dashboard' },
        { name: 'email', description: 'The development mailbox: mail stored instead of sent when no provider is configured' },
        { name: 'unsubscribe', description: 'One-click unsubscribe (RFC 8058) from the link in every marketing email' },
        { name: 'hooks', description: 'Webhooks the email provider sends to the API (signed)' },
        { name: 'health', description: 'Liveness and readiness probes' },
      ],
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'An API key (sf_live_… or sf_test_…)' },
          apiKeyHeader: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
          sessionCookie: { type: 'apiKey', in: 'cookie', name: 'sf_session', description: 'A dashboard session; mutations also need Origin and X-Requested-With: subscribe-flow' },
        },
      },
    },
    // Every response gets a description of what its status means here (Fastify's default is "Default Response").
    transformObject: (documentObject) => describeResponses(documentObject as { openapiObject?: OpenApiDocument }),
    // Each route's access rule becomes its security requirement and a note of the scope it needs.
    transform: ({ schema, url, route }) => {
      const access = route.config?.access;
      const transformed = { ...(schema as Record<string, unknown>) };
      const role = access ? requiredRole(access) : null;
      if (role) transformed['x-required-role'] = role;
      if (access && 'scope' in access) {
        transformed.security = [{ bearerAuth: [] }, { apiKeyHeader: [] }, { sessionCookie: [] }];
        transformed['x-required-scope'] = access.scope;
      } else if (access && ('role' in access || 'user' in access || 'platform' in access)) {
        // Dashboard-only routes: a session, never an API key.
        transformed.security = [{ sessionCookie: [] }];
        if ('platform' in access) transformed['x-platform-admin'] = true;
      } else if (access && 'public' in access) {
        transformed['x-public'] = true;
      }
      if (route.config?.idempotent) transformed['x-idempotent'] = true;
      if (route.config?.documentedBody) transformed.body = route.config.documentedBody;
      return { schema: transformed as never, url };
    },
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { docExpansion: 'list', deepLinking: true },
    // The UI's own policy (scripts and styles from this origin plus the hashes of its inline ones) replaces
    // the JSON API's, which would stop the page from loading anything. Without upgrade-insecure-requests,
    // so /docs also works over plain http on a developer machine.
    staticCSP: true,
    transformStaticCSP: (header) => header.replace(/\s*upgrade-insecure-requests;?/, ''),
  });
}

// What each status means everywhere in this API; a response schema's own description wins.
const STATUS_DESCRIPTIONS: Record<string, string> = {
  200: 'Success',
  201: 'Created',
  202: 'Accepted; the work continues in the background',
  204: 'Done; no content',
  302: 'Redirect',
  400: 'The request is malformed (invalid JSON, cursor, or header)',
  401: 'Missing, invalid or revoked credentials',
  402: 'A plan limit is reached; the error names the limit, the usage and the plan',
  403: 'The credentials do not allow this (scope, role, or organization)',
  404: "Not found (another organization's resources are not found either)",
  409: 'Conflicts with the current state (already exists, in use, or a request with this Idempotency-Key is still running)',
  410: 'Gone',
  413: 'The request body is too large',
  415: 'Unsupported content type',
  422: 'A field is not valid; `details` names each field and why',
  429: 'Too many requests; retry after the Retry-After header',
  503: 'A dependency is unavailable; retry after the Retry-After header',
};

interface OpenApiDocument {
  paths?: Record<string, Record<string, { responses?: Record<string, { description?: string }> }>>;
}

// Descriptions Fastify and the shared error schema would otherwise give every response.
const GENERIC = new Set(['Default Response', 'Every error has this shape']);

/** Gives every response a description of its status (OpenAPI requires one); a route's own description wins. */
function describeResponses(documentObject: { openapiObject?: OpenApiDocument }): never {
  const document = documentObject.openapiObject ?? {};
  for (const operations of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(operations)) {
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        if (!response.description || GENERIC.has(response.description)) {
          response.description = STATUS_DESCRIPTIONS[status] ?? (status.startsWith('2') ? 'Success' : 'Error');
        }
      }
    }
  }
  return document as never;
}
