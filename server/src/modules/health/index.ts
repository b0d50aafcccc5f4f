import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import type { DB } from '../../db/types.ts';
import { defineModule, mount } from '../module.ts';
import { healthRoutes } from './health.routes.ts';

/** `/health` (the process is up) and `/ready` (PostgreSQL and Redis answer), outside /api/v1. */
export function createHealthModule(deps: { db: Kysely<DB>; redis: Pick<Redis, 'ping'> }) {
  return defineModule({ name: 'health', services: {}, rootRoutes: mount(healthRoutes, { db: deps.db, redis: deps.redis }) });
}
