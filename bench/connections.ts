import { loadavg } from 'node:os';
import { connectAll, pushToAll } from './connections-connect.js';
import {
  capped,
  clientProcesses,
  connections,
  limits,
  log,
  requestedConnections,
  step,
  stormNotifications,
  stormTabs,
  stormUsers,
  users,
} from './connections-params.js';
import { sample, type Sample } from './connections-probes.js';
import { writeConnectionsReport } from './connections-report.js';
import {
  armDeadline,
  cleanUp,
  createRunDatabase,
  run,
  startClients,
  startServer,
} from './connections-server.js';
import { reconnectStorm } from './connections-storm.js';
import { machineFacts } from './report.js';
import { sweepLeftovers } from './leftovers.js';

/**
 * `npm run bench:connections`: one delivery server process (`server/main.ts`, unchanged) holding
 * BENCH_CONNECTIONS authenticated WebSocket connections (4 tabs per user), its memory measured
 * step by step; a push of one notification per user to every tab; then a reconnect storm:
 * BENCH_STORM_TABS tabs drop, BENCH_STORM_NOTIFICATIONS notifications per user are committed
 * meanwhile, and every tab reconnects at once with `?lastId=` and must get exactly what it
 * missed, in order. Writes docs/bench/connections.md and .svg. Loopback only; every process
 * and the database are gone when this ends, whichever way it ends.
 */

process.stdout.on('error', () => undefined);
process.stderr.on('error', () => undefined);
armDeadline();

async function main(): Promise<void> {
  await sweepLeftovers();
  const machine = await machineFacts();
  const loadAtStart = loadavg()
    .map((value) => value.toFixed(2))
    .join(' / ');
  log(
    `${connections.toLocaleString('en-US')} connections${capped ? ` (capped from ${requestedConnections.toLocaleString('en-US')}: RLIMIT_NOFILE hard limit ${limits.hard})` : ''}, ` +
      `${users.toLocaleString('en-US')} users, ${clientProcesses} client processes, steps of ${step}; ` +
      `storm: ${stormTabs} tabs of ${stormUsers} users, ${stormNotifications} notifications each`,
  );
  if (capped)
    console.warn(
      `[bench] WARNING: the server process cannot hold ${requestedConnections} sockets: its open-file hard limit is ` +
        `${limits.hard} (ulimit -Hn; raising it needs CAP_SYS_RESOURCE or a higher limit from the supervisor). ` +
        `Running ${connections} instead; the report says so.`,
    );

  const databaseUrl = await createRunDatabase();
  log(`database ${run.databaseName} migrated, ${users} users`);

  const server = await startServer(databaseUrl);
  const samples: Sample[] = [await sample('idle', server.pid, server.internalPort)];
  // Clients: their own processes, heaps and source addresses.
  await startClients(server);
  const connect = await connectAll(server, samples);
  const push = await pushToAll(server, samples);
  const storm = await reconnectStorm(server, samples);
  await writeConnectionsReport({ machine, loadAtStart, samples, server, connect, push, storm });
}

let exitCode = 0;
try {
  await main();
} catch (error) {
  console.error(`[bench] failed: ${(error as Error).stack ?? error}`);
  exitCode = 1;
} finally {
  await cleanUp.cleanUp();
}
process.exit(exitCode);
