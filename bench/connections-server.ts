import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { storeNotification } from '../activities/notification-store.js';
import { configVariables, loadConfig } from '../config/config.js';
import { migrate, openOrm, type Orm } from '../db/orm.js';
import { freePort } from '../support/free-port.js';
import { waitFor } from '../support/wait.js';
import { IpcChild, killProcess } from './child.js';
import { cleanUpOnce, wallClock, withStack } from './common.js';
import type { ClientCommand, ClientEvent } from './connections-protocol.js';
import { Inspector } from './connections-inspector.js';
import {
  addressOctet,
  adminUrl,
  benchUserId,
  clientProcesses,
  commitConcurrency,
  connectConcurrency,
  connections,
  deadlineSeconds,
  log,
  users,
} from './connections-params.js';
import { createDatabase, dropDatabase, uniqueDatabaseName } from './database.js';
import { dieWithParent, recordDatabase, recordProcess } from './leftovers.js';

/**
 * The processes of `npm run bench:connections`: the delivery server (`server/main.ts`, unchanged,
 * with `--inspect`), its fresh database, the load-generator children; and the clean-up that
 * leaves none of them behind, whichever way the run ends; after a SIGKILL, the next bench's sweep
 * does (each is in the leftovers registry, bench/leftovers.ts, while it is there).
 */

const root = fileURLToPath(new URL('..', import.meta.url));
const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));

export type ClientChild = IpcChild<ClientCommand, ClientEvent>;

/** What is running now, for the phases and the clean-up. */
export const run: {
  clients: ClientChild[];
  serverProcess: ChildProcess | undefined;
  inspector: Inspector | undefined;
  orm: Orm | undefined;
  databaseName: string | undefined;
} = { clients: [], serverProcess: undefined, inspector: undefined, orm: undefined, databaseName: undefined };
let forgetDatabase = (): void => undefined;

export const cleanUp = cleanUpOnce(
  async () => {
    // The clients first (nothing to save there), so that the server has no socket left to close.
    await Promise.all(run.clients.map((client) => killProcess(client.process, 'SIGKILL', 0)));
    run.inspector?.close();
    if (run.serverProcess) await killProcess(run.serverProcess, 'SIGTERM', 15_000);
    await run.orm?.close(true).catch(() => undefined);
    if (run.databaseName) {
      try {
        await dropDatabase(adminUrl, run.databaseName);
        forgetDatabase();
        log(`dropped database ${run.databaseName}`);
      } catch (error) {
        console.error(`[bench] could not drop database ${run.databaseName}: ${withStack(error)}`);
      }
    }
  },
  (signal) => console.error(`\n[bench] ${signal}: stopping every process and dropping the database…`),
);

/** Past BENCH_DEADLINE_S, the run stops. */
export function armDeadline(): void {
  const deadline = setTimeout(() => {
    console.error(`[bench] BENCH_DEADLINE_S (${deadlineSeconds} s) passed: stopping`);
    void cleanUp.cleanUp().finally(() => process.exit(1));
  }, deadlineSeconds * 1000);
  deadline.unref();
}

/** A fresh database, migrated, with the run's users; returns its URL. */
export async function createRunDatabase(): Promise<string> {
  run.databaseName = uniqueDatabaseName('normx_notify_bench');
  forgetDatabase = recordDatabase(run.databaseName);
  const url = await createDatabase(adminUrl, run.databaseName);
  run.orm = await openOrm(url, { poolMax: commitConcurrency });
  await migrate(run.orm);
  await run.orm.em
    .fork()
    .execute(`insert into users (id) select 'bench-user-' || g from generate_series(0, ${users - 1}) g`);
  return url;
}

/** Stores one notification the way the activities do (insert + pg_notify in one statement). */
export async function commit(user: number, key: string): Promise<string> {
  const { id } = await storeNotification(run.orm!.em.fork(), {
    idempotencyKey: key,
    userId: benchUserId(user),
    type: 'new_alert',
    kind: 'urgent',
    dossierId: `D-BENCH-${user}`,
    title: `Dossier D-BENCH-${user} is urgent`,
    body: 'Bilan 2026 SARL Dupont needs attention today.',
    data: { sentAt: wallClock() },
    scheduledFor: null,
  });
  // The bench's keys are fresh and nothing retires them (the retention does not run here).
  if (id === null) throw new Error(`commit ${key}: answered as a retired key`);
  return id;
}

