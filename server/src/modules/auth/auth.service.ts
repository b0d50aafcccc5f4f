import type { Kysely } from 'kysely';
import type { Config } from '../../config/index.ts';
import type { DB } from '../../db/types.ts';
import { randomToken, sha256Hex } from '../../lib/crypto.ts';
import { maskEmail } from '../../lib/email.ts';
import { AppError, badRequest, notFound, unauthorized } from '../../lib/errors.ts';
import { isUuid, newId } from '../../lib/ids.ts';
import type { Logger } from '../../logger.ts';
import type { AuditLog } from '../audit/index.ts';
import type { EmailProvider } from '../email/index.ts';
import type { BackgroundTasks } from '../../lib/background.ts';
import { adminAppLink, magicLinkEmail } from './emails.ts';
import type { MagicLinkRepository } from './magic-links.repository.ts';
import type { Session, SessionStore } from './session-store.ts';
import type { Throttle } from '../../lib/throttle.ts';
import type { Role, UserRepository } from './users.repository.ts';

// 32 random bytes → 43 base64url characters.
const TOKEN_BYTES = 32;
export const LINK_TOKEN = /^[A-Za-z0-9_-]{43}$/;
const HOUR = 3600;

export interface Membership {
  organizationId: string;
  name: string;
  slug: string;
  status: string;
  role: Role;
}

/** A signed-in user as one session request sees them: fresh from the database on every request. */
export interface Principal {
  userId: string;
  email: string;
  name: string | null;
  isPlatformAdmin: boolean;
  session: Session;
  memberships: Membership[];
}

export interface RequestMeta {
  ip: string | null;
  userAgent: string | null;
  requestId: string;
}

export const invalidSession = (): AppError => unauthorized('invalid_session', 'The session has ended; sign in again');

type Deps = {
  db: Kysely<DB>;
  config: Pick<
    Readonly<Config>,
    'ADMIN_APP_URL' | 'AUTH_ALLOW_SIGNUP' | 'AUTH_EMAIL_FROM' | 'MAGIC_LINK_TTL_SECONDS' | 'MAGIC_LINK_PER_EMAIL_PER_HOUR' | 'MAGIC_LINK_PER_IP_PER_HOUR'
  >;
  userRepository: UserRepository;
  magicLinkRepository: MagicLinkRepository;
  sessions: SessionStore;
  throttle: Throttle;
  emailProvider: EmailProvider;
  background: BackgroundTasks;
  auditLog: AuditLog;
  logger: Logger;
};

