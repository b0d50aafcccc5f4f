import type { Kysely } from 'kysely';
import type { DB } from '../../db/types.ts';
import { newId } from '../../lib/ids.ts';
import type { Logger } from '../../logger.ts';
import type { Executor } from '../../db/client.ts';

export interface AuditEntry {
  organizationId: string | null;
  actor: { type: 'user' | 'api_key' | 'system'; id: string | null };
  action: string;
  targetType?: string;
  targetId?: string | null;
  ip?: string | null;
  userAgent?: string | null;
  requestId?: string | null;
  details?: Record<string, unknown>;
}

const toRow = (entry: AuditEntry) => ({
  id: newId(),
  organization_id: entry.organizationId,
  actor_type: entry.actor.type,
  actor_id: entry.actor.id,
  action: entry.action,
  target_type: entry.targetType ?? null,
  target_id: entry.targetId ?? null,
  ip: entry.ip ?? null,
  user_agent: entry.userAgent?.slice(0, 512) ?? null,
  request_id: entry.requestId ?? null,
  details: JSON.stringify(entry.details ?? {}),
});

/** Who did what to which target. Personal data in `details` is kept to what the entry needs. */
export function createAuditLog(db: Kysely<DB>, logger: Logger) {
  return {
    async record(entry: AuditEntry, executor: Executor = db): Promise<void> {
      await this.recordMany([entry], executor);
    },

    /** Several entries in one statement (the request hook batches what arrives within a few milliseconds). */
    async recordMany(entries: readonly AuditEntry[], executor: Executor = db): Promise<void> {
      if (entries.length === 0) return;
      try {
        await executor.insertInto('audit_logs').values(entries.map(toRow)).execute();
      } catch (error) {
        logger.error({ err: error, actions: entries.map((e) => e.action) }, 'could not write audit log entries');
        throw error;
      }
    },

    /** An organization's entries, newest first, optionally for one actor and/or one action. */
    async list(organizationId: string, options: { limit: number; beforeId?: string; actorId?: string; action?: string }) {
      let query = db
        .selectFrom('audit_logs')
        .select(['id', 'actor_type', 'actor_id', 'action', 'target_type', 'target_id', 'ip', 'user_agent', 'request_id', 'details', 'created_at'])
        .where('organization_id', '=', organizationId);
      if (options.beforeId) query = query.where('id', '<', options.beforeId);
      if (options.actorId) query = query.where('actor_id', '=', options.actorId);
      if (options.action) query = query.where('action', '=', options.action);
      return query
        .orderBy('id', 'desc')
        .limit(options.limit + 1)
        .execute();
    },
  };
}

export type AuditLog = ReturnType<typeof createAuditLog>;
