import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { requiredRole } from './auth.ts';

/** OpenAPI 3.1 generated from the route schemas; the reference UI is served at /docs. */
export async function registerOpenApi(app: FastifyInstance, publicUrl: string): Promise<void> {
  await app.register(swagger, {
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
