import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { requireSession } from '../auth/index.ts';
import { authErrors, ErrorResponse } from '../common.schemas.ts';
import { ContactSyncStatus, FullSyncResponse } from './contact-sync.schemas.ts';
import type { ContactSyncService } from './contact-sync.service.ts';

/** The dashboard's view of the Resend contact sync: admins only (it is a setting of the organization). */
export const contactSyncRoutes: FastifyPluginAsyncTypebox<{ contactSync: Pick<ContactSyncService, 'status' | 'syncEverything'> }> = async (
  app,
  { contactSync },
) => {
  app.get(
    '/contact-sync',
    {
      schema: {
        tags: ['organizations'],
        operationId: 'getContactSyncStatus',
        summary: 'How the mirror to Resend Contacts is doing: waiting and failed changes, the last full sync, the last error',
        response: { 200: ContactSyncStatus, ...authErrors },
      },
      config: { access: { role: 'admin' } },
    },
    async (request) => contactSync.status(requireSession(request).organizationId),
  );

  app.post(
    '/contact-sync/full-sync',
    {
      schema: {
        tags: ['organizations'],
        operationId: 'startContactFullSync',
        summary: 'Send every subscriber to Resend again (contacts deleted at Resend stay left alone)',
        response: { 202: FullSyncResponse, 409: ErrorResponse, ...authErrors },
      },
      config: { access: { role: 'admin' }, audit: { action: 'contact_sync.full_sync', targetType: 'organization' } },
    },
    async (request, reply) => {
      const { organizationId } = requireSession(request);
      request.auditNote = { targetId: organizationId };
      return reply.code(202).send(await contactSync.syncEverything(organizationId));
    },
  );
};
