import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { DomainService } from './domains.service.ts';
import { requireAuth } from '../auth/index.ts';
import { authErrors, ErrorResponse, IdParams, NoContent } from '../common.schemas.ts';
import { CreateDomainBody, Domain, DomainPage, EmailSettings, ListDomainsQuery, UpdateEmailSettingsBody } from './domains.schemas.ts';

// Sender settings are organization administration: dashboard sessions (admins change, viewers read).
export const domainRoutes: FastifyPluginAsyncTypebox<{ domains: DomainService }> = async (app, { domains }) => {
  const org = (request: Parameters<typeof requireAuth>[0]) => requireAuth(request).organizationId;
  const errors = { 404: ErrorResponse, 409: ErrorResponse, 503: ErrorResponse, ...authErrors };

  app.post(
    '/settings/domains',
    {
      schema: {
        tags: ['settings'],
        operationId: 'createSendingDomain',
        summary: 'Register a sending domain; answers with the DNS records to publish',
        body: CreateDomainBody,
        response: { 201: Domain, ...errors },
      },
      config: { access: { role: 'admin' }, idempotent: true },
    },
    async (request, reply) => reply.code(201).send(await domains.create(org(request), request.body)),
  );

  app.get(
    '/settings/domains',
    {
      schema: {
        tags: ['settings'],
        operationId: 'listSendingDomains',
        summary: 'Sending domains, newest first',
        querystring: ListDomainsQuery,
        response: { 200: DomainPage, 400: ErrorResponse, ...authErrors },
      },
      config: { access: { role: 'viewer' } },
    },
    async (request) => domains.list(org(request), request.query),
  );

  app.get(
    '/settings/domains/:id',
    {
      schema: {
        tags: ['settings'],
        operationId: 'getSendingDomain',
        summary: 'A sending domain with its DNS records and their state',
        params: IdParams,
        response: { 200: Domain, ...errors },
      },
      config: { access: { role: 'viewer' } },
    },
    async (request) => domains.get(org(request), request.params.id),
  );

  app.post(
    '/settings/domains/:id/verify',
    {
      schema: {
        tags: ['settings'],
        operationId: 'verifySendingDomain',
        summary: 'Ask the provider to check the DNS records now',
        params: IdParams,
        response: { 200: Domain, ...errors },
      },
      config: { access: { role: 'admin' } },
    },
    async (request) => domains.verify(org(request), request.params.id),
  );

  app.delete(
    '/settings/domains/:id',
    {
      schema: {
        tags: ['settings'],
        operationId: 'deleteSendingDomain',
        summary: 'Remove a sending domain here and at the provider',
        params: IdParams,
        response: { 204: NoContent, ...errors },
      },
      config: { access: { role: 'admin' } },
    },
    async (request, reply) => {
      await domains.remove(org(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/settings/email',
    {
      schema: {
        tags: ['settings'],
        operationId: 'getEmailSettings',
        summary: 'Sender name and address, and the From header mail gets now',
        response: { 200: EmailSettings, ...authErrors },
      },
      config: { access: { role: 'viewer' } },
    },
    async (request) => domains.emailSettings(org(request)),
  );

  app.patch(
    '/settings/email',
    {
      schema: {
        tags: ['settings'],
        operationId: 'updateEmailSettings',
        summary: 'Change the sender name or address (the address must be on a verified domain)',
        body: UpdateEmailSettingsBody,
        response: { 200: EmailSettings, ...authErrors },
      },
      config: { access: { role: 'admin' } },
    },
    async (request) => domains.updateEmailSettings(org(request), request.body),
  );
};
