import { Type } from 'typebox';

/**
 * Every environment variable the server reads. Property names are the variable names; each carries a
 * description (the docs site's configuration reference is generated from it) and, where sensible, a
 * default that makes `npm start` work on a developer machine with local PostgreSQL and Redis.
 */
export const configSchema = Type.Object({
  HOST: Type.String({ default: '127.0.0.1', description: 'Interface the API listens on. Use 0.0.0.0 in containers.' }),
  PORT: Type.Integer({ default: 3000, minimum: 1, maximum: 65535, description: 'Port the API listens on.' }),
  LOG_LEVEL: Type.Union([Type.Literal('fatal'), Type.Literal('error'), Type.Literal('warn'), Type.Literal('info'), Type.Literal('debug'), Type.Literal('trace'), Type.Literal('silent')], { default: 'info', description: 'pino log level.' }),

  DATABASE_URL: Type.String({ default: 'postgres://postgres@127.0.0.1:5432/subscribe_flow', description: 'PostgreSQL connection string (PostgreSQL 15 or newer).' }),
  DATABASE_POOL_MAX: Type.Integer({ default: 10, minimum: 1, maximum: 200, description: 'Maximum connections in each process\'s PostgreSQL pool.' }),
  REDIS_URL: Type.String({ default: 'redis://127.0.0.1:6379', description: 'Redis connection string. Redis holds sessions, rate limits, idempotency records and the job queues; run it with AOF and maxmemory-policy noeviction.' }),
  REDIS_PREFIX: Type.String({ default: 'sf', pattern: '^[A-Za-z0-9_-]{1,32}$', description: 'Prefix for every Redis key, so several stacks can share one Redis.' }),

  PUBLIC_API_URL: Type.String({ default: 'http://localhost:3000', description: 'Public base URL of the API, used in links inside emails (one-click unsubscribe, confirmations).' }),
  ADMIN_APP_URL: Type.String({ default: 'http://localhost:3000/admin', description: 'Public URL of the admin dashboard, used in magic-link and invitation emails.' }),
  PREFERENCES_APP_URL: Type.String({ default: 'http://localhost:3000/preferences', description: 'Public URL of the preference center, used in preference links.' }),
  WEB_DIST_DIR: Type.String({ default: '', description: 'Folder holding the built web apps (web/dist). When its preferences/ build exists, the API serves the preference center at /preferences/ (single-box mode). Empty means the web/dist folder of this checkout.' }),
  RATE_LIMIT_PREFERENCE_TOKEN_PER_MINUTE: Type.Integer({ default: 120, minimum: 1, description: 'Requests per minute allowed for one preference-center link (counted per subscriber; requests with a bad link count per client IP).' }),
  RATE_LIMIT_PUBLIC_FORM_PER_MINUTE: Type.Integer({ default: 10, minimum: 1, description: 'Subscribe-form posts and "send me a new link" requests allowed per client IP per minute.' }),
  PUBLIC_EMAILS_PER_ADDRESS_PER_HOUR: Type.Integer({ default: 5, minimum: 1, description: 'Confirmation and preference-link emails that public requests may trigger for one address per hour.' }),
  CORS_ORIGINS: Type.String({ default: '', description: 'Comma-separated origins allowed to call the API from a browser with credentials (the admin and preference apps when served from another origin).' }),
  TRUST_PROXY: Type.String({ default: 'false', description: 'Fastify trustProxy: "false", "true", a hop count, or comma-separated addresses/CIDRs of trusted proxies.' }),
  TRUST_CF_CONNECTING_IP: Type.Boolean({ default: false, description: 'Take the client IP from the cf-connecting-ip header. Enable only when the API is reachable solely through the Cloudflare tunnel.' }),

  TOKEN_SECRET: Type.String({ minLength: 32, description: 'Comma-separated signing secrets (each at least 32 characters) for preference, unsubscribe and confirmation tokens. The first one signs; all are accepted, so a new secret is rotated in by putting it first.' }),
  BODY_LIMIT_BYTES: Type.Integer({ default: 1_048_576, minimum: 1024, maximum: 52_428_800, description: 'Largest accepted request body in bytes; larger bodies get 413.' }),
  RATE_LIMIT_API_KEY_PER_MINUTE: Type.Integer({ default: 1000, minimum: 1, description: 'Requests per minute allowed for one API key or session.' }),
  RATE_LIMIT_IP_PER_MINUTE: Type.Integer({ default: 120, minimum: 1, description: 'Requests per minute allowed for one client IP on unauthenticated routes.' }),
  IDEMPOTENCY_TTL_SECONDS: Type.Integer({ default: 86_400, minimum: 60, description: 'How long an Idempotency-Key and its first response are remembered.' }),

  AUTH_ALLOW_SIGNUP: Type.Boolean({ default: false, 'x-group': 'Sessions and sign-in', description: 'Send login links to addresses with no account (the account is created on first login). When false, only existing users and invitees can sign in; the magic-link request answers the same either way.' }),
  AUTH_EMAIL_FROM: Type.String({ default: 'Subscribe Flow <no-reply@localhost>', 'x-group': 'Sessions and sign-in', minLength: 3, maxLength: 320, description: 'Sender of login and invitation emails.' }),
  MAGIC_LINK_TTL_SECONDS: Type.Integer({ default: 900, minimum: 60, maximum: 3600, description: 'Lifetime of a login link.' }),
  MAGIC_LINK_PER_EMAIL_PER_HOUR: Type.Integer({ default: 5, minimum: 1, description: 'Login links that may be requested for one address per hour.' }),
  MAGIC_LINK_PER_IP_PER_HOUR: Type.Integer({ default: 30, minimum: 1, description: 'Login-link requests, and separately token verifications, allowed from one client IP per hour.' }),
  SESSION_IDLE_TTL_SECONDS: Type.Integer({ default: 604_800, minimum: 300, description: 'An admin session ends after this long without a request (sliding expiry; 7 days by default).' }),
  SESSION_MAX_AGE_SECONDS: Type.Integer({ default: 2_592_000, minimum: 300, description: 'An admin session ends this long after sign-in however active it is (30 days by default).' }),
});

export type ConfigInput = typeof configSchema;
