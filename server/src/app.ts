import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type RawServerDefault } from 'fastify';
import type { Container } from './container.ts';
import { REQUEST_ID, runWithLogContext } from './lib/log-context.ts';
import { registerHttpMetrics } from './metrics/http.ts';
import type { ApiMetrics } from './metrics/registry.ts';
import { registerSecurityHeaders } from './plugins/security-headers.ts';
import { registerAuth } from './plugins/auth.ts';
import { registerAudit } from './modules/audit/audit.hook.ts';
import { registerErrorHandler } from './plugins/error-handler.ts';
import { registerIdempotency } from './plugins/idempotency.ts';
import { registerOpenApi } from './plugins/openapi.ts';
import { registerRateLimit } from './plugins/rate-limit.ts';
import { registerValidation } from './plugins/validation.ts';
import { healthRoutes } from './modules/health/health.routes.ts';
import { apiKeyRoutes } from './modules/api-keys/api-keys.routes.ts';
import { subscriberRoutes } from './modules/subscribers/subscribers.routes.ts';
import { tagRoutes } from './modules/tags/tags.routes.ts';
import { preferenceCenterRoutes } from './modules/preference-center/preference-center.routes.ts';
import { preferenceSettingsRoutes } from './modules/preference-center/settings.routes.ts';
import { registerPreferenceSite } from './modules/preference-center/site.ts';
import { publicSubscribeRoutes } from './modules/public-subscribe/public-subscribe.routes.ts';
import { authRoutes } from './modules/auth/auth.routes.ts';
import { organizationRoutes } from './modules/organizations/organizations.routes.ts';
import { memberRoutes } from './modules/members/members.routes.ts';
import { invitationRoutes } from './modules/invitations/invitations.routes.ts';
import { platformRoutes } from './modules/platform/platform.routes.ts';
import { auditRoutes } from './modules/audit/audit.routes.ts';
import { devMailboxRoutes } from './modules/email/dev-mailbox.routes.ts';
import { templateRoutes } from './modules/templates/templates.routes.ts';
import { emailRoutes } from './modules/email/email.routes.ts';
import { domainRoutes } from './modules/domains/domains.routes.ts';
import { providerHookRoutes } from './modules/hooks/hooks.routes.ts';
import { unsubscribeRoutes } from './modules/unsubscribe/unsubscribe.routes.ts';
import { statsRoutes } from './modules/stats/stats.routes.ts';
import { registerAdminSite } from './modules/admin-site/admin-site.ts';
import { registerAppCors } from './modules/admin-site/app-cors.ts';

export type App = FastifyInstance<RawServerDefault>;

/**
 * The Fastify application without listen(): the API entry point and the tests both use it. With
 * `metrics`, every response is timed into them (the API process serves them on its internal port).
 */
export async function buildApp(container: Container, options: { metrics?: ApiMetrics } = {}): Promise<App> {
  const { config } = container;
  const app = Fastify({
    loggerInstance: container.logger,
    bodyLimit: config.BODY_LIMIT_BYTES,
    // A hop count is valid at runtime though Fastify's types only list the other forms.
    trustProxy: config.TRUST_PROXY as boolean | string[],
    requestIdHeader: false,
    // Accept the caller's id (a proxy's or a client's) when it is a sane token, else make one.
    genReqId: (request) => {
      const header = request.headers['x-request-id'];
      return typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
    },
    return503OnClosing: true,
    // Signed tokens in paths (one-click unsubscribe links) are longer than the router's default of 100.
    routerOptions: { maxParamLength: 1024 },
    forceCloseConnections: 'idle',
  }) as unknown as App;

  app.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    done();
  });
  // The handler and everything it starts (services, jobs it enqueues, work after the response) run with
  // the request id in their log context (lib/log-context.ts). A callback hook, so that the rest of the
  // chain is called from inside the context; preHandler, because body parsing before it would lose it.
  app.addHook('preHandler', (request, _reply, done) => {
    runWithLogContext({ request_id: request.id }, done);
  });
  if (options.metrics) registerHttpMetrics(app, options.metrics);

  registerSecurityHeaders(app);
  registerValidation(app);
  registerErrorHandler(app, container.errors);
  await registerOpenApi(app, config.PUBLIC_API_URL);
  await registerRateLimit(app, container);
  await registerAuth(app, container);
  registerIdempotency(app, container);
  registerAudit(app, container);
  registerAppCors(app, container);

  await app.register(healthRoutes, { container });
  await app.register(
    async (api) => {
      await api.register(apiKeyRoutes, { container });
      await api.register(subscriberRoutes, { container });
      await api.register(tagRoutes, { container });
      await api.register(preferenceCenterRoutes, { container });
      await api.register(preferenceSettingsRoutes, { container });
      await api.register(publicSubscribeRoutes, { container });
      await api.register(authRoutes, { container });
      await api.register(organizationRoutes, { container });
      await api.register(memberRoutes, { container });
      await api.register(invitationRoutes, { container });
      await api.register(platformRoutes, { container });
      await api.register(auditRoutes, { container });
      await api.register(devMailboxRoutes, { container });
      await api.register(templateRoutes, { container });
      await api.register(emailRoutes, { container });
      await api.register(domainRoutes, { container });
      await api.register(statsRoutes, { container });
    },
    { prefix: '/api/v1' },
  );
  // Outside /api/v1: provider webhooks (raw-body signature checks) and RFC 8058 one-click unsubscribe.
  await app.register(providerHookRoutes, { container });
  await app.register(unsubscribeRoutes, { container });

  await registerPreferenceSite(app, container);
  await registerAdminSite(app, container);

  app.get('/openapi.json', { schema: { hide: true }, config: { rateLimit: false } }, async () => app.swagger());
  return app;
}
