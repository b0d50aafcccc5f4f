import type { Kysely } from 'kysely';
import type { DB } from '../../db/types.ts';
import { randomToken, sha256Hex } from '../../lib/crypto.ts';
import { AppError, notFound, unauthorized } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { decodeCursor, toPage } from '../../lib/pagination.ts';
import type { Logger } from '../../logger.ts';
import type { AuthContext } from '../auth/index.ts';
import type { Executor } from '../../db/client.ts';
import type { ApiKeyRepository } from './api-keys.repository.ts';
import type { AuthCache } from './auth-cache.ts';
import { SCOPES, type Scope } from './scopes.ts';

// 30 random bytes → 40 base64url characters after the environment prefix.
const KEY_RANDOM_BYTES = 30;
const KEY_PATTERN = /^sf_(live|test)_[A-Za-z0-9_-]{32,64}$/;
const DISPLAY_PREFIX_LENGTH = 16;
// last_used_at is advisory; writing it on every request would turn every read into a write.
const TOUCH_INTERVAL_MS = 60_000;

type Creator = { id: string; email: string; name: string | null };

/** The public view of a key row: typed scopes, its creator, never the hash. */
function toApiKey<T extends { scopes: string[]; environment: string; created_by_user_id: string | null }>(row: T, creators: readonly Creator[]) {
  const { created_by_user_id: creatorId, ...rest } = row;
  const creator = creatorId ? creators.find((user) => user.id === creatorId) : undefined;
  return {
    ...rest,
    scopes: row.scopes as Scope[],
    environment: row.environment as 'live' | 'test',
    created_by: creator ? { id: creator.id, email: creator.email, name: creator.name } : null,
  };
}

export interface NewApiKey {
  name: string;
  scopes: readonly Scope[];
  environment?: 'live' | 'test';
  createdByUserId?: string | null;
}

export type ApiKeyAuth = Extract<AuthContext, { kind: 'api_key' }>;

export function createApiKeyService(deps: { db: Kysely<DB>; apiKeyRepository: ApiKeyRepository; logger: Logger; cache?: AuthCache<ApiKeyAuth> }) {
  const { db, apiKeyRepository: repo, logger, cache } = deps;

  /** Key rows with their creators, looked up together. */
  async function publicKeys<T extends { scopes: string[]; environment: string; created_by_user_id: string | null }>(rows: T[]) {
    const creators = await repo.creators(rows.flatMap((row) => (row.created_by_user_id ? [row.created_by_user_id] : [])));
    return rows.map((row) => toApiKey(row, creators));
  }

  return {
    /** Creates a key; the plaintext is returned here once and only its SHA-256 hash is stored. */
    async create(organizationId: string, input: NewApiKey, executor: Executor = db) {
      const environment = input.environment ?? 'live';
      const key = `sf_${environment}_${randomToken(KEY_RANDOM_BYTES)}`;
      const record = await repo.insert(executor, {
        id: newId(),
        organization_id: organizationId,
        name: input.name,
        key_hash: sha256Hex(key),
        key_prefix: key.slice(0, DISPLAY_PREFIX_LENGTH),
        environment,
        scopes: [...new Set(input.scopes)],
        created_by_user_id: input.createdByUserId ?? null,
      });
      const [created] = await publicKeys([record]);
      return { ...created!, key };
    },

    async authenticate(key: string): Promise<ApiKeyAuth> {
      if (!KEY_PATTERN.test(key)) throw unauthorized('invalid_api_key', 'The API key is not valid');
      const keyHash = sha256Hex(key);
      const cached = cache?.get(keyHash);
      if (cached) return cached;
      const found = await repo.findForAuth(keyHash);
      if (!found) throw unauthorized('invalid_api_key', 'The API key is not valid');
      if (found.revoked_at) throw unauthorized('api_key_revoked', 'The API key has been revoked');
      if (found.organization_status === 'suspended') throw new AppError(403, 'organization_suspended', 'The organization is suspended');
      if (!found.last_used_at || Date.now() - found.last_used_at.getTime() > TOUCH_INTERVAL_MS) {
        repo.touch(found.id).catch((error: unknown) => logger.warn({ err: error }, 'could not record API key use'));
      }
      const auth: ApiKeyAuth = {
        kind: 'api_key',
        organizationId: found.organization_id,
        apiKeyId: found.id,
        scopes: new Set(found.scopes as Scope[]),
        test: found.environment === 'test',
        actor: { type: 'api_key', id: found.id },
      };
      cache?.set(keyHash, found.organization_id, auth);
      return auth;
    },

    async list(organizationId: string, query: { limit?: number; cursor?: string }) {
      const limit = query.limit ?? 50;
      const rows = await repo.list(organizationId, { limit, beforeId: decodeCursor(query.cursor) });
      return toPage(await publicKeys(rows), limit);
    },

    async revoke(organizationId: string, id: string) {
      const revoked = await repo.revoke(organizationId, id);
      if (!revoked) throw notFound('api_key');
      const { key_hash: keyHash, ...publicFields } = revoked;
      await cache?.invalidateKey(keyHash);
      return (await publicKeys([publicFields]))[0]!;
    },

    /** Revokes by name inside the caller's transaction; call `forgetOrganization` after it commits. */
    revokeByName: (executor: Executor, organizationId: string, name: string) => repo.revokeByName(executor, organizationId, name),

    /** Makes every process re-check this organization's keys (after suspension or bulk revocation). */
    forgetOrganization: async (organizationId: string): Promise<void> => {
      await cache?.invalidateOrganization(organizationId);
    },

    allScopes: (): Scope[] => [...SCOPES],
  };
}

export type ApiKeyService = ReturnType<typeof createApiKeyService>;
