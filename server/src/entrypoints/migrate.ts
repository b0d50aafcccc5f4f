import { loadPartialConfig } from '../config/index.ts';
import { createDb, createPool } from '../db/client.ts';
import { migrateToLatest } from '../db/migrator.ts';
import { createLogger } from '../logger.ts';
import { exitOnStartupError } from './lifecycle.ts';

// One-shot: applies pending migrations and exits 0 (compose runs it before api, worker and cron).
try {
  const config = loadPartialConfig(['DATABASE_URL', 'LOG_LEVEL']);
  const logger = createLogger(config, 'migrate');
  const db = createDb(createPool(config.DATABASE_URL, 1));
  try {
    const applied = await migrateToLatest(db);
    logger.info({ applied }, applied.length > 0 ? 'migrations applied' : 'database is up to date');
  } finally {
    await db.destroy();
  }
} catch (error) {
  exitOnStartupError(error);
}
