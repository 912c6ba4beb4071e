import { loadConfig, ConfigError, requireSettings } from '../config/config.js';
import { createLogger, type Logger } from '../config/logger.js';
import { openOrm } from '../db/orm.js';
import { runWorkerService } from './service.js';

/** Production entry of a worker: DATABASE_URL and TEMPORAL_ADDRESS are required here. */
let logger: Logger | undefined;
try {
  const config = loadConfig();
  logger = createLogger(config.logLevel, 'normx-notify-worker');
  requireSettings('the worker (npm start runs embedded defaults)', {
    DATABASE_URL: Boolean(config.database.url),
    TEMPORAL_ADDRESS: Boolean(config.temporal.address),
  });
  const ormLogger = logger.child({ component: 'orm' });
  const orm = await openOrm(config.database.url!, {
    poolMax: config.database.poolMax,
    statementTimeoutMs: config.database.statementTimeoutMs,
    log: (message) => ormLogger.info(message),
  });
  try {
    await runWorkerService(config, orm, config.temporal.address!, logger);
  } finally {
    await orm.close();
  }
} catch (error) {
  // A configuration error is printed as is (it names each bad variable); anything else is logged.
  if (error instanceof ConfigError || !logger)
    console.error(error instanceof ConfigError ? error.message : error);
  else logger.fatal({ err: error }, 'Worker failed');
  process.exit(1);
}
