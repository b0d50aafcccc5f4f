import type { Kysely } from 'kysely';
import type pg from 'pg';
import type { Config } from '../../config/index.ts';
import type { DB } from '../../db/types.ts';
import type { JobProducer } from '../../jobs/producer.ts';
import type { Entitlements } from '../entitlements/index.ts';
import type { SegmentService } from '../segments/index.ts';
import type { SubscriberRepository } from '../subscribers/index.ts';
import { defineModule, mount } from '../module.ts';
import { createImportFiles } from './files.ts';
import { createImportJob } from './imports.jobs.ts';
import { createImportRepository } from './imports.repository.ts';
import { importRoutes } from './imports.routes.ts';
import { createImportService } from './imports.service.ts';

export type { ImportService } from './imports.service.ts';

/** CSV imports (streamed upload, dry run, COPY staging, one set-based merge, progress, cancel) and streamed exports. */
export function createImportsModule(deps: {
  db: Kysely<DB>;
  /** For the worker's own connection per run (COPY and a temporary staging table) and COPY-out streams. */
  pool: pg.Pool;
  config: Pick<Config, 'IMPORT_DIR' | 'IMPORT_MAX_BYTES' | 'RETENTION_IMPORTS_DAYS'>;
  producer: JobProducer;
  entitlements: Pick<Entitlements, 'assertSubscriberCapacity'>;
  /** Exports filtered by a saved segment. */
  segments: Pick<SegmentService, 'predicate'>;
  /** The subscriber list's filter compiler, so an export matches what the list shows. */
  subscribers: Pick<SubscriberRepository, 'matchingIds'>;
}) {
  const repository = createImportRepository(deps.db, deps.pool);
  const files = createImportFiles(deps.config.IMPORT_DIR);
  const imports = createImportService({
    repository,
    files,
    producer: deps.producer,
    entitlements: deps.entitlements,
    segments: deps.segments,
    subscribers: deps.subscribers,
  });
  return defineModule({
    name: 'imports',
    services: { imports },
    routes: mount(importRoutes, { config: deps.config, imports }),
    jobs: () => ({ 'import.process': createImportJob({ repository, files, entitlements: deps.entitlements }) }),
    retention: [
      {
        name: 'imports',
        days: deps.config.RETENTION_IMPORTS_DAYS,
        async run(cutoff) {
          const ids = await repository.deleteBefore(cutoff);
          await Promise.all(ids.map((id) => files.remove(id)));
          return ids.length;
        },
      },
    ],
  });
}
