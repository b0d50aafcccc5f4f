import type { Kysely } from 'kysely';
import type { Config } from '../../config/index.ts';
import type { DB } from '../../db/types.ts';
import type { BackgroundTasks } from '../../lib/background.ts';
import type { Logger } from '../../logger.ts';
import { defineModule, mount } from '../module.ts';
import { registerAudit } from './audit.hook.ts';
import { createAuditLog } from './audit.repository.ts';
import { auditRoutes } from './audit.routes.ts';

export type { AuditEntry, AuditLog } from './audit.repository.ts';
export type { AuditNote, AuditRule } from './audit.hook.ts';

/** The audit log: every successful mutation by a user or an API key, recorded after the response. */
export function createAuditModule(deps: { db: Kysely<DB>; logger: Logger; background: BackgroundTasks; config: Pick<Config, 'TRUST_CF_CONNECTING_IP'> }) {
  const auditLog = createAuditLog(deps.db, deps.logger);
  return defineModule({
    name: 'audit',
    services: { auditLog },
    hooks: (app) => registerAudit(app, { config: deps.config, auditLog, background: deps.background }),
    routes: mount(auditRoutes, { auditLog }),
  });
}
