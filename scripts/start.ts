import { dirname } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { loadConfig, ConfigError } from '../config/config.js';
import { createLogger } from '../config/logger.js';
import { Subject } from 'rxjs';
import { startEmbeddedPostgres } from '../db/embedded-postgres.js';
import { migrate, openOrm } from '../db/orm.js';
import { startNotifyServer } from '../server/notify-server.js';
import { runWorkerService } from '../worker/service.js';
import { createDemoDossiers } from './demo-dossiers.js';
import { authForRun, demoToken } from './run-auth.js';
import { startTemporalDevServer } from './temporal-dev-server.js';

/**
 * `npm start`: the whole service on embedded defaults. Without TEMPORAL_ADDRESS it runs the
 * Temporal CLI dev server (SQLite file, Web UI); without DATABASE_URL, PGlite on loopback;
 * without JWT settings, a secret for this run only. Then migrations, schedules, the worker and
 * the delivery server.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const stops: Array<() => Promise<void>> = [];

  let databaseUrl = config.database.url;
  const embedded = !databaseUrl;
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
    const { dbFile, port, uiPort, sqlitePragmas } = config.temporal.devServer;
    const dev = await startTemporalDevServer({
      port,
      uiPort,
      dbFile,
      sqlitePragmas,
      namespace: config.temporal.namespace,
      logFile: `${dirname(dbFile)}/temporal-dev-server.log`,
    });
    stops.push(dev.stop);
    temporalAddress = dev.address;
    logger.info({ port, uiPort, dbFile }, 'Temporal dev server started');
  }

  const { auth, demoSecret } = authForRun(config.server.auth);
  if (demoSecret) logger.warn('No JWT_HS256_SECRET or JWT_JWKS_URL: using a secret for this run only');

  // PGlite is a single session: one connection, shared by the worker and the server. No statement
  // deadline here (in production the worker and server processes set it).
  const orm = await openOrm(databaseUrl, { poolMax: embedded ? 1 : config.database.poolMax });
  stops.unshift(() => orm.close());
  // PGlite is one session: its migrations cannot have a connection of their own.
  await migrate(orm, { sharedConnection: embedded });
  const connection = await Connection.connect({ address: temporalAddress });
  stops.unshift(() => connection.close());
  /** Users whose notifications the worker below has just committed (embedded only). */
  const committed = new Subject<string>();
  const server = await startNotifyServer({
    config: { ...config.server, auth },
    databaseUrl,
    orm,
    temporal: {
      client: new Client({ connection, namespace: config.temporal.namespace }),
      taskQueue: config.temporal.taskQueue,
    },
    logger,
    // PGlite does not deliver NOTIFY to its socket clients: the server polls, and the worker of
    // this same process announces each notification it commits, read at once (docs/performance.md).
    feed: embedded ? { type: 'poll', intervalMs: 250, wake: committed } : { type: 'listen' },
  });
  stops.unshift(() => server.shutdown());

  const base = `http://127.0.0.1:${server.port}`;
  const lines = [
    `Temporal Web UI:  http://127.0.0.1:${config.temporal.devServer.uiPort}  (namespace ${config.temporal.namespace})`,
  ];
  if (config.temporal.address) lines[0] = `Temporal:         ${temporalAddress}`;
  lines.push(`Delivery server:  ${base}  (OpenAPI: ${base}/api/v1/openapi.json)`);
  if (demoSecret) {
    lines.push(`The bell (user "demo"): ${base}/#token=${await demoToken(auth)}`);
    lines.push(
      `A service token (REST, the Python client; 12 h): ${await demoToken(auth, { service: true })}`,
    );
    // Dossiers due today, tomorrow and overdue for that user (signal-with-start: the worker,
    // starting below, picks them up).
    const demoClient = new Client({ connection, namespace: config.temporal.namespace });
    const demo = { taskQueue: config.temporal.taskQueue, timeZone: config.defaults.timeZone, logger };
    void createDemoDossiers(demoClient, demo).catch((error: Error) =>
      logger.error({ err: error }, 'Could not create the demo dossiers'),
    );
  } else {
    // The operator's own keys: no token of theirs is ever printed.
    lines.push(`The bell:         ${base}/#token=<a token of your identity provider>`);
  }
  console.log(`\n  ${lines.join('\n  ')}\n`);

  try {
    await runWorkerService(config, orm, temporalAddress, logger, {
      sharedConnection: embedded,
      ...(embedded && { announced: (userId: string) => committed.next(userId) }),
    });
  } finally {
    // Bounded as server/main.ts is: past the server's own deadline, a stop that still waits (the
    // pool closing behind a mark that waits for a lock held elsewhere) does not hold the terminal.
    setTimeout(() => process.exit(1), config.server.shutdownTimeoutMs + 5000).unref();
    for (const stop of stops) await stop().catch(() => undefined);
  }
}

// Stopped: a client's kept-alive connection, which nothing serves any more, must not keep the
// process up.
main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof ConfigError ? error.message : error);
    process.exit(1);
  },
);
