import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { PlatformService } from './platform.service.ts';
import { authErrors, Cursor, ErrorResponse, IdParams, Limit, NextCursor, NullableTimestamp, StringEnum, Timestamp, Uuid } from '../common.schemas.ts';

const PlatformOrganization = Type.Object(
  {
    id: Uuid,
    name: Type.String(),
    slug: Type.String(),
    status: Type.String({ enum: ['active', 'suspended'] }),
    plan: Type.String(),
    member_count: Type.Integer(),
    created_at: Timestamp,
    deleted_at: NullableTimestamp,
  },
  { $id: 'PlatformOrganization' },
);

const StatusResult = Type.Object({ id: Uuid, name: Type.String(), slug: Type.String(), status: Type.String() });

export const platformRoutes: FastifyPluginAsyncTypebox<{ platform: PlatformService }> = async (app, { platform }) => {
  app.get(
    '/platform/organizations',
    {
      schema: {
        tags: ['platform'],
        operationId: 'listAllOrganizations',
        summary: 'Every organization (platform operators only)',
        querystring: Type.Object(
          {
            limit: Type.Optional(Limit),
            cursor: Type.Optional(Cursor),
            status: Type.Optional(StringEnum(['active', 'suspended'] as const)),
            q: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'Start of the name or slug' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(PlatformOrganization), next_cursor: NextCursor }), 400: ErrorResponse, ...authErrors },
      },
      config: { access: { platform: true } },
    },
    async (request) => platform.listOrganizations(request.query),
  );

  for (const [action, status] of [
    ['suspend', 'suspended'],
    ['unsuspend', 'active'],
  ] as const) {
    app.post(
      `/platform/organizations/:id/${action}`,
      {
        schema: {
          tags: ['platform'],
          operationId: `${action}Organization`,
          summary: action === 'suspend' ? 'Suspend an organization: its keys and sessions get 403 organization_suspended' : 'Lift a suspension',
          params: IdParams,
          response: { 200: StatusResult, 404: ErrorResponse, ...authErrors },
        },
        config: { access: { platform: true }, audit: { action: `organization.${action}`, targetType: 'organization' } },
      },
      async (request) => {
        const result = await platform.setStatus(request.params.id, status);
        // The organization's own log shows that an operator acted on it.
        request.auditNote = { organizationId: request.params.id };
        return result;
      },
    );
  }
};
