import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Connection } from '@temporalio/client';
import { loadConfig, ConfigError, type AppConfig } from '../config/config.js';
import { createLogger, type Logger } from '../config/logger.js';
import { startEmbeddedPostgres } from '../db/embedded-postgres.js';
import { runWorkerService } from '../worker/service.js';
import { temporalCliPath } from './tool-paths.js';

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
  if (!databaseUrl) {
    const pg = await startEmbeddedPostgres({
      dataDir: config.database.pgliteDataDir,
      port: config.database.pglitePort,
    });
    stops.push(pg.stop);
    databaseUrl = pg.url;
    logger.info(
      { dataDir: config.database.pgliteDataDir, port: config.database.pglitePort },
      'Embedded PostgreSQL (PGlite) started',
    );
  }

  let temporalAddress = config.temporal.address;
  if (!temporalAddress) {
    const dev = await startTemporalDevServer(config, logger);
    stops.push(async () => void dev.kill('SIGTERM'));
    temporalAddress = `127.0.0.1:${config.temporal.devServer.port}`;
    console.log(
      `\n  Temporal Web UI: http://127.0.0.1:${config.temporal.devServer.uiPort}  (namespace ${config.temporal.namespace})\n`,
    );
  }

  try {
    await runWorkerService(config, { databaseUrl, temporalAddress }, logger);
  } finally {
    for (const stop of stops.reverse()) await stop();
  }
}

async function startTemporalDevServer(config: AppConfig, logger: Logger): Promise<ChildProcess> {
  const { dbFile, port, uiPort } = config.temporal.devServer;
  await mkdir(dirname(dbFile), { recursive: true });
  const logFile = await open(`${dirname(dbFile)}/temporal-dev-server.log`, 'a');
  const child = spawn(
    temporalCliPath,
    [
      'server',
      'start-dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--ui-port',
      String(uiPort),
      '--db-filename',
      dbFile,
      '--namespace',
      config.temporal.namespace,
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', logFile.fd, logFile.fd] },
  );
  child.on('exit', (code) => {
    void logFile.close();
    logger.warn({ code }, 'Temporal dev server exited');
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const connection = await Connection.connect({
        address: `127.0.0.1:${port}`,
        connectTimeout: '1 second',
      });
      await connection.close();
      break;
    } catch (error) {
      if (child.exitCode !== null || Date.now() > deadline) {
        throw new Error(
          `The Temporal dev server did not start (see ${dirname(dbFile)}/temporal-dev-server.log)`,
          { cause: error },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  logger.info({ port, uiPort, dbFile }, 'Temporal dev server started');
  return child;
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
