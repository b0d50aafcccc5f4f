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

export type { Logger };
