import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { buildApp, type App } from '../../src/app.ts';
import { loadConfig, type Config } from '../../src/config/index.ts';
import { createContainer, type Container } from '../../src/container.ts';
import type { ErrorReporter } from '../../src/error-reporting.ts';
import type { Logger } from '../../src/logger.ts';
import type { ApiMetrics } from '../../src/metrics/registry.ts';
import type { Scope } from '../../src/modules/api-keys/scopes.ts';
import type { Role } from '../../src/modules/auth/users.repository.ts';
import { newId } from '../../src/lib/ids.ts';
import { withDatabase } from './global-setup.ts';

export interface TestContext {
  app: App;
  container: Container;
  config: Readonly<Config>;
  databaseUrl: string;
  /** Creates an organization with an owner and a full-scope key. */
  createOrganization: (name?: string) => Promise<{ id: string; slug: string; key: string }>;
  /** A key of the organization limited to `scopes`. */
  createKey: (organizationId: string, scopes: Scope[]) => Promise<{ id: string; key: string }>;
  /**
   * A signed-in user: a new user (or the one with `email`), a member of `organizationId` with `role` when
   * given, and a live session. `headers` carry the cookie, the organization, and what CSRF checks need.
   */
  createSession: (organizationId: string | null, role?: Role, options?: { email?: string; platformAdmin?: boolean }) => Promise<TestSession>;
  close: () => Promise<void>;
}

export interface TestSession {
  userId: string;
  email: string;
  sessionId: string;
  cookie: string;
  headers: Record<string, string>;
}

export const TEST_TOKEN_SECRET = 'test-secret-that-is-long-enough-0123456789';

async function createDatabaseFromTemplate(adminUrl: string, template: string, name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    for (let attempt = 0; ; attempt += 1) {
      try {
        await admin.query(`create database ${name} template ${template}`);
        return;
      } catch (error) {
        // Another file cloning the same template at this instant holds it briefly.
        if (attempt >= 10 || !String((error as Error).message).includes('being accessed')) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 200));
      }
    }
  } finally {
    await admin.end();
  }
}

/**
 * A fresh application for one test file: its own database cloned from the migrated template, its own
 * Redis key prefix, the real composition root and Fastify app.
 */
export async function createTestContext(
  overrides: Record<string, string> = {},
  options: { logger?: Logger; errors?: ErrorReporter; metrics?: ApiMetrics; now?: () => Date } = {},
): Promise<TestContext> {
  const adminUrl = inject('adminDatabaseUrl');
  const suffix = randomBytes(6).toString('hex');
  const database = `sf_t_${suffix}`;
  await createDatabaseFromTemplate(adminUrl, inject('templateDatabase'), database);
  const databaseUrl = withDatabase(adminUrl, database);
  const config = loadConfig({
    DATABASE_URL: databaseUrl,
    DATABASE_POOL_MAX: '5',
    REDIS_URL: inject('redisUrl'),
    REDIS_PREFIX: `t${suffix}`,
    TOKEN_SECRET: TEST_TOKEN_SECRET,
    LOG_LEVEL: 'silent',
    ...overrides,
  });
  const container = createContainer(config, { processName: 'test', ...(options.logger ? { logger: options.logger } : {}), ...(options.errors ? { errors: options.errors } : {}), ...(options.now ? { now: options.now } : {}) });
  const app = await buildApp(container, options.metrics ? { metrics: options.metrics } : {});
  await app.ready();

  let organizationCount = 0;
  let userCount = 0;
  return {
    app,
    container,
    config,
    databaseUrl,
    async createOrganization(name) {
      organizationCount += 1;
      const orgName = name ?? `Org ${organizationCount}`;
      const { organization, apiKey } = await container.services.organizations.createWithOwner({
        name: orgName, adminEmail: `owner${organizationCount}@example.com`, slug: `org-${organizationCount}-${suffix}`,
      });
      return { id: organization.id, slug: organization.slug, key: apiKey.key };
    },
    async createKey(organizationId, scopes) {
      const created = await container.services.apiKeys.create(organizationId, { name: `key ${scopes.join(' ')}`, scopes });
      return { id: created.id, key: created.key };
    },
    async createSession(organizationId, role = 'owner', options = {}) {
      userCount += 1;
      const email = options.email ?? `user${userCount}-${suffix}@example.com`;
      const user = await container.userRepository.upsert(container.db, { id: newId(), email });
      if (options.platformAdmin) await container.userRepository.setPlatformAdmin(container.db, user.id, true);
      if (organizationId) {
        await container.db.insertInto('organization_members').values({ id: newId(), organization_id: organizationId, user_id: user.id, role })
          .onConflict((oc) => oc.columns(['organization_id', 'user_id']).doUpdateSet({ role })).execute();
      }
      const { cookieValue, session } = await container.services.auth.startSession(user.id, { ip: '127.0.0.1', userAgent: 'test', requestId: 'test' }, 'auth.login');
      const cookie = `sf_session=${cookieValue}`;
      const headers: Record<string, string> = { cookie, origin: new URL(config.ADMIN_APP_URL).origin, 'x-requested-with': 'subscribe-flow' };
      if (organizationId) headers['x-organization-id'] = organizationId;
      return { userId: user.id, email, sessionId: session.id, cookie, headers };
    },
    async close() {
      await app.close();
      const keys = await container.redis.keys(`${config.REDIS_PREFIX}:*`);
      if (keys.length > 0) await container.redis.del(...keys);
      await container.close();
      const admin = new pg.Client({ connectionString: adminUrl });
      await admin.connect();
      await admin.query(`drop database if exists ${database} with (force)`);
      await admin.end();
    },
  };
}

/** Shorthand for an inject call made by a signed-in dashboard user (cookie, Origin and CSRF header). */
export function sessionApi(ctx: TestContext, session: { headers: Record<string, string> }) {
  return (method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', url: string, payload?: unknown, headers: Record<string, string> = {}) =>
    ctx.app.inject({ method, url, headers: { ...session.headers, ...headers }, ...(payload !== undefined ? { payload: payload as object } : {}) });
}

/** Shorthand for an authenticated inject call. */
export function api(ctx: TestContext, key: string) {
  return (method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', url: string, payload?: unknown, headers: Record<string, string> = {}) =>
    ctx.app.inject({ method, url, headers: { authorization: `Bearer ${key}`, ...headers }, ...(payload !== undefined ? { payload: payload as object } : {}) });
}
