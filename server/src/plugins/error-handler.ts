import type { FastifyError, FastifyInstance } from 'fastify';
import type { ErrorReporter } from '../error-reporting.ts';
import { AppError, type ErrorDetail } from '../lib/errors.ts';
import { validationDetails } from '../lib/validation-details.ts';
import { isDependencyUnavailable } from '../lib/unavailable.ts';

interface ErrorBody {
  error: { code: string; message: string; details?: unknown[]; request_id: string };
}

// Fastify's own errors that are the caller's fault, mapped to our stable codes.
const FASTIFY_CODES: Record<string, { status: number; code: string; message: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'invalid_json', message: 'The request body is not valid JSON' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'invalid_json', message: 'The request body is empty but the content type is JSON' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'payload_too_large', message: 'The request body is too large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'unsupported_media_type', message: 'Send the request body as application/json' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'invalid_content_length', message: 'The Content-Length header does not match the body' },
};

// How long a caller is asked to wait when PostgreSQL or Redis is unreachable: a restart or failover takes seconds.
const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/** The one place where errors become responses: stable code, public message, never a stack or SQL. */
export function registerErrorHandler(app: FastifyInstance, errors: ErrorReporter): void {
  app.setErrorHandler((error: FastifyError | AppError, request, reply) => {
    const body = (code: string, message: string, details?: ErrorDetail[]): ErrorBody => ({
      // Every detail has a code (the documented shape). One a module gave without a code is a rule of the
      // operation whose message is written for people ("no such template"): `rejected`, which apps show as is.
      error: { code, message, ...(details ? { details: details.map((d) => ({ ...d, code: d.code ?? 'rejected' })) } : {}), request_id: request.id },
    });

    // A dependency that is down (connection refused or lost, server restarting, command timed out) is a
    // state to wait out, not a fault: 503 with Retry-After, logged but not reported. Checked before
    // AppError so that a 500 wrapping such a cause is answered the same way; other AppErrors keep theirs.
    if ((!(error instanceof AppError) || error.status === 500) && isDependencyUnavailable(error)) {
      request.log.warn({ err: error }, 'a dependency is unavailable');
      void reply.header('retry-after', String(UNAVAILABLE_RETRY_AFTER_SECONDS));
      return reply.code(503).send(body('service_unavailable', 'A service this request needs is unavailable; retry after the time in the Retry-After header'));
    }
    if (error instanceof AppError) {
      if (error.headers) void reply.headers(error.headers);
      if (error.status >= 500) {
        request.log.error({ err: error.cause ?? error }, error.message);
        // 503s say a dependency is busy or down (and are logged); only a 500 is a fault worth a report.
        if (error.status === 500) errors.capture(error.cause ?? error, { request_id: request.id, route: request.routeOptions.url, code: error.code });
      }
      return reply.code(error.status).send(body(error.code, error.message, error.details));
    }
    const fastifyError = error as FastifyError;
    if (fastifyError.validation) {
      const details = validationDetails(fastifyError.validation, fastifyError.validationContext ?? 'body');
      return reply.code(422).send(body('validation_error', 'The request is not valid', details));
    }
    const known = fastifyError.code ? FASTIFY_CODES[fastifyError.code] : undefined;
    if (known) return reply.code(known.status).send(body(known.code, known.message));
    if (fastifyError instanceof SyntaxError && fastifyError.statusCode === 400) {
      return reply.code(400).send(body('invalid_json', 'The request body is not valid JSON'));
    }
    if (fastifyError.statusCode === 429) {
      return reply.code(429).send(body('rate_limited', 'Too many requests; retry after the time in the Retry-After header'));
    }
    if (fastifyError.statusCode && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
      return reply.code(fastifyError.statusCode).send(body('bad_request', 'The request could not be processed'));
    }
    request.log.error({ err: error }, 'unhandled error');
    errors.capture(error, { request_id: request.id, route: request.routeOptions.url });
    return reply.code(500).send(body('internal_error', 'Something went wrong on our side; the request id identifies it in our logs'));
  });

  app.setNotFoundHandler((request, reply) => {
    return reply
      .code(404)
      .send({ error: { code: 'route_not_found', message: `No route for ${request.method} ${request.url.split('?')[0]}`, request_id: request.id } });
  });
}
