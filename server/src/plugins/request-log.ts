import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import { maskEmailsIn } from '../lib/email.ts';
import { redactUrl } from '../logger.ts';

/**
 * One log line per request, written when the response is finished, instead of Fastify's two (one on
 * arrival, one on completion): at `info`, operators' level, request logging is most of what logging
 * costs. A successful request logs what an operator scans for (method, URL with its secrets taken out,
 * status, time); a failed one (4xx/5xx) also the client's address and host, to follow it up, and a
 * response that broke off its error.
 */
export class RequestLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const status = reply.statusCode;
    const line = { method: request.method, url: maskEmailsIn(redactUrl(request.url)), status, ms: Math.round(reply.elapsedTime * 10) / 10 };
    if (error) reply.log.error({ ...line, host: request.host, remote_address: request.ip, err: error }, 'request errored');
    else if (status < 400) reply.log.info(line, 'request');
    else reply.log.info({ ...line, host: request.host, remote_address: request.ip }, 'request failed');
  }
}
