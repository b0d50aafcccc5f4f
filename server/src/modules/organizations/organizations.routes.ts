import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { OrganizationService } from './organizations.service.ts';
import { requireSession, requireUser } from '../auth/index.ts';
import { authErrors, ErrorResponse } from '../common.schemas.ts';
import {
  CreatedOrganization,
  CreateOrganizationBody,
  DeleteOrganizationBody,
  MyOrganizationPage,
  Organization,
  PageQuery,
  UpdateOrganizationBody,
} from './organizations.schemas.ts';

export const organizationRoutes: FastifyPluginAsyncTypebox<{ organizations: OrganizationService }> = async (app, { organizations }) => {
  app.post(
    '/organizations',
    {
      schema: {
        tags: ['organizations'],
        operationId: 'createOrganization',
        summary: 'Create an organization; you become its owner',
        body: CreateOrganizationBody,
        response: { 201: CreatedOrganization, 409: ErrorResponse, ...authErrors },
      },
      config: { access: { user: true }, idempotent: true },
    },
    async (request, reply) => {
      const created = await organizations.createForUser(requireUser(request).userId, request.body);
      request.auditNote = { organizationId: created.id, targetId: created.id };
      return reply.code(201).send(created);
    },
  );

  app.get(
    '/organizations',
    {
      schema: {
        tags: ['organizations'],
        operationId: 'listMyOrganizations',
        summary: 'The organizations you belong to, with your role',
        querystring: PageQuery,
        response: { 200: MyOrganizationPage, 400: ErrorResponse, ...authErrors },
      },
      config: { access: { user: true } },
    },
    async (request) => organizations.listForUser(requireUser(request).userId, request.query),
  );

  app.get(
    '/organizations/current',
    {
      schema: {
        tags: ['organizations'],
        operationId: 'getCurrentOrganization',
        summary: 'Settings of the organization this request acts in',
        response: { 200: Organization, 404: ErrorResponse, ...authErrors },
      },
      config: { access: { role: 'viewer' } },
    },
    async (request) => organizations.get(requireSession(request).organizationId),
  );

  app.patch(
    '/organizations/current',
    {
      schema: {
        tags: ['organizations'],
        operationId: 'updateCurrentOrganization',
        summary: 'Change name, slug, locale, postal address or sender defaults',
        body: UpdateOrganizationBody,
        response: { 200: Organization, 409: ErrorResponse, 404: ErrorResponse, ...authErrors },
      },
      config: { access: { role: 'admin' }, audit: { action: 'organization.update', targetType: 'organization' } },
    },
    async (request) => {
      const { organizationId } = requireSession(request);
      request.auditNote = { targetId: organizationId, details: { fields: Object.keys(request.body) } };
      return organizations.update(organizationId, request.body);
    },
  );

  app.delete(
    '/organizations/current',
    {
      schema: {
        tags: ['organizations'],
        operationId: 'deleteCurrentOrganization',
        summary: 'Delete the organization and all its data (owner only; confirm with the slug). Access ends at once; data is purged in the background',
        body: DeleteOrganizationBody,
        response: { 202: Type.Object({ message: Type.String() }), 404: ErrorResponse, ...authErrors },
      },
      config: { access: { role: 'owner' }, audit: { action: 'organization.delete', targetType: 'organization' } },
    },
    async (request, reply) => {
      const { organizationId } = requireSession(request);
      await organizations.requestDeletion(organizationId, request.body.confirm_slug);
      // Recorded outside the organization: its own audit log is purged with it.
      request.auditNote = { organizationId: null, targetId: organizationId };
      return reply.code(202).send({ message: 'The organization is deleted; its data is being removed.' });
    },
  );
};
