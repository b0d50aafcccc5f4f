import pino, { type DestinationStream, type Logger } from 'pino';
import type { Config } from './config/index.ts';
import { maskEmailsIn } from './lib/email.ts';
import { currentLogContext } from './lib/log-context.ts';

/**
 * One pino configuration for every process. Credentials are redacted wherever they might appear;
 * personal data is kept out of log lines by the code that writes them (addresses are masked), and, for
 * text it does not write itself, by the serializers: request URLs and error messages (an SMTP server's
 * "recipient rejected" names the recipient) have their addresses masked.
 */
export function createLogger(config: Pick<Config, 'LOG_LEVEL'>, name: string, destination?: DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    name,
    level: config.LOG_LEVEL,
    // The request id and job of the work in progress (lib/log-context.ts), on every line written for it.
    // A copy: pino merges the line's own fields into the object the mixin returns.
    mixin: () => ({ ...currentLogContext() }),
    serializers: {
      // Fastify's request fields, with the URL's secrets (signed links) taken out.
      req: (request: { method: string; url: string; host?: string; hostname?: string; ip?: string; socket?: { remotePort?: number } }) => ({
        method: request.method,
        url: maskEmailsIn(redactUrl(request.url)),
        host: request.host ?? request.hostname,
        remoteAddress: request.ip,
        remotePort: request.socket?.remotePort,
      }),
      err: (error: unknown) => {
        const serialized = pino.stdSerializers.err(error as Error) as Record<string, unknown>;
        for (const key of ['message', 'stack'] as const) {
          if (typeof serialized[key] === 'string') serialized[key] = maskEmailsIn(serialized[key]);
        }
        return serialized;
      },
    },
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'req.headers["x-api-key"]',
        'req.headers["stripe-signature"]',
        'req.headers["svix-signature"]',
        'req.headers["webhook-signature"]',
        'res.headers["set-cookie"]',
      ],
      censor: '[redacted]',
    },
  };
  // Tests pass a stream to read what was logged; processes write to stdout asynchronously: a line is
  // queued and written by the event loop instead of blocking the request on a write(2) per line (pino
  // flushes what is queued when the process exits).
  return destination ? pino(options, destination) : pino(options, pino.destination({ dest: 1, sync: false }));
}

// Query parameters that carry credentials, and path segments that are tokens themselves.
const SECRET_PARAMS = /([?&](?:token|undo|key|secret|signature)=)[^&#]*/gi;
// `/u/{token}` and the tracking paths `/t/o|c|h/{token}` (a tracked link's token names its message and address).
const TOKEN_PATHS = /^(\/(?:u|t\/[och])\/)[^/?#]+/;

/**
 * A URL as it may be logged: signed tokens in `?token=` (preference, confirmation, login links) and in
 * `/u/{token}` (one-click unsubscribe, which never expires) would let anyone reading the logs act as the
 * subscriber, so they are replaced; so are the tokens of `/t/…` (tracking), which name the message and
 * so the subscriber, even in logs of an organization in privacy mode.
 */
export function redactUrl(url: string): string {
  return url.replace(TOKEN_PATHS, '$1[redacted]').replace(SECRET_PARAMS, '$1[redacted]');
}

export type { Logger };
