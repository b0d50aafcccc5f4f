import type { FastifyInstance, FastifyRequest, onSendAsyncHookHandler, preHandlerAsyncHookHandler } from 'fastify';
import type { Config } from '../config/index.ts';
import type { IdempotencyStore } from '../lib/idempotency.ts';
import { AppError } from '../lib/errors.ts';
import { sha256Hex } from '../lib/crypto.ts';
import { clientIp } from '../lib/client-ip.ts';
import { appendRouteHook } from './route-hooks.ts';

declare module 'fastify' {
  interface FastifyRequest {
    idempotency: { scope: string; key: string; hash: string } | null;
  }
}

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/**
 * `Idempotency-Key` on creating and sending POSTs (routes with `config.idempotent`): the same key and
 * body answer with the first response again; the same key with another body is refused; a key whose
 * first request is still running gets 409. 5xx answers are not stored, so a retry can succeed.
 */
export function registerIdempotency(app: FastifyInstance, deps: { store: IdempotencyStore; config: Pick<Config, 'TRUST_CF_CONNECTING_IP'> }): void {
  const { store, config } = deps;
  app.decorateRequest('idempotency', null);

  const begin: preHandlerAsyncHookHandler = async (request: FastifyRequest, reply) => {
    const header = request.headers['idempotency-key'];
    if (header === undefined) return;
    const key = Array.isArray(header) ? header[0] : header;
    if (!key || !KEY_PATTERN.test(key)) {
      throw new AppError(400, 'invalid_idempotency_key', 'Idempotency-Key must be 1 to 255 printable ASCII characters');
    }
    const scope = request.auth ? `org:${request.auth.organizationId}` : `ip:${clientIp(request, config.TRUST_CF_CONNECTING_IP)}`;
    const hash = sha256Hex(`${request.method} ${request.routeOptions.url} ${JSON.stringify(request.params)} ${JSON.stringify(request.body ?? null)}`);
    const result = await store.begin(scope, key, hash);
    if (result.state === 'mismatch') {
      throw new AppError(422, 'idempotency_key_reused', 'This Idempotency-Key was already used with a different request');
    }
    if (result.state === 'in_flight') {
      throw new AppError(409, 'idempotency_key_in_use', 'A request with this Idempotency-Key is still being processed');
    }
    if (result.state === 'replay') {
      return reply.code(result.response.status).header('idempotency-replayed', 'true').type(result.response.contentType).send(result.response.body);
    }
    request.idempotency = { scope, key, hash };
  };

  const finish: onSendAsyncHookHandler<unknown> = async (request, reply, payload) => {
    const pending = request.idempotency;
    if (!pending) return payload;
    request.idempotency = null;
    // The handler's work is done (committed, for a success): losing Redis now must not turn that answer
    // into an error the client would retry. Unrecorded, the key stays "in flight" until its marker
    // expires (60 s), so a quick retry gets 409 rather than running again.
    try {
      if (reply.statusCode >= 500 || typeof payload !== 'string') {
        await store.abandon(pending.scope, pending.key);
      } else {
        const contentType = String(reply.getHeader('content-type') ?? 'application/json; charset=utf-8');
        await store.complete(pending.scope, pending.key, pending.hash, { status: reply.statusCode, contentType, body: payload });
      }
    } catch (error) {
      request.log.warn({ err: error }, 'could not record the Idempotency-Key outcome');
    }
    return payload;
  };

  // Only the routes that declare `idempotent` run these hooks.
  app.addHook('onRoute', (route) => {
    if (!route.config?.idempotent) return;
    appendRouteHook(route, 'preHandler', begin);
    appendRouteHook(route, 'onSend', finish);
  });
}
