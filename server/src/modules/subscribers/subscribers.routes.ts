import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Config } from '../../config/index.ts';
import type { SubscriberService } from './subscribers.service.ts';
import { isTestKey, requireAuth } from '../auth/index.ts';
import { clientIp } from '../../lib/client-ip.ts';
import { authErrors, ErrorResponse, IdParams, NoContent, Uuid } from '../common.schemas.ts';
import type { Origin } from './subscribers.service.ts';
import {
  AddTagsBody,
  BatchBody,
  BatchBodyDocumented,
  BatchResult,
  ByEmailQuery,
  CreateNoteBody,
  CreateSubscriberBody,
  HistoryPage,
  ListSubscribersQuery,
  Note,
  NotePage,
  PageQuery,
  Subscriber,
  SubscriberPage,
  UpdateSubscriberBody,
} from './subscribers.schemas.ts';

export const subscriberRoutes: FastifyPluginAsyncTypebox<{ config: Pick<Config, 'TRUST_CF_CONNECTING_IP'>; subscribers: SubscriberService }> = async (
  app,
  { config, subscribers },
) => {
  const notFound = { 404: ErrorResponse };
  const origin = (request: FastifyRequest): Origin => ({
    source: 'api',
    ip: clientIp(request, config.TRUST_CF_CONNECTING_IP),
    userAgent: request.headers['user-agent']?.slice(0, 512) ?? null,
    test: isTestKey(request),
  });
  const org = (request: FastifyRequest) => requireAuth(request).organizationId;

  app.post(
    '/subscribers',
    {
      schema: {
        tags: ['subscribers'],
        operationId: 'createSubscriber',
        summary: 'Create a subscriber (unknown tag names are created)',
        body: CreateSubscriberBody,
        response: { 201: Subscriber, 409: ErrorResponse, ...authErrors },
      },
      config: { access: { scope: 'subscribers:write' }, idempotent: true },
    },
    async (request, reply) => reply.code(201).send(await subscribers.create(org(request), request.body, origin(request))),
  );

  app.get(
    '/subscribers',
    {
      schema: {
        tags: ['subscribers'],
        operationId: 'listSubscribers',
        summary: 'List subscribers, newest first',
        querystring: ListSubscribersQuery,
        response: { 200: SubscriberPage, 400: ErrorResponse, ...authErrors },
      },
      config: { access: { scope: 'subscribers:read' } },
    },
    async (request) => subscribers.list(org(request), request.query),
  );

  app.get(
    '/subscribers/by-email',
    {
      schema: {
        tags: ['subscribers'],
        operationId: 'getSubscriberByEmail',
        summary: 'Find a subscriber by email (case-insensitive)',
        querystring: ByEmailQuery,
        response: { 200: Subscriber, ...notFound, ...authErrors },
      },
      config: { access: { scope: 'subscribers:read' } },
    },
    async (request) => subscribers.getByEmail(org(request), request.query.email),
  );

  app.post(
    '/subscribers/batch',
    {
      schema: {
        tags: ['subscribers'],
        operationId: 'batchUpsertSubscribers',
        summary: 'Create or update up to 1,000 subscribers; one result per item',
        body: BatchBody,
        response: { 200: BatchResult, ...authErrors },
      },
      config: { access: { scope: 'subscribers:write' }, idempotent: true, documentedBody: BatchBodyDocumented },
    },
    async (request) => subscribers.batchUpsert(org(request), request.body.subscribers, { ...origin(request), source: request.body.source ?? 'api' }),
  );

  app.get(
    '/subscribers/:id',
    {
      schema: {
        tags: ['subscribers'],
        operationId: 'getSubscriber',
        summary: 'Get a subscriber',
        params: IdParams,
        response: { 200: Subscriber, ...notFound, ...authErrors },
      },
      config: { access: { scope: 'subscribers:read' } },
    },
    async (request) => subscribers.get(org(request), request.params.id),
  );

  app.patch(
    '/subscribers/:id',
    {
      schema: {
        tags: ['subscribers'],
        operationId: 'updateSubscriber',
        summary: 'Change email, names, metadata or status',
        params: IdParams,
        body: UpdateSubscriberBody,
        response: { 200: Subscriber, 409: ErrorResponse, ...notFound, ...authErrors },
      },
      config: { access: { scope: 'subscribers:write' } },
    },
    async (request) => subscribers.update(org(request), request.params.id, request.body, origin(request)),
  );

  app.delete(
    '/subscribers/:id',
    {
      schema: {
        tags: ['subscribers'],
        operationId: 'deleteSubscriber',
        summary: 'Erase a subscriber with their tags, history and notes (GDPR)',
        params: IdParams,
        response: { 204: NoContent, ...notFound, ...authErrors },
      },
      config: { access: { scope: 'subscribers:delete' } },
    },
    async (request, reply) => {
      await subscribers.delete(org(request), request.params.id, origin(request));
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/subscribers/:id/tags',
    {
      schema: {
        tags: ['subscribers'],
        operationId: 'addSubscriberTags',
        summary: 'Subscribe to more tags, keeping the others',
        params: IdParams,
        body: AddTagsBody,
        response: { 200: Subscriber, ...notFound, ...authErrors },
      },
      config: { access: { scope: 'subscribers:write' } },
    },
    async (request) => subscribers.addTags(org(request), request.params.id, request.body.tags, origin(request)),
  );

  app.delete(
    '/subscribers/:id/tags/:slug',
    {
      schema: {
        tags: ['subscribers'],
        operationId: 'removeSubscriberTag',
        summary: 'Unsubscribe from one tag',
        params: Type.Object({ id: Uuid, slug: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false }),
        response: { 200: Subscriber, ...notFound, ...authErrors },
      },
      config: { access: { scope: 'subscribers:write' } },
    },
    async (request) => subscribers.removeTag(org(request), request.params.id, request.params.slug, origin(request)),
  );

  app.get(
    '/subscribers/:id/events',
    {
      schema: {
        tags: ['subscribers'],
        operationId: 'listSubscriberEvents',
        summary: 'Consent history, newest first',
        params: IdParams,
        querystring: PageQuery,
        response: { 200: HistoryPage, ...notFound, ...authErrors },
      },
      config: { access: { scope: 'subscribers:read' } },
    },
    async (request) => subscribers.history(org(request), request.params.id, request.query),
  );

  app.post(
    '/subscribers/:id/notes',
    {
      schema: {
        tags: ['subscribers'],
        operationId: 'createSubscriberNote',
        summary: 'Add an internal note',
        params: IdParams,
        body: CreateNoteBody,
        response: { 201: Note, ...notFound, ...authErrors },
      },
      config: { access: { scope: 'subscribers:write' }, idempotent: true },
    },
    async (request, reply) => {
      const auth = requireAuth(request);
      return reply.code(201).send(await subscribers.addNote(auth.organizationId, request.params.id, request.body.body, auth.actor));
    },
  );

  app.get(
    '/subscribers/:id/notes',
    {
      schema: {
        tags: ['subscribers'],
        operationId: 'listSubscriberNotes',
        summary: 'Notes, newest first',
        params: IdParams,
        querystring: PageQuery,
        response: { 200: NotePage, ...notFound, ...authErrors },
      },
      config: { access: { scope: 'subscribers:read' } },
    },
    async (request) => subscribers.notes(org(request), request.params.id, request.query),
  );
};
