import { SignJWT } from 'jose';
import { mapBounded } from '../domain/bounded-concurrency.js';
import { openLib, openRaw, type Connection, type Handlers } from './load-client-sockets.js';
import {
  BENCH_SECRET,
  ignoreBrokenOutput,
  notificationsForUser,
  userIdOf,
  wallClock,
  type ClientCommand,
  type ClientEvent,
  type ClientMode,
  type RoundReport,
} from './shared.js';

/**
 * A load-generator child: opens its share of the connections, then counts the notification
 * frames each round brings and records their latency. It does as little per frame as it can
 * (no JSON parsing: a prefix check and the `sentAt` number), so that the servers, not the
 * clients, are what is measured.
 */

const send = (event: ClientEvent): void => {
  process.send?.(event);
};
ignoreBrokenOutput();
process.on('disconnect', () => process.exit(0));
// Ctrl-C reaches the whole process group: the parent decides (it sends SIGTERM).
process.on('SIGINT', () => undefined);

const CONNECT_TIMEOUT_MS = 60_000;

// --- State of this child -------------------------------------------------------------------

const connections: Connection[] = [];
/** User index of each connection this child opened. */
const usersOfConnections: number[] = [];
let usersTotal = 1;
let round: {
  expected: number;
  received: number;
  lastAt: number;
  latencies: Float64Array;
  cpu: NodeJS.CpuUsage;
  closedSockets: number;
  reported: boolean;
} = {
  expected: 0,
  received: 0,
  lastAt: 0,
  latencies: new Float64Array(0),
  cpu: process.cpuUsage(),
  closedSockets: 0,
  reported: true,
};

const report = (): RoundReport => {
  const cpu = process.cpuUsage(round.cpu);
  return {
    received: round.received,
    expected: round.expected,
    lastAt: round.lastAt,
    latencies: round.latencies.slice(0, Math.min(round.received, round.latencies.length)),
    cpuMicros: cpu.user + cpu.system,
    closedSockets: round.closedSockets,
  };
};

const handlersFor = (resolve: (error?: Error) => void): Handlers => {
  let settled = false;
  const settle = (error?: Error): void => {
    if (settled) return;
    settled = true;
    resolve(error);
  };
  return {
    ready: () => settle(),
    fail: (error) => settle(error),
    notification: (sentAt) => {
      const now = wallClock();
      const index = round.received++;
      if (index < round.latencies.length) round.latencies[index] = now - sentAt;
      round.lastAt = now;
      if (round.received === round.expected && !round.reported) {
        round.reported = true;
        send({ ev: 'done', ...report() });
      }
    },
    closed: () => {
      if (!settled) settle(new Error('closed before it was ready'));
      else round.closedSockets++;
    },
  };
};

async function connectAll(command: Extract<ClientCommand, { cmd: 'connect' }>): Promise<void> {
  const { kind, mode, port, index, of, connections: total, users, concurrency } = command;
  usersTotal = users;
  const secret = new TextEncoder().encode(BENCH_SECRET);
  const tokens = new Map<number, string>();
  const expiresAt = Math.floor(Date.now() / 1000) + 3600;
  const tokenOf = async (user: number): Promise<string> => {
    let token = tokens.get(user);
    if (token === undefined) {
      token = await new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(userIdOf(user))
        .setIssuedAt()
        .setExpirationTime(expiresAt)
        .sign(secret);
      tokens.set(user, token);
    }
    return token;
  };
  const mine: number[] = [];
  for (let i = index; i < total; i += of) mine.push(i);
  // Tokens first, so that the connect time is the servers', not the signing's.
  for (const i of mine) await tokenOf(i % users);

  const openers: Record<ClientMode, typeof openRaw> = { raw: openRaw, lib: openLib };
  const open = openers[mode];
  let failed = 0;
  let retried = 0;
  let firstError: string | undefined;
  const started = performance.now();
  const attempt = (user: number): Promise<{ connection: Connection; error: Error | undefined }> =>
    new Promise((resolve) => {
      const timer = setTimeout(
        () => resolve({ connection, error: new Error('connect timed out') }),
        CONNECT_TIMEOUT_MS,
      );
      const connection: Connection = open(
        kind,
        port,
        tokens.get(user)!,
        handlersFor((error) => {
          clearTimeout(timer);
          resolve({ connection, error });
        }),
      );
    });
  await mapBounded(mine, concurrency, async (connectionIndex) => {
    const user = connectionIndex % users;
    // A connection the server refuses or drops while opening is tried again, twice at most.
    for (let tries = 1; ; tries++) {
      const { connection, error } = await attempt(user);
      if (!error) {
        connections.push(connection);
        usersOfConnections.push(user);
        break;
      }
      connection.close();
      firstError ??= error.message;
      if (tries === 3) {
        failed++;
        break;
      }
      retried++;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });
  send({
    ev: 'connected',
    open: connections.length,
    failed,
    retried,
    firstError,
    ms: performance.now() - started,
  });
}

process.on('message', (command: ClientCommand) => {
  switch (command.cmd) {
    case 'connect':
      connectAll(command).catch((error: Error) =>
        send({ ev: 'failed', message: error.stack ?? error.message }),
      );
      return;
    case 'arm': {
      let expected = 0;
      for (const user of usersOfConnections)
        expected += notificationsForUser(user, usersTotal, command.count);
      round = {
        expected,
        received: 0,
        lastAt: 0,
        latencies: new Float64Array(expected),
        cpu: process.cpuUsage(),
        closedSockets: 0,
        reported: expected === 0,
      };
      send({ ev: 'armed', expected });
      return;
    }
    case 'report':
      send({ ev: 'partial', ...report() });
      return;
    case 'close':
      for (const connection of connections) connection.close();
      connections.length = 0;
      send({ ev: 'closed' });
      return;
  }
});
