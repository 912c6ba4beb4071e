import { ConfigError, loadConfig, requireSettings } from '../config/config.js';
import { createLogger } from '../config/logger.js';
import { migrate, openOrm } from '../db/orm.js';

/**
 * Applies the app's pending migrations to DATABASE_URL, then exits: the compose deployment's
 * one-shot `migrate` service runs it once before workers and servers start, so that replicas
 * never race on a first migration (a worker still migrates at start: a no-op then).
 */
try {
  const config = loadConfig();
  requireSettings('migrations', { DATABASE_URL: Boolean(config.database.url) });
  const logger = createLogger(config.logLevel, 'normx-notify-migrate');
  const orm = await openOrm(config.database.url!, { poolMax: 1, log: (message) => logger.info(message) });
  try {
    await migrate(orm);
    logger.info('Database migrated');
  } finally {
    await orm.close();
  }
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
}
