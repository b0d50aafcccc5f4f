import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { TagService } from './tags.service.ts';
import { requireAuth } from '../auth/index.ts';
import { authErrors, ErrorResponse, IdParams, NoContent } from '../common.schemas.ts';
import { CreateTagBody, ListTagsQuery, Tag, TagOrderBody, TagOrderResponse, TagPage, UpdateTagBody } from './tags.schemas.ts';

export const tagRoutes: FastifyPluginAsyncTypebox<{ tags: TagService }> = async (app, { tags }) => {
  const notFound = { 404: ErrorResponse };

  app.post(
    '/tags',
    {
      schema: {
        tags: ['tags'],
        operationId: 'createTag',
        summary: 'Create a tag',
        body: CreateTagBody,
        response: { 201: Tag, 409: ErrorResponse, ...authErrors },
      },
      config: { access: { scope: 'tags:write' }, idempotent: true },
    },
    async (request, reply) => reply.code(201).send(await tags.create(requireAuth(request).organizationId, request.body)),
  );

  app.get(
    '/tags',
    {
      schema: {
        tags: ['tags'],
        operationId: 'listTags',
        summary: 'List tags, newest first',
        querystring: ListTagsQuery,
        response: { 200: TagPage, ...authErrors },
      },
      config: { access: { scope: 'tags:read' } },
    },
    async (request) => tags.list(requireAuth(request).organizationId, request.query),
  );

  app.put(
    '/tags/order',
    {
      schema: {
        tags: ['tags'],
        operationId: 'setTagOrder',
        summary: 'Set the order of topics (and so of categories) in the preference center',
        body: TagOrderBody,
        response: { 200: TagOrderResponse, ...authErrors },
      },
      config: { access: { scope: 'tags:write' } },
    },
    async (request) => tags.setOrder(requireAuth(request).organizationId, request.body.tag_ids),
  );

  app.get(
    '/tags/by-name/:name',
    {
      schema: {
        tags: ['tags'],
        operationId: 'getTagByName',
        summary: 'Find a tag by name or slug',
        params: Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }) }),
        response: { 200: Tag, ...notFound, ...authErrors },
      },
      config: { access: { scope: 'tags:read' } },
    },
    async (request) => tags.getByName(requireAuth(request).organizationId, request.params.name),
  );

  app.get(
    '/tags/:id',
    {
      schema: { tags: ['tags'], operationId: 'getTag', summary: 'Get a tag', params: IdParams, response: { 200: Tag, ...notFound, ...authErrors } },
      config: { access: { scope: 'tags:read' } },
    },
    async (request) => tags.get(requireAuth(request).organizationId, request.params.id),
  );

  app.patch(
    '/tags/:id',
    {
      schema: {
        tags: ['tags'],
        operationId: 'updateTag',
        summary: 'Update a tag',
        params: IdParams,
        body: UpdateTagBody,
        response: { 200: Tag, 409: ErrorResponse, ...notFound, ...authErrors },
      },
      config: { access: { scope: 'tags:write' } },
    },
    async (request) => tags.update(requireAuth(request).organizationId, request.params.id, request.body),
  );

  app.delete(
    '/tags/:id',
    {
      schema: {
        tags: ['tags'],
        operationId: 'deleteTag',
        summary: 'Delete a tag and every subscription to it',
        params: IdParams,
        response: { 204: NoContent, ...notFound, ...authErrors },
      },
      config: { access: { scope: 'tags:write' } },
    },
    async (request, reply) => {
      await tags.delete(requireAuth(request).organizationId, request.params.id);
      return reply.code(204).send(null);
    },
  );
};
