import pino, { type Logger } from 'pino';
import type { Config } from './config/index.ts';

/**
 * One pino configuration for every process. Credentials are redacted wherever they might appear;
 * personal data is kept out of log lines by the code that writes them (addresses are masked).
 */
export function createLogger(config: Pick<Config, 'LOG_LEVEL'>, name: string): Logger {
  return pino({
    name,
    level: config.LOG_LEVEL,
    serializers: {
      // Fastify's request fields, with the URL's secrets (signed links) taken out.
      req: (request: { method: string; url: string; host?: string; hostname?: string; ip?: string; socket?: { remotePort?: number } }) => ({
        method: request.method,
        url: redactUrl(request.url),
        host: request.host ?? request.hostname,
        remoteAddress: request.ip,
        remotePort: request.socket?.remotePort,
      }),
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
  });
}

// Query parameters that carry credentials, and path segments that are tokens themselves.
const SECRET_PARAMS = /([?&](?:token|undo|key|secret|signature)=)[^&#]*/gi;
const TOKEN_PATHS = /^(\/u\/)[^/?#]+/;

/**
 * A URL as it may be logged: signed tokens in `?token=` (preference, confirmation, login links) and in
 * `/u/{token}` (one-click unsubscribe, which never expires) would let anyone reading the logs act as the
 * subscriber, so they are replaced.
 */
export function redactUrl(url: string): string {
  return url.replace(TOKEN_PATHS, '$1[redacted]').replace(SECRET_PARAMS, '$1[redacted]');
}

export type { Logger };
