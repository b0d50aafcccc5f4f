import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { requireAuth } from '../auth/index.ts';
import { authErrors, Cursor, ErrorResponse, IdParams, Limit, NextCursor, NoContent, Timestamp, Uuid } from '../common.schemas.ts';
import { SegmentFilter } from './filter.ts';
import type { SegmentService } from './segments.service.ts';

const Segment = Type.Object(
  {
    id: Uuid,
    name: Type.String(),
    description: Type.Union([Type.String(), Type.Null()]),
    filter: SegmentFilter,
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { $id: 'Segment', additionalProperties: false },
);

const Member = Type.Object(
  {
    id: Uuid,
    email: Type.String(),
    status: Type.String(),
    first_name: Type.Union([Type.String(), Type.Null()]),
    last_name: Type.Union([Type.String(), Type.Null()]),
    created_at: Timestamp,
  },
  { additionalProperties: false },
);

const Name = Type.String({ minLength: 1, maxLength: 200 });
const Description = Type.Union([Type.String({ maxLength: 1000 }), Type.Null()]);
const CreateBody = Type.Object({ name: Name, description: Type.Optional(Description), filter: SegmentFilter }, { additionalProperties: false });
const UpdateBody = Type.Object(
  { name: Type.Optional(Name), description: Type.Optional(Description), filter: Type.Optional(SegmentFilter) },
  { additionalProperties: false, minProperties: 1 },
);
const Count = Type.Object({ count: Type.Integer({ minimum: 0 }) }, { additionalProperties: false });
const errors = { 404: ErrorResponse, 503: ErrorResponse, ...authErrors };

/** Segments share the campaign scopes: they exist to choose a campaign's audience. */
export const segmentRoutes: FastifyPluginAsyncTypebox<{ segments: SegmentService }> = async (app, { segments }) => {
  app.get(
    '/segments',
    {
      schema: {
        tags: ['segments'],
        operationId: 'listSegments',
        summary: 'List segments, newest first',
        querystring: Type.Object({ limit: Type.Optional(Limit), cursor: Type.Optional(Cursor) }, { additionalProperties: false }),
        response: { 200: Type.Object({ items: Type.Array(Segment), next_cursor: NextCursor }), ...authErrors },
      },
      config: { access: { scope: 'campaigns:read' } },
    },
    async (request) => segments.list(requireAuth(request).organizationId, request.query),
  );

  app.post(
    '/segments',
    {
      schema: {
        tags: ['segments'],
        operationId: 'createSegment',
        summary: 'Create a segment from a filter',
        description: 'The filter is checked now: an unknown tag or an operator that does not fit the field is a 422 naming the condition.',
        body: CreateBody,
        response: { 201: Segment, ...errors },
      },
      config: { access: { scope: 'campaigns:write' }, idempotent: true },
    },
    async (request, reply) => reply.code(201).send(await segments.create(requireAuth(request).organizationId, request.body)),
  );

  app.post(
    '/segments/preview-count',
    {
      schema: {
        tags: ['segments'],
        operationId: 'previewSegmentCount',
        summary: 'Count the subscribers an unsaved filter matches',
        body: Type.Object({ filter: SegmentFilter }, { additionalProperties: false }),
        response: { 200: Count, ...errors },
      },
      config: { access: { scope: 'campaigns:read' } },
    },
    async (request) => segments.preview(requireAuth(request).organizationId, request.body.filter),
  );

  app.get(
    '/segments/:id',
    {
      schema: { tags: ['segments'], operationId: 'getSegment', summary: 'Get a segment', params: IdParams, response: { 200: Segment, ...errors } },
      config: { access: { scope: 'campaigns:read' } },
    },
    async (request) => segments.get(requireAuth(request).organizationId, request.params.id),
  );

  app.patch(
    '/segments/:id',
    {
      schema: {
        tags: ['segments'],
        operationId: 'updateSegment',
        summary: 'Change a segment',
        params: IdParams,
        body: UpdateBody,
        response: { 200: Segment, ...errors },
      },
      config: { access: { scope: 'campaigns:write' } },
    },
    async (request) => segments.update(requireAuth(request).organizationId, request.params.id, request.body),
  );

  app.delete(
    '/segments/:id',
    {
      schema: {
        tags: ['segments'],
        operationId: 'deleteSegment',
        summary: 'Delete a segment',
        description: 'Campaigns that used it keep their frozen recipients; a draft that named it has no audience until another is chosen.',
        params: IdParams,
        response: { 204: NoContent, ...errors },
      },
      config: { access: { scope: 'campaigns:write' } },
    },
    async (request, reply) => {
      await segments.remove(requireAuth(request).organizationId, request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/segments/:id/count',
    {
      schema: {
        tags: ['segments'],
        operationId: 'countSegment',
        summary: 'Count the subscribers a segment matches now',
        params: IdParams,
        response: { 200: Count, ...errors },
      },
      config: { access: { scope: 'campaigns:read' } },
    },
    async (request) => segments.count(requireAuth(request).organizationId, request.params.id),
  );

  app.get(
    '/segments/:id/members',
    {
      schema: {
        tags: ['segments'],
        operationId: 'listSegmentMembers',
        summary: 'The first 50 subscribers a segment matches, newest first',
        params: IdParams,
        response: { 200: Type.Object({ items: Type.Array(Member) }, { additionalProperties: false }), ...errors },
      },
      config: { access: { scope: 'campaigns:read' } },
    },
    async (request) => segments.members(requireAuth(request).organizationId, request.params.id),
  );
};
