import { startServerHarness, TEST_SECRET } from '../test/support/notify-server.js';
import { runServerChild } from './server-child.js';
import { BENCH_SECRET } from './shared.js';

/**
 * The real delivery server (`startNotifyServer`) on a fresh PostgreSQL database, through the
 * test harness. The feed goes straight into `server.hub.publish`, where the LISTEN handler puts
 * each NOTIFY payload: this measures the push path, not PostgreSQL.
 */
await runServerChild(async () => {
  if (TEST_SECRET !== BENCH_SECRET) throw new Error('bench/shared.ts BENCH_SECRET must equal TEST_SECRET');
  // The harness logs nothing by default: let the server's errors through (pino JSON on stdout).
  process.env.TEST_LOG_LEVEL ??= 'warn';
  const harness = await startServerHarness();
  const { hub } = harness.server;
  return {
    port: harness.server.port,
    publish: (userId, id, json) => hub.publish(userId, { id, json }),
    usersOnline: () => hub.usersOnline,
    // Closes the sockets still open (1001), stops the server and drops the database.
    stop: () => harness.close(),
  };
});
