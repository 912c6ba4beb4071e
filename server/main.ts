import { Client, Connection } from '@temporalio/client';
import { ConfigError, loadConfig, requireSettings } from '../config/config.js';
import { createLogger } from '../config/logger.js';
import { openOrm } from '../db/orm.js';
import { startNotifyServer } from './notify-server.js';

/**
 * Production entry of a delivery server: DATABASE_URL, TEMPORAL_ADDRESS and one of
 * JWT_HS256_SECRET / JWT_JWKS_URL are required. SIGTERM stops it gracefully (exit 0).
 */
try {
  const config = loadConfig();
  const logger = createLogger(config.logLevel, 'normx-notify-server');
  requireSettings('the server', {
    DATABASE_URL: Boolean(config.database.url),
    TEMPORAL_ADDRESS: Boolean(config.temporal.address),
    'JWT_HS256_SECRET or JWT_JWKS_URL': Boolean(config.server.auth.hs256Secret || config.server.auth.jwksUrl),
  });
  const ormLogger = logger.child({ component: 'orm' });
  const orm = await openOrm(config.database.url!, {
    poolMax: config.database.poolMax,
    statementTimeoutMs: config.database.statementTimeoutMs,
    log: (message) => ormLogger.info(message),
  });
  // Lazy: the server pushes notifications even while Temporal is unreachable; /healthz tells.
  const connection = Connection.lazy({ address: config.temporal.address! });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const server = await startNotifyServer({
    config: config.server,
    databaseUrl: config.database.url!,
    orm,
    temporal: { client, taskQueue: config.temporal.taskQueue },
    logger,
  });
  const stop = async (signal: string): Promise<void> => {
    logger.info({ signal }, 'Shutting down');
    const timeout = setTimeout(() => process.exit(1), config.server.shutdownTimeoutMs + 5000);
    timeout.unref();
    await server.shutdown();
    await connection.close();
    await orm.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
}