export interface ServerStarted {
  port: number;
  internalPort: number;
  secret: string;
  pid: number;
  /** Rejects when the server exits. */
  serverExit: Promise<never>;
  /** The server's connection caps in force for the run. */
  capsText: string;
  /** Settings of the server taken from the bench's environment. */
  inherited: string[];
}

/** Starts the delivery server on free ports and connects to its inspector once it answers /metrics. */
export async function startServer(databaseUrl: string): Promise<ServerStarted> {
  const [port, internalPort, inspectPort] = [await freePort(), await freePort(), await freePort()];
  const secret = randomBytes(36).toString('base64url');
  // Settings of the server given to the bench (e.g. DATABASE_POOL_MAX=20) reach it too.
  const ours = [
    'DATABASE_URL',
    'TEMPORAL_ADDRESS',
    'JWT_HS256_SECRET',
    'JWT_JWKS_URL',
    'SERVER_PORT',
    'SERVER_HOST',
    'SERVER_INTERNAL_PORT',
    'SERVER_INTERNAL_HOST',
    'LOG_LEVEL',
  ];
  const inherited = configVariables
    .filter((name) => !ours.includes(name) && process.env[name] !== undefined && process.env[name] !== '')
    .map((name) => `${name}=${process.env[name]}`);
  const serverEnv = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: '127.0.0.1:1',
    JWT_HS256_SECRET: secret,
    SERVER_PORT: String(port),
    SERVER_HOST: '127.0.0.1',
    SERVER_INTERNAL_PORT: String(internalPort),
    SERVER_INTERNAL_HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    JWT_JWKS_URL: '',
  };
  const caps = loadConfig(serverEnv).server.connectionLimits;
  const capsText =
    `WS_MAX_OPENING_SOCKETS=${caps.maxOpeningSockets}, WS_UPGRADES_PER_SECOND_PER_ADDRESS=${caps.upgradesPerAddress.perSecond}, ` +
    `WS_UPGRADE_BURST_PER_ADDRESS=${caps.upgradesPerAddress.burst}, WS_MAX_SOCKETS_PER_USER=${caps.maxSocketsPerUser}`;
  const args = ['--import', 'tsx', `--inspect=127.0.0.1:${inspectPort}`, 'server/main.ts'];
  // SIGTERM from the kernel if the bench dies (possibly twice: it may die of the second before
  // closing its sockets and pool; the next bench's sweep drops its database).
  const serverProcess = spawn(...dieWithParent(process.execPath, args), {
    cwd: root,
    env: serverEnv,
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  run.serverProcess = serverProcess;
  serverProcess.once('exit', recordProcess(serverProcess.pid, `node ${args.join(' ')}`));
  serverProcess.stderr!.on('data', (chunk: Buffer) => {
    const text = chunk
      .toString()
      .split('\n')
      .filter((line) => line && !/Debugger listening|For help, see|Debugger attached/.test(line))
      .join('\n');
    if (text) process.stderr.write(`[server] ${text}\n`);
  });
  const serverExit = new Promise<never>((_, reject) =>
    serverProcess!.once('exit', (code, signal) =>
      reject(new Error(`the server exited (code ${code}, signal ${signal})`)),
    ),
  );
  serverExit.catch(() => undefined);
  const pid = serverProcess.pid!;
  await waitFor(
    'the server answering /metrics',
    async () => (await fetch(`http://127.0.0.1:${internalPort}/metrics`)).ok,
    { timeoutMs: 60_000, intervalMs: 100 },
  );
  run.inspector = await Inspector.connect(inspectPort);
  log(`server pid ${pid} on 127.0.0.1:${port}`);
  return { port, internalPort, secret, pid, serverExit, capsText, inherited };
}

/** Starts the client children and hands each its share of the tabs. */
export async function startClients(server: ServerStarted): Promise<void> {
  for (let index = 0; index < clientProcesses; index++) {
    const client: ClientChild = new IpcChild(`client ${index}`, here('connections-client.ts'));
    // They leave when the bench does (their IPC channel closes); recorded should one not.
    client.process.once('exit', recordProcess(client.pid, `node --import tsx bench/connections-client.ts`));
    run.clients.push(client);
  }
  for (const [index, client] of run.clients.entries())
    client.send({
      cmd: 'init',
      port: server.port,
      secret: server.secret,
      childIndex: index,
      of: run.clients.length,
      connections,
      users,
      addressOctet,
      concurrency: Math.max(1, Math.floor(connectConcurrency / clientProcesses)),
      connectTimeoutMs: 60_000,
    });
  await Promise.all(run.clients.map((client) => client.next('inited', 120_000)));
}
