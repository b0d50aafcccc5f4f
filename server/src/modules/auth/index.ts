import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import type { Config } from '../../config/index.ts';
import type { DB } from '../../db/types.ts';
import type { BackgroundTasks } from '../../lib/background.ts';
import { createThrottle } from '../../lib/throttle.ts';
import type { Logger } from '../../logger.ts';
import type { AuditLog } from '../audit/index.ts';
import type { EmailProvider } from '../email/index.ts';
import { defineModule, mount } from '../module.ts';
import { authRoutes } from './auth.routes.ts';
import { createAuthService } from './auth.service.ts';
import { createMagicLinkRepository } from './magic-links.repository.ts';
import { createSessionStore } from './session-store.ts';
import { createUserRepository } from './users.repository.ts';

export * from './access.ts';
export { requestMeta, userView } from './auth.routes.ts';
export { EmailField, RoleSchema, ROLES, SignedIn, TokenBody } from './auth.schemas.ts';
export { LINK_TOKEN, type AuthService, type Membership, type Principal, type RequestMeta } from './auth.service.ts';
export { allowedOrigins, checkCsrf, CSRF_HEADER, CSRF_HEADER_VALUE, isSafeMethod } from './csrf.ts';
export { adminAppLink, invitationEmail } from './emails.ts';
export { clearSessionCookie, SESSION_COOKIE, setSessionCookie } from './session-cookie.ts';
export type { SessionStore } from './session-store.ts';
export type { MembershipRow, UserRepository } from './users.repository.ts';

/**
 * Passwordless sign-in for the dashboard: magic links, Redis sessions, and the access rules every route
 * declares (access.ts). The auth plugin (plugins/auth.ts) applies them to each request.
 */
export function createAuthModule(deps: {
  db: Kysely<DB>;
  redis: Redis;
  config: Readonly<Config>;
  logger: Logger;
  background: BackgroundTasks;
  auditLog: AuditLog;
  emailProvider: EmailProvider;
}) {
  const { db, config } = deps;
  const userRepository = createUserRepository(db);
  const magicLinkRepository = createMagicLinkRepository(db);
  const sessions = createSessionStore(deps.redis, {
    prefix: config.REDIS_PREFIX,
    idleTtlSeconds: config.SESSION_IDLE_TTL_SECONDS,
    maxAgeSeconds: config.SESSION_MAX_AGE_SECONDS,
  });
  const auth = createAuthService({
    db,
    config,
    userRepository,
    magicLinkRepository,
    sessions,
    throttle: createThrottle(deps.redis, config.REDIS_PREFIX),
    emailProvider: deps.emailProvider,
    background: deps.background,
    auditLog: deps.auditLog,
    logger: deps.logger,
  });
  return defineModule({
    name: 'auth',
    services: { auth, sessions, userRepository },
    routes: mount(authRoutes, { config, auth }),
    retention: [{ name: 'magic_link_tokens', days: config.RETENTION_EXPIRED_TOKENS_DAYS, run: magicLinkRepository.deleteExpiredBefore }],
  });
}
