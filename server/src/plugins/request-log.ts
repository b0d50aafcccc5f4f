import type { FastifyInstance } from 'fastify';
import { maskEmailsIn } from '../lib/email.ts';
import { redactUrl } from '../logger.ts';

/**
 * One log line per request, written when the response is finished, instead of Fastify's two (one on
 * arrival, one on completion): at `info`, operators' level, request logging is most of what logging
 * costs. A successful request logs what an operator scans for (method, URL with its secrets taken out,
 * status, time); a failed one (4xx/5xx) also the client's address and host, to follow it up.
 */
export function registerRequestLog(app: FastifyInstance): void {
  app.addHook('onResponse', (request, reply, done) => {
    const status = reply.statusCode;
    const line = { method: request.method, url: maskEmailsIn(redactUrl(request.url)), status, ms: Math.round(reply.elapsedTime * 10) / 10 };
    if (status < 400) request.log.info(line, 'request');
    else request.log.info({ ...line, host: request.host, remote_address: request.ip }, 'request failed');
    done();
  });
}
