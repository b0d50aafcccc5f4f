import type { Kysely } from 'kysely';
import type { DB } from '../../db/types.ts';
import { defineModule, mount } from '../module.ts';
import { createSuppressionRepository } from './suppressions.repository.ts';
import { suppressionRoutes } from './suppressions.routes.ts';

export { SUPPRESSION_REASONS, type SuppressionReason } from './suppressions.repository.ts';

/** The suppression list: addresses no email of any kind goes to (bounces, complaints, manual entries). */
export function createSuppressionsModule(deps: { db: Kysely<DB> }) {
  const suppressions = createSuppressionRepository(deps.db);
  return defineModule({ name: 'suppressions', services: { suppressions }, routes: mount(suppressionRoutes, { suppressions }) });
}
