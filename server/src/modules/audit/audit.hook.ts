import type { FastifyInstance, FastifyReply, FastifyRequest, onResponseAsyncHookHandler, onSendAsyncHookHandler } from 'fastify';
import type { Config } from '../../config/index.ts';
import type { BackgroundTasks } from '../../lib/background.ts';
import { isUuid } from '../../lib/ids.ts';
import { requiredRole } from '../auth/index.ts';
import { clientIp } from '../../lib/client-ip.ts';
import { appendRouteHook } from '../../plugins/route-hooks.ts';
import type { AuditEntry, AuditLog } from './audit.repository.ts';

interface AuditDeps {
  config: Pick<Config, 'TRUST_CF_CONNECTING_IP'>;
  auditLog: AuditLog;
  background: BackgroundTasks;
}

/** A route's audit rule: `false` to skip (the route records its own entry), or a fixed action name. */
export type AuditRule = false | { action?: string; targetType?: string };

/** What a handler may add to the automatic entry: a target, details, or another organization. */
export interface AuditNote {
  /** Overrides the organization of the entry; null records it outside any organization. */
  organizationId?: string | null;
  targetId?: string | null;
  details?: Record<string, unknown>;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    audit?: AuditRule;
  }
  interface FastifyRequest {
    auditNote: AuditNote | null;
    auditTargetId: string | null;
  }
}

const MUTATIONS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
// Response schemas list `id` first, so a created resource's id is at the very start of the body.
const LEADING_ID = /^\{"id":"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"/;

/** `createSubscriber` → `subscriber.create`, `revokeApiKey` → `api_key.revoke`. */
export function actionFromOperationId(operationId: string): string {
  const words = operationId.split(/(?=[A-Z])/).map((w) => w.toLowerCase());
  const [verb, ...resource] = words;
  return resource.length > 0 ? `${resource.join('_')}.${verb}` : verb!;
}

function shouldAudit(request: FastifyRequest, reply: FastifyReply): boolean {
  if (!MUTATIONS.has(request.method) || reply.statusCode >= 400) return false;
  const config = request.routeOptions.config;
  if (config.audit === false || !config.access || 'public' in config.access) return false;
  // A POST that only reads (a preview, a count) declares a read scope; it changes nothing to record.
  if (requiredRole(config.access) === 'viewer') return false;
  // A replayed Idempotency-Key answer repeats the first request's entry, which is already written.
  if (reply.getHeader('idempotency-replayed')) return false;
  return Boolean(request.auth ?? request.principal);
}

/**
 * Every successful mutation by a user or an API key is recorded: who, what (the route's operationId or
 * its `config.audit.action`), which target (the `:id` parameter or the created resource's id), from
 * which IP and user agent, under which request id. Never request or response bodies. The insert runs
 * after the response has gone out, so it adds no round trip to the request.
 */
export function registerAudit(app: FastifyInstance, deps: AuditDeps): void {
  app.decorateRequest('auditNote', null);
  app.decorateRequest('auditTargetId', null);
  const writer = createBatchWriter(deps);

  const noteTarget: onSendAsyncHookHandler<unknown> = async (request, reply, payload) => {
    if (typeof payload === 'string' && shouldAudit(request, reply)) {
      const match = LEADING_ID.exec(payload.slice(0, 50));
      if (match) request.auditTargetId = match[1]!;
    }
    return payload;
  };

  const record: onResponseAsyncHookHandler = async (request, reply) => {
    if (!shouldAudit(request, reply)) return;
    const config = request.routeOptions.config;
    const rule = config.audit || {};
    const operationId = (request.routeOptions.schema as { operationId?: string } | undefined)?.operationId;
    const action = rule.action ?? (operationId ? actionFromOperationId(operationId) : `${request.method} ${request.routeOptions.url}`);
    const note = request.auditNote ?? {};
    const paramId = (request.params as { id?: unknown } | undefined)?.id;
    const targetId = note.targetId !== undefined ? note.targetId : typeof paramId === 'string' && isUuid(paramId) ? paramId : request.auditTargetId;
    const actor = request.auth?.actor ?? { type: 'user' as const, id: request.principal!.userId };
    const entry: AuditEntry = {
      organizationId: note.organizationId !== undefined ? note.organizationId : (request.auth?.organizationId ?? null),
      actor,
      action: action.slice(0, 100),
      targetType: rule.targetType ?? action.split('.')[0],
      targetId: targetId ?? null,
      ip: clientIp(request, deps.config.TRUST_CF_CONNECTING_IP),
      userAgent: request.headers['user-agent'] ?? null,
      requestId: request.id,
      details: note.details,
    };
    writer.push(entry);
  };

  // Only routes that can change something for a caller run these hooks (reads and public routes do not).
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const access = route.config?.access;
    if (!methods.some((method) => MUTATIONS.has(method)) || route.config?.audit === false || !access || 'public' in access) return;
    appendRouteHook(route, 'onSend', noteTarget);
    appendRouteHook(route, 'onResponse', record);
  });
}

// Entries arriving within this window share one INSERT: busy write routes cost a fraction of a round trip.
const BATCH_WINDOW_MS = 20;
const BATCH_MAX = 500;

/**
 * Collects entries and writes them in batches after a short window, as a background task (so shutdown and
 * tests can wait for it). Should a batch fail (for example an organization purged meanwhile), its entries
 * are retried one by one so the others are not lost.
 */
function createBatchWriter(deps: AuditDeps) {
  let queue: AuditEntry[] = [];
  let scheduled = false;

  async function flush(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, BATCH_WINDOW_MS));
    scheduled = false;
    while (queue.length > 0) {
      const batch = queue.slice(0, BATCH_MAX);
      queue = queue.slice(BATCH_MAX);
      try {
        await deps.auditLog.recordMany(batch);
      } catch {
        for (const entry of batch) await deps.auditLog.record(entry).catch(() => undefined);
      }
    }
  }

  return {
    push(entry: AuditEntry): void {
      queue.push(entry);
      if (scheduled) return;
      scheduled = true;
      deps.background.run('audit', flush);
    },
  };
}