export function createAuthService(deps: Deps) {
  const { config, userRepository: users, magicLinkRepository: links, sessions, throttle, background, auditLog } = deps;

  async function issueLink(email: string, meta: RequestMeta): Promise<void> {
    const user = await users.findByEmail(email);
    if (!user && !config.AUTH_ALLOW_SIGNUP) {
      deps.logger.info({ email: maskEmail(email), requestId: meta.requestId }, 'login link requested for an unknown address; nothing sent');
      return;
    }
    await links.deleteExpired(email);
    const token = randomToken(TOKEN_BYTES);
    const id = newId();
    await links.insert({
      id,
      email: user?.email ?? email,
      token_hash: sha256Hex(token),
      expires_at: new Date(Date.now() + config.MAGIC_LINK_TTL_SECONDS * 1000),
      requested_ip: meta.ip,
    });
    const content = magicLinkEmail(adminAppLink(config.ADMIN_APP_URL, '/login/verify', token), Math.round(config.MAGIC_LINK_TTL_SECONDS / 60));
    await deps.emailProvider.send({
      from: config.AUTH_EMAIL_FROM,
      to: user?.email ?? email,
      ...content,
      organizationId: null,
      idempotencyKey: `magic-link-${id}`,
    });
  }

  function toMembership(row: {
    organization_id: string;
    organization_name: string;
    organization_slug: string;
    organization_status: string;
    role: Role;
  }): Membership {
    return { organizationId: row.organization_id, name: row.organization_name, slug: row.organization_slug, status: row.organization_status, role: row.role };
  }

  return {
    /**
     * Counts the request against the per-address and per-IP limits, then answers at once; whether a link
     * is sent (known address, or sign-up allowed) is decided after the answer, so neither the body nor
     * the timing tells a caller whether an account exists.
     */
    async requestMagicLink(rawEmail: string, meta: RequestMeta): Promise<void> {
      const email = rawEmail.trim();
      if (meta.ip) await throttle.hit('magic-link-ip', meta.ip, config.MAGIC_LINK_PER_IP_PER_HOUR, HOUR);
      await throttle.hit('magic-link-email', email, config.MAGIC_LINK_PER_EMAIL_PER_HOUR, HOUR);
      background.run('send-magic-link', () => issueLink(email, meta));
    },

    /** Consumes a login link (once) and starts a session for its owner. */
    /** Link tokens (login and invitation) are guessed at most this often per IP; 256 bits make guessing futile anyway. */
    async limitTokenAttempts(meta: RequestMeta): Promise<void> {
      if (meta.ip) await throttle.hit('verify-ip', meta.ip, config.MAGIC_LINK_PER_IP_PER_HOUR, HOUR);
    },

    async verifyMagicLink(token: string, meta: RequestMeta) {
      await this.limitTokenAttempts(meta);
      if (!LINK_TOKEN.test(token)) throw unauthorized('invalid_token', 'The sign-in link is not valid');
      const tokenHash = sha256Hex(token);
      const consumed = await links.consume(tokenHash);
      if (!consumed) {
        const known = await links.findByHash(tokenHash);
        if (!known) throw unauthorized('invalid_token', 'The sign-in link is not valid');
        if (known.used_at) throw unauthorized('magic_link_already_used', 'The sign-in link was already used; request a new one');
        throw unauthorized('magic_link_expired', 'The sign-in link has expired; request a new one');
      }
      let user = await users.findByEmail(consumed.email);
      if (!user) {
        // Links go only to known users unless sign-up is allowed; an account deleted since gets nothing.
        if (!config.AUTH_ALLOW_SIGNUP) throw unauthorized('invalid_token', 'The sign-in link is not valid');
        user = await users.upsert(deps.db, { id: newId(), email: consumed.email });
      }
      const started = await this.startSession(user.id, meta, 'auth.login');
      return { ...started, user };
    },

    /** Starts a session for a user who has just proved control of their address (link or invitation). */
    async startSession(userId: string, meta: RequestMeta, action: string) {
      const { cookieValue, session } = await sessions.create(userId, { ip: meta.ip, userAgent: meta.userAgent });
      await users.recordLogin(userId);
      background.run('audit-login', () =>
        auditLog.record({
          organizationId: null,
          actor: { type: 'user', id: userId },
          action,
          targetType: 'session',
          targetId: session.id,
          ip: meta.ip,
          userAgent: meta.userAgent,
          requestId: meta.requestId,
        }),
      );
      return { cookieValue, session, userId };
    },

    /** The principal behind a session cookie; invalid_session when it is unknown, expired or its user is gone. */
    async authenticate(cookieValue: string): Promise<Principal> {
      const session = await sessions.get(cookieValue);
      if (!session) throw invalidSession();
      const user = await users.principal(session.userId);
      if (!user) {
        await sessions.revoke(session.userId, session.id);
        throw invalidSession();
      }
      return {
        userId: user.id,
        email: user.email,
        name: user.name,
        isPlatformAdmin: user.is_platform_admin,
        session,
        memberships: user.memberships.map(toMembership),
      };
    },

    /**
     * The organization a session request acts in: the `X-Organization-Id` header, or the only membership.
     * An organization the user does not belong to answers exactly like one that does not exist.
     */
    selectOrganization(principal: Principal, header: string | undefined): Membership {
      let membership: Membership | undefined;
      if (header !== undefined) {
        membership = isUuid(header) ? principal.memberships.find((m) => m.organizationId === header.toLowerCase()) : undefined;
        if (!membership) throw notFound('organization');
      } else if (principal.memberships.length === 1) {
        membership = principal.memberships[0]!;
      } else {
        throw badRequest(
          'organization_required',
          principal.memberships.length === 0
            ? 'You are not a member of any organization; create one or accept an invitation'
            : 'You belong to several organizations; choose one with the X-Organization-Id header',
        );
      }
      if (membership.status === 'suspended') throw new AppError(403, 'organization_suspended', 'The organization is suspended');
      return membership;
    },

    /** Like selectOrganization, but for pages that work without one (the current-user view). */
    currentOrganization(principal: Principal, header: string | undefined): Membership | null {
      try {
        return this.selectOrganization(principal, header);
      } catch {
        return null;
      }
    },

    listSessions: (principal: Principal) => sessions.listForUser(principal.userId),

    async revokeSession(principal: Principal, sessionId: string): Promise<void> {
      if (!(await sessions.revoke(principal.userId, sessionId))) throw notFound('session');
    },

    logout: (principal: Principal) => sessions.revoke(principal.userId, principal.session.id),

    /** Ends the session behind a cookie if there is one: a new sign-in replaces the browser's old session. */
    async endSessionByCookie(cookieValue: string | undefined): Promise<void> {
      if (!cookieValue) return;
      const session = await sessions.get(cookieValue);
      if (session) await sessions.revoke(session.userId, session.id);
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
