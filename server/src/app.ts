import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type RawServerDefault } from 'fastify';
import type { Redis } from 'ioredis';
import type { Config } from './config/index.ts';
import type { ErrorReporter } from './error-reporting.ts';
import type { IdempotencyStore } from './lib/idempotency.ts';
import { REQUEST_ID, runWithLogContext } from './lib/log-context.ts';
import { RequestLog } from './plugins/request-log.ts';
import type { Logger } from './logger.ts';
import { registerHttpMetrics } from './metrics/http.ts';
import type { ApiMetrics } from './metrics/registry.ts';
import type { ApiKeyService } from './modules/api-keys/index.ts';
import type { AuthService } from './modules/auth/index.ts';
import type { Module } from './modules/module.ts';
import { registerAuth } from './plugins/auth.ts';
import { registerErrorHandler } from './plugins/error-handler.ts';
import { registerIdempotency } from './plugins/idempotency.ts';
import { registerOpenApi } from './plugins/openapi.ts';
import { registerRateLimit } from './plugins/rate-limit.ts';
import { registerSecurityHeaders } from './plugins/security-headers.ts';
import { registerValidation } from './plugins/validation.ts';

/** What the HTTP application needs from the composition root: the core plugins' dependencies and the modules. */
export interface AppDeps {
  config: Readonly<Config>;
  logger: Logger;
  errors: ErrorReporter;
  redis: Redis;
  idempotency: IdempotencyStore;
  services: { auth: AuthService; apiKeys: Pick<ApiKeyService, 'authenticate'> };
  modules: readonly Module[];
}

export type App = FastifyInstance<RawServerDefault>;

/**
 * The Fastify application without listen(): the API entry point and the tests both use it. With
 * `metrics`, every response is timed into them (the API process serves them on its internal port).
 */
export async function buildApp(container: AppDeps, options: { metrics?: ApiMetrics } = {}): Promise<App> {
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
    // One line per request, written on completion (plugins/request-log.ts), instead of two.
    logController: new RequestLog(),
    // Signed tokens in paths (one-click unsubscribe links, tracked links carrying their address) are
    // longer than the router's default of 100; the token signer refuses anything over 2,048 anyway.
    routerOptions: { maxParamLength: 2048 },
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
  await registerAuth(app, { config, auth: container.services.auth, apiKeys: container.services.apiKeys });
  registerIdempotency(app, { store: container.idempotency, config });
  // App-wide hooks of modules (audit of every mutation, CORS for the web apps), before any route.
  for (const module of container.modules) await module.hooks?.(app);

  await app.register(
    async (api) => {
      for (const module of container.modules) if (module.routes) await api.register(module.routes);
    },
    { prefix: '/api/v1' },
  );
  // Outside /api/v1: health, provider webhooks (raw-body signature checks), one-click unsubscribe, the static sites.
  for (const module of container.modules) if (module.rootRoutes) await app.register(module.rootRoutes);

  app.get('/openapi.json', { schema: { hide: true }, config: { rateLimit: false } }, async () => app.swagger());
  return app;
}
