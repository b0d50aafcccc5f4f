import type { FastifyRequest } from 'fastify';
import { AppError, forbidden } from '../../lib/errors.ts';
import type { Scope } from '../api-keys/index.ts';
import type { Principal } from './auth.service.ts';

/** An organization member's role; owners can do everything, viewers only read. */
export type Role = 'owner' | 'admin' | 'viewer';

/** Who is calling. Every tenant query takes `organizationId` from here, never from the request body. */
export interface ApiKeyAuthContext {
  kind: 'api_key';
  organizationId: string;
  apiKeyId: string;
  scopes: ReadonlySet<Scope>;
  /** An sf_test_ key: the automations it starts deliver to the dev mailbox instead of sending. */
  test: boolean;
  actor: { type: 'api_key'; id: string };
}

/** A signed-in dashboard user acting in one organization (chosen with `X-Organization-Id`). */
export interface SessionAuthContext {
  kind: 'session';
  organizationId: string;
  userId: string;
  sessionId: string;
  role: Role;
  actor: { type: 'user'; id: string };
}

export type AuthContext = ApiKeyAuthContext | SessionAuthContext;

/**
 * The access rule every /api/v1 route declares. Sessions are checked by role, API keys by scope; the
 * one table that maps one to the other is `requiredRole` below.
 * - `{ public: true }`: no credentials (the route does its own checks, e.g. a signed token). `csrf: true`
 *   for public routes that set the session cookie, so another site cannot log a browser in.
 * - `{ scope }`: an API key holding the scope, or a session whose role is at least the scope's implied
 *   role (`…:read` → viewer, anything else → admin), or at least `role` when given (e.g. owner for billing).
 * - `{ role }`: sessions only, at least that role in the organization; API keys get 403 session_required.
 * - `{ user: true }`: any signed-in user, no organization needed (own profile, own sessions, create org).
 * - `{ platform: true }`: signed-in platform operators (`users.is_platform_admin`), across organizations.
 */
export type Access = { public: true; csrf?: boolean } | { scope: Scope; role?: Role } | { role: Role } | { user: true } | { platform: true };

export const ROLE_RANK: Readonly<Record<Role, number>> = { viewer: 0, admin: 1, owner: 2 };

/** The least role a session needs for a route: the one role table of the application. */
export function requiredRole(access: Access): Role | null {
  if ('scope' in access) return access.role ?? (access.scope.endsWith(':read') ? 'viewer' : 'admin');
  if ('role' in access) return access.role;
  return null;
}

/** Routes that act inside one organization (and so need `X-Organization-Id` or a single membership). */
export const actsInOrganization = (access: Access): boolean => 'scope' in access || 'role' in access;

/** One entry per route, collected as routes are added: the test matrix and the docs read it. */
export interface RouteRule {
  method: string;
  url: string;
  access: Access | undefined;
  operationId: string | undefined;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
    idempotent?: boolean;
  }
  interface FastifyRequest {
    auth: AuthContext | null;
    authFailure: AppError | null;
    /** The signed-in user of a session request, whether or not an organization was selected. */
    principal: Principal | null;
  }
  interface FastifyInstance {
    routeRules: RouteRule[];
  }
}

/** The `X-Organization-Id` a dashboard request names, if any (an empty header counts as none). */
export function organizationIdHeader(request: FastifyRequest): string | undefined {
  const header = request.headers['x-organization-id'];
  const value = typeof header === 'string' ? header.trim() : '';
  return value === '' ? undefined : value;
}

export function requireAuth(request: FastifyRequest): AuthContext {
  if (!request.auth) throw forbidden('forbidden', 'This route needs an authenticated caller');
  return request.auth;
}

/** The caller is an sf_test_ API key (what it starts in automations delivers to the dev mailbox). */
export function isTestKey(request: FastifyRequest): boolean {
  return request.auth?.kind === 'api_key' && request.auth.test;
}

/** The organization-scoped session of a `{ role }` route. */
export function requireSession(request: FastifyRequest): SessionAuthContext & { principal: Principal } {
  const auth = request.auth;
  if (auth?.kind !== 'session' || !request.principal) throw forbidden('session_required', 'This route is for signed-in dashboard users');
  return { ...auth, principal: request.principal };
}

/** The signed-in user of a `{ user }` or `{ platform }` route. */
export function requireUser(request: FastifyRequest): Principal {
  if (!request.principal) throw forbidden('session_required', 'This route is for signed-in dashboard users');
  return request.principal;
}

/**
 * A second scope a request needs for part of what it asks, checked inside the handler with the same rule
 * as the route's own access (API keys by scope, sessions by the scope's implied role). A template preview
 * that renders a real subscriber, for example, reads that subscriber and so needs `subscribers:read`.
 */
export function requireScope(request: FastifyRequest, scope: Scope): AuthContext {
  const auth = requireAuth(request);
  if (auth.kind === 'api_key') {
    if (!auth.scopes.has(scope))
      throw new AppError(403, 'insufficient_scope', `This API key lacks the "${scope}" scope`, { details: [{ message: `required scope: ${scope}` }] });
    return auth;
  }
  const role = requiredRole({ scope })!;
  if (ROLE_RANK[auth.role] < ROLE_RANK[role]) {
    throw new AppError(403, 'insufficient_role', `This action needs the ${role} role in the organization`, {
      details: [{ message: `required role: ${role}` }],
    });
  }
  return auth;
}
