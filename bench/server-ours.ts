import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../config/config.js';
import { createLogger } from '../config/logger.js';
import { startNotifyServer } from '../server/notify-server.js';
import { createBenchDatabase } from './database.js';
import { runServerChild } from './server-child.js';
import { BENCH_SECRET, OURS_DATABASE_PREFIX, pushAdminUrl } from './shared.js';

/**
 * The real delivery server (`startNotifyServer`) on a fresh PostgreSQL database (dropped when it
 * stops), Temporal pointing nowhere (the push path does not need it). The feed goes straight into
 * `server.hub.publish`, where the LISTEN handler puts each NOTIFY payload: this measures the push
 * path, not PostgreSQL.
 */
await runServerChild(async () => {
  const db = await createBenchDatabase({ prefix: OURS_DATABASE_PREFIX, adminUrl: pushAdminUrl });
  const config = loadConfig({
    JWT_HS256_SECRET: BENCH_SECRET,
    SERVER_HOST: '127.0.0.1',
    SERVER_PORT: '1',
    // The load generators stand for many browsers but all come from 127.0.0.1: the per-address
    // upgrade limit would refuse them as one client (as in bench/stack.ts).
    WS_UPGRADES_PER_SECOND_PER_ADDRESS: '0',
  });
  const server = await startNotifyServer({
    config: { ...config.server, port: 0, internal: { host: '127.0.0.1', port: 0 } },
    databaseUrl: db.url,
    orm: db.orm,
    temporal: {
      client: new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) }),
      taskQueue: 'unused',
    },
    // The server's errors and warnings (pino JSON on stdout); BENCH_LOG_LEVEL for more.
    logger: createLogger(process.env.BENCH_LOG_LEVEL ?? process.env.TEST_LOG_LEVEL ?? 'warn'),
  });
  return {
    port: server.port,
    publish: (userId, id, json) => server.hub.publish(userId, { id, json }),
    usersOnline: () => server.hub.usersOnline,
    // Closes the sockets still open (1001), stops the server and drops the database.
    stop: async () => {
      await server.shutdown();
      await db.drop();
    },
  };
});
