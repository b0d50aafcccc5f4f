import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { ApiKeyService } from './api-keys.service.ts';
import { requireAuth } from '../auth/index.ts';
import { authErrors, StringEnum, Cursor, ErrorResponse, IdParams, Limit, NextCursor, NullableTimestamp, Timestamp, Uuid } from '../common.schemas.ts';
import { SCOPES } from './scopes.ts';

const ScopeSchema = StringEnum(SCOPES);

// No hash column here: the response schema is what keeps secrets from ever being serialized.
const ApiKey = Type.Object(
  {
    id: Uuid,
    name: Type.String(),
    key_prefix: Type.String({ description: 'The first characters of the key, to recognise it' }),
    environment: Type.String({ enum: ['live', 'test'] }),
    scopes: Type.Array(ScopeSchema),
    last_used_at: NullableTimestamp,
    revoked_at: NullableTimestamp,
    created_at: Timestamp,
    created_by: Type.Union([Type.Object({ id: Uuid, email: Type.String(), name: Type.Union([Type.String(), Type.Null()]) }), Type.Null()], {
      description:
        'The dashboard user who created the key; null when created by another key, at sign-up, or when that user no longer exists. Keys belong to the organization: they keep working when their creator leaves it.',
    }),
  },
  { $id: 'ApiKey' },
);

const CreatedApiKey = Type.Object({ ...ApiKey.properties, key: Type.String({ description: 'The full key. Shown only in this response.' }) });

export const apiKeyRoutes: FastifyPluginAsyncTypebox<{ apiKeys: ApiKeyService }> = async (app, { apiKeys }) => {
  app.get(
    '/api-keys',
    {
      schema: {
        tags: ['api-keys'],
        operationId: 'listApiKeys',
        summary: 'List API keys (never their secrets)',
        querystring: Type.Object({ limit: Type.Optional(Limit), cursor: Type.Optional(Cursor) }, { additionalProperties: false }),
        response: { 200: Type.Object({ items: Type.Array(ApiKey), next_cursor: NextCursor }), ...authErrors },
      },
      config: { access: { scope: 'api-keys:manage' } },
    },
    async (request) => apiKeys.list(requireAuth(request).organizationId, request.query),
  );

  app.post(
    '/api-keys',
    {
      schema: {
        tags: ['api-keys'],
        operationId: 'createApiKey',
        summary: 'Create an API key; the key is shown once',
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' }),
            scopes: Type.Array(ScopeSchema, { minItems: 1, maxItems: SCOPES.length, uniqueItems: true }),
            environment: Type.Optional(Type.Union([Type.Literal('live'), Type.Literal('test')])),
          },
          { additionalProperties: false },
        ),
        response: { 201: CreatedApiKey, ...authErrors },
      },
      config: { access: { scope: 'api-keys:manage' }, idempotent: true },
    },
    async (request, reply) => {
      const auth = requireAuth(request);
      const created = await apiKeys.create(auth.organizationId, {
        name: request.body.name.trim(),
        scopes: request.body.scopes,
        environment: request.body.environment,
        createdByUserId: auth.kind === 'session' ? auth.userId : null,
      });
      return reply.code(201).send(created);
    },
  );

  app.delete(
    '/api-keys/:id',
    {
      schema: {
        tags: ['api-keys'],
        operationId: 'revokeApiKey',
        summary: 'Revoke an API key (it stops working at once)',
        params: IdParams,
        response: { 200: ApiKey, 404: ErrorResponse, ...authErrors },
      },
      config: { access: { scope: 'api-keys:manage' } },
    },
    async (request) => apiKeys.revoke(requireAuth(request).organizationId, request.params.id),
  );
};
