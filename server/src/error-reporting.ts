import type * as SentryModule from '@sentry/node';
import type { Config } from './config/index.ts';
import { redactUrl, type Logger } from './logger.ts';

/** Context sent with a reported error: ids only (request, job, organization), never addresses or bodies. */
export type ErrorContext = Record<string, string | number | undefined>;

export interface ErrorReporter {
  /** Reports an error nobody handled: a 500 from the API or a job that failed for good. */
  capture(error: unknown, context?: ErrorContext): void;
  /** Sends what is still buffered; called on shutdown. */
  close(timeoutMs?: number): Promise<void>;
}

/** Without SENTRY_DSN errors are only logged; this reporter does nothing. */
export const noErrorReporter: ErrorReporter = {
  capture: () => undefined,
  close: async () => undefined,
};

// The SDK is imported only when a DSN is set, so processes (and tests) without one neither load it nor
// let it touch the network or patch any module.
const KEPT_INTEGRATIONS = new Set([
  'EventFilters',
  'FunctionToString',
  'LinkedErrors',
  'Dedupe',
  'NodeSystemError',
  'OnUncaughtException',
  'OnUnhandledRejection',
  'ContextLines',
  'Context',
]);
type TransportOption = NonNullable<Parameters<typeof SentryModule.init>[0]>['transport'];

/**
 * Sentry when SENTRY_DSN is set, otherwise nothing. Called by each entry point before anything else
 * starts. Events carry ids for correlation; breadcrumbs are off and request data is stripped to the
 * method and a redacted URL, because headers, cookies and signed links in query strings must not leave
 * the installation.
 */
export async function startErrorReporter(
  config: Pick<Config, 'SENTRY_DSN'>,
  processName: string,
  options: { logger?: Pick<Logger, 'warn'>; release?: string; transport?: TransportOption } = {},
): Promise<ErrorReporter> {
  if (!config.SENTRY_DSN) return noErrorReporter;
  const Sentry = await import('@sentry/node');
  const client = Sentry.init({
    dsn: config.SENTRY_DSN,
    serverName: processName,
    ...(options.release ? { release: options.release } : {}),
    ...(options.transport ? { transport: options.transport } : {}),
    // Nothing about people or requests beyond what beforeSend keeps: no user, cookies, headers, bodies,
    // query strings or local variables.
    dataCollection: {
      userInfo: false,
      cookies: false,
      httpHeaders: false,
      httpBodies: [],
      urlQueryParams: false,
      databaseQueryData: false,
      stackFrameVariables: false,
    },
    maxBreadcrumbs: 0,
    // Errors only: no module patching at load time, no tracing, and none of the framework and HTTP
    // integrations, which would report the API's errors a second time without our ids and attach request
    // data. What is reported is what the error handler and the worker pass to capture(), plus crashes.
    enableRuntimeChannelInjection: false,
    integrations: (defaults) => defaults.filter((integration) => KEPT_INTEGRATIONS.has(integration.name)),
    initialScope: { tags: { process: processName } },
    beforeSend(event) {
      if (event.request) {
        event.request = {
          ...(event.request.method ? { method: event.request.method } : {}),
          ...(event.request.url ? { url: redactUrl(new URL(event.request.url, 'http://localhost').pathname) } : {}),
        };
      }
      delete event.user;
      return event;
    },
  });
  if (!client) {
    options.logger?.warn('SENTRY_DSN is set but Sentry did not start; errors are only logged');
    return noErrorReporter;
  }
  return {
    capture(error, context = {}) {
      const tags = Object.fromEntries(Object.entries(context).filter(([, value]) => value !== undefined)) as Record<string, string | number>;
      Sentry.captureException(error, { tags });
    },
    async close(timeoutMs = 2000) {
      await Sentry.close(timeoutMs);
    },
  };
}
