import { dirname } from 'node:path';
import { loadConfig, ConfigError } from '../config/config.js';
import { createLogger } from '../config/logger.js';
import { startEmbeddedPostgres } from '../db/embedded-postgres.js';
import { runWorkerService } from '../worker/service.js';
import { startTemporalDevServer } from './temporal-dev-server.js';

/**
 * `npm start`: the service on embedded defaults. Without TEMPORAL_ADDRESS it runs the Temporal
 * CLI dev server (SQLite file, Web UI); without DATABASE_URL, PGlite on loopback. Then
 * migrations, schedules and the worker.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const stops: Array<() => Promise<void>> = [];

  let databaseUrl = config.database.url;
  let databasePoolMax: number | undefined;
  if (!databaseUrl) {
    const pg = await startEmbeddedPostgres({
      dataDir: config.database.pgliteDataDir,
      port: config.database.pglitePort,
    });
    stops.push(pg.stop);
    databaseUrl = pg.url;
    databasePoolMax = 1;
    logger.info(
      { dataDir: config.database.pgliteDataDir, port: config.database.pglitePort },
      'Embedded PostgreSQL (PGlite) started',
    );
  }

  let temporalAddress = config.temporal.address;
  if (!temporalAddress) {
    const { dbFile, port, uiPort } = config.temporal.devServer;
    const dev = await startTemporalDevServer({
      port,
      uiPort,
      dbFile,
      namespace: config.temporal.namespace,
      logFile: `${dirname(dbFile)}/temporal-dev-server.log`,
    });
    stops.push(dev.stop);
    temporalAddress = dev.address;
    logger.info({ port, uiPort, dbFile }, 'Temporal dev server started');
    console.log(
      `\n  Temporal Web UI: http://127.0.0.1:${config.temporal.devServer.uiPort}  (namespace ${config.temporal.namespace})\n`,
    );
  }

  try {
    await runWorkerService(config, { databaseUrl, databasePoolMax, temporalAddress }, logger);
  } finally {
    for (const stop of stops.reverse()) await stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
