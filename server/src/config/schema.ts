import { Type } from 'typebox';

/**
 * Every environment variable the server reads. Property names are the variable names; each carries a
 * description (the docs site's configuration reference is generated from it) and, where sensible, a
 * default that makes `npm start` work on a developer machine with local PostgreSQL and Redis.
 */
export const configSchema = Type.Object({
  HOST: Type.String({ default: '127.0.0.1', description: 'Interface the API listens on. Use 0.0.0.0 in containers.' }),
  PORT: Type.Integer({ default: 3000, minimum: 1, maximum: 65535, description: 'Port the API listens on.' }),
  LOG_LEVEL: Type.Union(
    [
      Type.Literal('fatal'),
      Type.Literal('error'),
      Type.Literal('warn'),
      Type.Literal('info'),
      Type.Literal('debug'),
      Type.Literal('trace'),
      Type.Literal('silent'),
    ],
    { default: 'info', description: 'pino log level.' },
  ),

  DATABASE_URL: Type.String({
    default: 'postgres://postgres@127.0.0.1:5432/subscribe_flow',
    description: 'PostgreSQL connection string (PostgreSQL 15 or newer).',
  }),
  DATABASE_POOL_MAX: Type.Integer({ default: 10, minimum: 1, maximum: 200, description: "Maximum connections in each process's PostgreSQL pool." }),
  REDIS_URL: Type.String({
    default: 'redis://127.0.0.1:6379',
    description:
      'Redis connection string. Redis holds sessions, rate limits, idempotency records and the job queues; run it with AOF and maxmemory-policy noeviction.',
  }),
  REDIS_PREFIX: Type.String({
    default: 'sf',
    pattern: '^[A-Za-z0-9_-]{1,32}$',
    description: 'Prefix for every Redis key, so several stacks can share one Redis.',
  }),

  PUBLIC_API_URL: Type.String({
    default: 'http://localhost:3000',
    description: 'Public base URL of the API, used in links inside emails (one-click unsubscribe, confirmations).',
  }),
  ADMIN_APP_URL: Type.String({
    default: 'http://localhost:3000/admin',
    description: 'Public URL of the admin dashboard, used in magic-link and invitation emails.',
  }),
  PREFERENCES_APP_URL: Type.String({
    default: 'http://localhost:3000/preferences',
    description: 'Public URL of the preference center, used in preference links.',
  }),
  WEB_DIST_DIR: Type.String({
    default: '',
    description:
      'Folder holding the built web apps (web/dist). When its preferences/ build exists, the API serves the preference center at /preferences/ (single-box mode). Empty means the web/dist folder of this checkout.',
  }),
  RATE_LIMIT_PREFERENCE_TOKEN_PER_MINUTE: Type.Integer({
    default: 120,
    minimum: 1,
    description:
      "Requests per minute allowed for one preference-center link (counted per subscriber; requests with a bad link count per client IP). The page's read (GET) is counted in each API process, the changes across all processes in Redis.",
  }),
  RATE_LIMIT_PUBLIC_FORM_PER_MINUTE: Type.Integer({
    default: 10,
    minimum: 1,
    description: 'Subscribe-form posts and "send me a new link" requests allowed per client IP per minute.',
  }),
  PUBLIC_EMAILS_PER_ADDRESS_PER_HOUR: Type.Integer({
    default: 5,
    minimum: 1,
    description: 'Confirmation and preference-link emails that public requests may trigger for one address per hour.',
  }),
  CORS_ORIGINS: Type.String({
    default: '',
    description:
      'Comma-separated origins allowed to call the API from a browser with credentials (the admin and preference apps when served from another origin).',
  }),
  TRUST_PROXY: Type.String({
    default: 'false',
    description: 'Fastify trustProxy: "false", "true", a hop count, or comma-separated addresses/CIDRs of trusted proxies.',
  }),
  TRUST_CF_CONNECTING_IP: Type.Boolean({
    default: false,
    description: 'Take the client IP from the cf-connecting-ip header. Enable only when the API is reachable solely through the Cloudflare tunnel.',
  }),

  TOKEN_SECRET: Type.String({
    minLength: 32,
    description:
      'Comma-separated signing secrets (each at least 32 characters) for preference, unsubscribe and confirmation tokens. The first one signs; all are accepted, so a new secret is rotated in by putting it first.',
  }),
  BODY_LIMIT_BYTES: Type.Integer({
    default: 1_048_576,
    minimum: 1024,
    maximum: 52_428_800,
    description: 'Largest accepted request body in bytes; larger bodies get 413.',
  }),
  RATE_LIMIT_API_KEY_PER_MINUTE: Type.Integer({ default: 1000, minimum: 1, description: 'Requests per minute allowed for one API key or session.' }),
  RATE_LIMIT_IP_PER_MINUTE: Type.Integer({ default: 120, minimum: 1, description: 'Requests per minute allowed for one client IP on unauthenticated routes.' }),
  IDEMPOTENCY_TTL_SECONDS: Type.Integer({ default: 86_400, minimum: 60, description: 'How long an Idempotency-Key and its first response are remembered.' }),

  AUTH_ALLOW_SIGNUP: Type.Boolean({
    default: false,
    'x-group': 'Sessions and sign-in',
    description:
      'Send login links to addresses with no account (the account is created on first login). When false, only existing users and invitees can sign in; the magic-link request answers the same either way.',
  }),
  AUTH_EMAIL_FROM: Type.String({
    default: 'Subscribe Flow <no-reply@localhost>',
    'x-group': 'Sessions and sign-in',
    minLength: 3,
    maxLength: 320,
    description: 'Sender of login and invitation emails.',
  }),
  MAGIC_LINK_TTL_SECONDS: Type.Integer({ default: 900, minimum: 60, maximum: 3600, description: 'Lifetime of a login link.' }),
  MAGIC_LINK_PER_EMAIL_PER_HOUR: Type.Integer({ default: 5, minimum: 1, description: 'Login links that may be requested for one address per hour.' }),
  MAGIC_LINK_PER_IP_PER_HOUR: Type.Integer({
    default: 30,
    minimum: 1,
    description: 'Login-link requests, and separately token verifications, allowed from one client IP per hour.',
  }),
  SESSION_IDLE_TTL_SECONDS: Type.Integer({
    default: 604_800,
    minimum: 300,
    description: 'An admin session ends after this long without a request (sliding expiry; 7 days by default).',
  }),
  SESSION_MAX_AGE_SECONDS: Type.Integer({
    default: 2_592_000,
    minimum: 300,
    description: 'An admin session ends this long after sign-in however active it is (30 days by default).',
  }),

  EMAIL_PROVIDER: Type.Union([Type.Literal('dev'), Type.Literal('resend'), Type.Literal('smtp')], {
    default: 'dev',
    'x-group': 'Email',
    description:
      'Where email goes: "dev" stores it in the local dev mailbox (nothing leaves the machine), "resend" sends through Resend (needs RESEND_API_KEY), "smtp" through any SMTP server (needs SMTP_URL).',
  }),
  EMAIL_DEFAULT_FROM: Type.String({
    default: 'Subscribe Flow <no-reply@localhost>',
    minLength: 3,
    maxLength: 320,
    'x-group': 'Email',
    description:
      "Sender of organization mail until the organization has a verified sending domain; its display name is replaced by the organization's from name. With Resend, its domain must be verified in the Resend account.",
  }),
  RESEND_API_KEY: Type.Optional(
    Type.String({
      minLength: 1,
      'x-group': 'Email',
      description: 'Resend API key (re_…). Required when EMAIL_PROVIDER is "resend"; also enables sending domains.',
    }),
  ),
  RESEND_BASE_URL: Type.String({
    default: 'https://api.resend.com',
    'x-group': 'Email',
    description: 'Base URL of the Resend API. Change it only to point at a stand-in server.',
  }),
  RESEND_WEBHOOK_SECRET: Type.Optional(
    Type.String({
      pattern: '^whsec_[A-Za-z0-9+/=]+$',
      'x-group': 'Email',
      description: 'Signing secret (whsec_…) of the Resend webhook that posts to /hooks/resend. Without it every delivery event is refused with 401.',
    }),
  ),
  SMTP_URL: Type.Optional(
    Type.String({
      pattern: '^smtps?://',
      'x-group': 'Email',
      description: 'SMTP server as smtp://user:password@host:587 (STARTTLS) or smtps://…:465 (TLS). Required when EMAIL_PROVIDER is "smtp".',
    }),
  ),
  SMTP_RETURN_PATH: Type.Optional(
    Type.String({
      maxLength: 254,
      pattern: '^[^+@\\s]{1,16}@[^@\\s]+\\.[^@\\s]+$',
      'x-group': 'Email',
      description:
        'Bounce mailbox for SMTP relays without delivery webhooks, e.g. bounces@bounce.example.com (local part at most 16 characters). Every message is sent with the envelope sender bounces+<reference>@bounce.example.com (VERP), so a returned bounce names the message; forward what arrives there to POST /hooks/bounces.',
    }),
  ),
  BOUNCE_WEBHOOK_SECRET: Type.Optional(
    Type.String({
      minLength: 32,
      maxLength: 256,
      pattern: '^\\S+$',
      'x-group': 'Email',
      description: 'Bearer token a bounce-mailbox forwarder sends to POST /hooks/bounces. Without it every returned bounce is refused with 401.',
    }),
  ),
  PROVIDER_RATE_LIMIT_PER_SECOND: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: 10_000,
      'x-group': 'Email',
      description:
        'Requests per second all worker processes together make to the email provider. Defaults to 2 with Resend (its documented team limit) and to no limit for SMTP and the dev mailbox; 0 means no limit.',
    }),
  ),

  WORKER_CONCURRENCY: Type.Integer({
    default: 50,
    minimum: 1,
    maximum: 500,
    'x-group': 'Worker and cron',
    description: 'Email jobs one worker process runs at the same time. Jobs mostly wait on PostgreSQL and the provider, so this is well above the CPU count.',
  }),
  CAMPAIGN_BATCH_CONCURRENCY: Type.Integer({
    default: 4,
    minimum: 1,
    maximum: 100,
    'x-group': 'Worker and cron',
    description:
      "Campaign and automation batches (up to 100 emails each) one worker process renders and sends at the same time; more batch jobs wait. Each holds its rendered emails until the provider answers, so this bounds the worker's memory; a few keep the CPU busy.",
  }),
  WORKER_LOCK_DURATION_MS: Type.Integer({
    default: 30_000,
    minimum: 1000,
    maximum: 600_000,
    'x-group': 'Worker and cron',
    description: 'How long a job stays locked to a worker without a heartbeat; a job whose worker died is retried after about this long.',
  }),
  IMPORT_DIR: Type.String({
    default: '',
    'x-group': 'Worker and cron',
    description:
      'Folder where uploaded CSV imports wait for the worker (the api writes, the worker reads: on several machines, a shared volume). Empty means a folder in the system temporary directory.',
  }),
  IMPORT_MAX_BYTES: Type.Integer({
    default: 1_073_741_824,
    minimum: 1024,
    maximum: 10_737_418_240,
    'x-group': 'Worker and cron',
    description: 'Largest CSV file an import accepts, in bytes (1 GiB by default); larger uploads get 413.',
  }),
  METRICS_HOST: Type.String({
    default: '127.0.0.1',
    'x-group': 'Observability',
    description:
      "Interface of each process's internal /health and /metrics server (api, worker and cron). Use 0.0.0.0 in containers; never route it through the tunnel.",
  }),
  METRICS_PORT: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: 65535,
      'x-group': 'Observability',
      description:
        'Port of the internal /health and /metrics server. Defaults to 9464 for the worker, 9465 for cron and 9466 for the api, so all three run side by side on one machine; in containers each may use 9464. 0 picks a free port (logged at start).',
    }),
  ),
  SENTRY_DSN: Type.Optional(
    Type.String({
      pattern: '^https?://',
      'x-group': 'Observability',
      description:
        'Sentry DSN. When set, the api reports unhandled errors (500 responses) and the worker jobs that failed for good, with request and job ids but no addresses, headers or bodies. Empty turns error reporting off: the SDK is not even loaded.',
    }),
  ),

  WEBHOOKS_ALLOW_PRIVATE: Type.Boolean({
    default: false,
    'x-group': 'Webhooks',
    description:
      'Let webhook endpoints point at private, loopback, link-local and other internal addresses. Off by default, so an organization cannot make the server call into its own network (SSRF); turn it on only when every organization is trusted, e.g. a self-hosted install whose receivers sit on the same network.',
  }),
  WEBHOOKS_ALLOW_PRIVATE_HOSTS: Type.String({
    default: '',
    'x-group': 'Webhooks',
    description:
      'Comma-separated addresses or CIDR ranges (e.g. 10.0.5.20, 192.168.1.0/24) webhook endpoints may reach although they are private. Narrower than WEBHOOKS_ALLOW_PRIVATE: everything else internal stays refused.',
  }),
  WEBHOOKS_TIMEOUT_MS: Type.Integer({
    default: 10_000,
    minimum: 100,
    maximum: 60_000,
    'x-group': 'Webhooks',
    description: 'How long one webhook delivery attempt may take (connect, send and answer) before it counts as failed.',
  }),
  WEBHOOKS_RETRY_DELAYS_SECONDS: Type.String({
    default: '5,300,1800,7200,18000,36000,36000',
    pattern: '^[0-9]+(\\.[0-9]+)?(,[0-9]+(\\.[0-9]+)?){0,19}$',
    'x-group': 'Webhooks',
    description:
      'Seconds before each retry of a failed webhook delivery, comma-separated (each gets up to 20% jitter). After the last one the delivery is dead; it can still be retried by hand.',
  }),
  WEBHOOKS_CONCURRENCY_PER_ENDPOINT: Type.Integer({
    default: 4,
    minimum: 1,
    maximum: 100,
    'x-group': 'Webhooks',
    description:
      'Delivery attempts to one endpoint in flight at once, across all worker processes; further deliveries to it wait their turn, so one slow receiver does not hold up the others.',
  }),
  WEBHOOKS_DISABLE_AFTER_HOURS: Type.Integer({
    default: 72,
    minimum: 1,
    'x-group': 'Webhooks',
    description: "An endpoint whose deliveries have failed without a single success for this long is disabled and the organization's admins are emailed.",
  }),

  STRIPE_SECRET_KEY: Type.Optional(
    Type.String({
      pattern: '^(sk|rk)_[A-Za-z0-9_]{8,}$',
      'x-group': 'Billing',
      description:
        'Stripe secret (sk_…) or restricted (rk_…) key. With STRIPE_WEBHOOK_SECRET it turns billing on: plans, checkout, the customer portal and plan limits. Without both, billing is off and every limit is unlimited unless an operator sets one.',
    }),
  ),
  STRIPE_WEBHOOK_SECRET: Type.Optional(
    Type.String({
      pattern: '^whsec_[A-Za-z0-9_+/=]{8,}$',
      'x-group': 'Billing',
      description: 'Signing secret (whsec_…) of the Stripe webhook endpoint that posts to /hooks/stripe. Required together with STRIPE_SECRET_KEY.',
    }),
  ),
  STRIPE_API_URL: Type.String({
    default: 'https://api.stripe.com',
    pattern: '^https?://[^/]+/?$',
    'x-group': 'Billing',
    description: 'Base URL of the Stripe API. Change it only to point at a stand-in server.',
  }),
  BILLING_PLANS: Type.String({
    default: '',
    maxLength: 10_000,
    'x-group': 'Billing',
    description:
      'JSON object merged over the default plans, by plan name: {"starter":{"stripe_price_id":"price_…"},"professional":{"stripe_price_id":"price_…"}}. Each plan has "name", "stripe_price_id" and the limits "subscribers", "emails_per_month", "webhook_endpoints", "custom_domains" (a number, or null for unlimited). Defaults: free 1,000 subscribers / 4,000 emails / no webhooks / no custom domain; starter 5,000 / 50,000 / 3 / none; professional 50,000 / 500,000 / unlimited / unlimited.',
  }),
  BILLING_GRACE_DAYS: Type.Integer({
    default: 7,
    minimum: 0,
    maximum: 90,
    'x-group': 'Billing',
    description: "Days a past-due subscription keeps its plan before the organization falls back to the free plan's limits.",
  }),
  BILLING_EXISTING_ORGANIZATIONS_PLAN: Type.String({
    default: 'legacy',
    minLength: 1,
    maxLength: 32,
    'x-group': 'Billing',
    description:
      'The plan organizations that already exist when billing is first turned on are put on, once (recorded in the database; later starts change nothing). "legacy" (the default): no limits, never sold, until they subscribe or an operator runs `cli set-plan`. "free" applies the free limits to them at once.',
  }),

  TRACKING_FLUSH_MS: Type.Integer({
    default: 250,
    minimum: 10,
    maximum: 10_000,
    'x-group': 'Tracking',
    description:
      'Opens and clicks are answered at once and written to PostgreSQL in batches this often (milliseconds). A crash loses at most this long of hits.',
  }),

  RETENTION_DEV_MAILBOX_DAYS: Type.Integer({
    default: 7,
    minimum: 1,
    'x-group': 'Retention',
    description: 'Dev-mailbox messages older than this are deleted by the daily cleanup.',
  }),
  RETENTION_EVENTS_DAYS: Type.Integer({
    default: 30,
    minimum: 1,
    'x-group': 'Retention',
    description: 'Outbox events older than this are deleted by the daily cleanup once they have been relayed.',
  }),
  RETENTION_PROVIDER_EVENTS_DAYS: Type.Integer({
    default: 30,
    minimum: 1,
    'x-group': 'Retention',
    description: 'Ids of applied provider webhook events (kept to ignore redeliveries) are deleted after this many days.',
  }),
  RETENTION_ENGAGEMENT_EVENTS_DAYS: Type.Integer({
    default: 396,
    minimum: 1,
    'x-group': 'Retention',
    description:
      'Raw open and click events are deleted after this many days (13 months by default); the hourly rollups the analytics are served from are kept.',
  }),
  RETENTION_EXPIRED_TOKENS_DAYS: Type.Integer({
    default: 7,
    minimum: 0,
    'x-group': 'Retention',
    description: 'Login-link tokens are deleted this many days after they expired.',
  }),
  RETENTION_IMPORTS_DAYS: Type.Integer({
    default: 30,
    minimum: 1,
    'x-group': 'Retention',
    description: 'Finished imports (their report, error rows and any file left) are deleted this many days after they started.',
  }),
  RETENTION_WEBHOOK_DELIVERIES_DAYS: Type.Integer({
    default: 30,
    minimum: 1,
    'x-group': 'Retention',
    description: 'Customer webhook delivery logs older than this are deleted by the daily cleanup.',
  }),
});

export type ConfigInput = typeof configSchema;
