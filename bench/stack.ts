import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { createDossierClient, type DossierClient } from '../client/dossier-client.js';
import { loadConfig } from '../config/config.js';
import { migrate, openOrm } from '../db/orm.js';
import { temporalCliPath } from '../scripts/tool-paths.js';
import { freePort } from '../support/free-port.js';
import { sleep, wallClock } from './common.js';
import { createDatabase, dropDatabase } from './database.js';
import { benchAdminUrl } from './env.js';
import { DevServerProcess, NodeProcess, type ProcessHandle } from './processes.js';
import { summarizeLog } from './stack-logs.js';
import type { DevServerFacts, Stack, StackOptions } from './stack-types.js';
import { benchTokens } from './bench-tokens.js';
import { stopOnSignal, workerNodeArgsFromEnv } from './bench-util.js';
import { recordDatabase, recordDir } from './leftovers.js';

/**
 * The whole service as an integrating backend meets it, each piece a separate process on
 * loopback: the Temporal CLI dev server (started as `npm start` starts it, on an SQLite file by
 * default), a fresh database on the machine's PostgreSQL (migrated, dropped at the end), the
 * production worker (`worker/main.ts`) and the production delivery server (`server/main.ts`), one of
 * each by default, or several (`workers`, `servers`). Used by bench/herd.ts, bench/create.ts and
 * bench/latency.ts, and by the fault-injection suite (test/faults/), which kills, pauses and
 * restarts them through their handles (bench/processes.ts); nothing here imports test code.
 */

export type { LogSummary } from './stack-logs.js';
export type { DevServerFacts, ProcessPids, Stack, StackOptions } from './stack-types.js';
export * from './stack-meter.js';
export { freePort, sleep, wallClock };

const adminDatabaseUrl = benchAdminUrl();
/** The bench's own PostgreSQL connections carry this name, so that their CPU is not counted as the service's. */
export const BENCH_APPLICATION_NAME = 'normx-bench-observer';

export const progress =
  (bench: string) =>
  (message: string): void => {
    process.stderr.write(`[${new Date().toISOString().slice(11, 19)} bench:${bench}] ${message}\n`);
  };

/**
 * A fixed-offset zone in which it is around 13:00 now: no 08:00 j-N reminder and no 18:00 daily
 * report falls inside a bench run of less than four hours, whatever the hour it is started at.
 */
export function middayZone(now = new Date()): string {
  let offset = 13 - now.getUTCHours();
  if (offset > 14) offset -= 24;
  if (offset < -12) offset += 24;
  // Etc/GMT signs are inverted: Etc/GMT-3 is UTC+03:00.
  return offset === 0 ? 'Etc/UTC' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
}

let temporalVersion: string | undefined;
function temporalCliVersion(): string {
  if (temporalVersion === undefined) {
    try {
      temporalVersion = execFileSync(temporalCliPath, ['--version'], { encoding: 'utf8' }).trim();
    } catch {
      temporalVersion = 'unknown';
    }
  }
  return temporalVersion;
}

/**
 * Starts the stack; on any failure, what was started is stopped and the database dropped. A
 * signal (Ctrl-C, SIGTERM, SIGHUP) meanwhile does the same, then exits with 130 (no report), as
 * the callers' `stopOnSignal(stack.stop)` does once this returns: the start can take minutes.
 * What runs is in the leftovers registry (bench/leftovers.ts) for a bench killed by SIGKILL.
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const label = options.label ?? 'stack';
  const tempDir = await mkdtemp(join(tmpdir(), `normx-bench-${label}-`));
  const forgetDir = process.env.BENCH_KEEP === '1' ? () => undefined : recordDir(tempDir);
  const databaseName = `normx_bench_${label.replace(/\W/g, '_')}_${process.pid}_${randomBytes(3).toString('hex')}`;
  const cleanups: Array<() => Promise<void>> = [];
  let devServer: DevServerProcess | undefined;
  const workers: NodeProcess[] = [];
  const servers: NodeProcess[] = [];
  let pool: pg.Pool | undefined;
  let temporalConnection: Connection | undefined;
  let stopping: Promise<void> | undefined;

  // One stop, however many callers: a second caller (a signal's handler, then the run's own
  // `finally`) waits for the first to end. Returning at once let the bench exit while the dev
  // server was still up and the database not dropped (both left behind).
  const stop = (): Promise<void> => (stopping ??= stopEverything());
  const stopEverything = async (): Promise<void> => {
    await temporalConnection?.close().catch(() => undefined);
    // The servers first (they hold sockets), then the workers, then Temporal.
    for (const child of [...servers].reverse()) await child.stop().catch(() => undefined);
    for (const child of [...workers].reverse()) await child.stop().catch(() => undefined);
    await devServer?.stop().catch(() => undefined);
    await pool?.end().catch(() => undefined);
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    if (process.env.BENCH_KEEP !== '1') await rm(tempDir, { recursive: true, force: true });
    forgetDir();
  };
  options.onStop?.(stop);
  const unhookSignals = stopOnSignal(stop);
  // Nothing more starts once a signal has begun the stop (it would be left behind).
  const notStopping = (): void => {
    if (stopping) throw new Error('The stack is being stopped (a signal)');
  };

  try {
    // 1. The database, migrated. Its drop is registered first and waits for the creation: a
    // signal during the creation drops it too.
    notStopping();
    const forgetDatabase = recordDatabase(databaseName);
    const creating = createDatabase(adminDatabaseUrl, databaseName);
    cleanups.push(async () => {
      await creating.catch(() => undefined);
      await dropDatabase(adminDatabaseUrl, databaseName);
      forgetDatabase();
    });
    const databaseUrl = await creating;
    const orm = await openOrm(databaseUrl, { poolMax: 1, log: () => undefined });
    try {
      await migrate(orm);
    } finally {
      await orm.close(true);
    }
    pool = new pg.Pool({ connectionString: databaseUrl, max: 4, application_name: BENCH_APPLICATION_NAME });
    // `drop database … with (force)` may end an idle client first: not an uncaught error.
    pool.on('error', () => undefined);

    // 2. The Temporal dev server, as `npm start` runs it (SQLite file) unless told otherwise.
    const storage = options.devServer?.storage ?? 'file';
    const extraArgs = options.devServer?.extraArgs ?? [];
    const dbFile = storage === 'file' ? join(tempDir, 'temporal.sqlite') : undefined;
    const sqlitePragmas =
      storage === 'file'
        ? (options.devServer?.sqlitePragmas ??
          loadConfig({ TEMPORAL_DEV_SQLITE_PRAGMAS: process.env.TEMPORAL_DEV_SQLITE_PRAGMAS }).temporal
            .devServer.sqlitePragmas)
        : [];
    const temporalPort = await freePort();
    const devLog = join(tempDir, 'temporal-dev-server.log');
    notStopping();
    devServer = new DevServerProcess({
      port: temporalPort,
      ...(dbFile && { dbFile, sqlitePragmas }),
      namespace: 'default',
      logFile: devLog,
      extraArgs,
    });
    await devServer.start();
    const dev = devServer;
    const devServerFacts: DevServerFacts = {
      storage: storage === 'file' ? 'sqlite-file' : 'memory',
      dbFile,
      sqlitePragmas,
      extraArgs,
      version: temporalCliVersion(),
      commandLine: readFileSync(`/proc/${dev.pid}/cmdline`, 'utf8')
        .split('\0')
        .filter(Boolean)
        .map((part, index, all) => (all[index - 1] === '--search-attribute' ? '…' : part))
        .join(' ')
        .replace(/(--search-attribute … ?)+/g, '--search-attribute … ')
        .replace(temporalCliPath, 'temporal')
        .replace(tempDir, '$TMP'),
    };

    // 3. The workers and the delivery servers, production entries.
    const { secret, serviceToken, userToken } = await benchTokens();
    const taskQueue = 'normx-notify';
    const common = {
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: dev.address,
      TEMPORAL_TASK_QUEUE: taskQueue,
      LOG_LEVEL: 'warn',
    };
    const readyTimeoutMs = options.readyTimeoutMs ?? 180_000;
    const workerCount = options.workers ?? 1;
    const serverCount = options.servers ?? 1;
    // One log file per process, named as before when there is one of its kind.
    const logName = (kind: string, index: number, count: number) =>
      join(tempDir, count === 1 ? `${kind}.log` : `${kind}-${index + 1}.log`);
    for (let index = 0; index < workerCount; index += 1) {
      const healthPort = await freePort();
      const metricsPort = await freePort();
      notStopping();
      const worker = new NodeProcess(
        'worker',
        workerCount === 1 ? 'worker' : `worker ${index + 1}`,
        'worker/main.ts',
        {
          ...common,
          WORKER_INTERNAL_PORT: String(healthPort),
          WORKER_METRICS_BIND: `127.0.0.1:${metricsPort}`,
          ...options.workerEnv,
        },
        logName('worker', index, workerCount),
        { healthUrl: `http://127.0.0.1:${healthPort}` },
        { readyTimeoutMs, nodeArgs: workerNodeArgsFromEnv() },
      );
      // Listed before it spawns: a stop meanwhile waits for the spawn, then stops it.
      workers.push(worker);
      await worker.spawn();
    }
    for (let index = 0; index < serverCount; index += 1) {
      const [serverPort, internalPort] = [await freePort(), await freePort()];
      notStopping();
      const server = new NodeProcess(
        'server',
        serverCount === 1 ? 'delivery server' : `delivery server ${index + 1}`,
        'server/main.ts',
        {
          ...common,
          DATABASE_URL: options.serverDatabaseUrl?.(databaseUrl, index) ?? databaseUrl,
          JWT_HS256_SECRET: secret,
          SERVER_HOST: '127.0.0.1',
          SERVER_PORT: String(serverPort),
          SERVER_INTERNAL_HOST: '127.0.0.1',
          SERVER_INTERNAL_PORT: String(internalPort),
          // The bench's tabs stand for many browsers but all come from 127.0.0.1: the per-address
          // upgrade limit (where the code has one) would throttle them as one client.
          WS_UPGRADES_PER_SECOND_PER_ADDRESS: '0',
          ...options.serverEnv,
        },
        logName('server', index, serverCount),
        { healthUrl: `http://127.0.0.1:${internalPort}`, url: `http://127.0.0.1:${serverPort}` },
        { readyTimeoutMs },
      );
      servers.push(server);
      await server.spawn();
    }
    const deadline = Date.now() + readyTimeoutMs;
    await Promise.all([...workers, ...servers].map((child) => child.waitReady(deadline)));
    notStopping();
    const serverUrl = servers[0]!.url;
    const workerHealthUrl = workers[0]!.healthUrl;

    const observerPool = pool;
    let dossiers: DossierClient | undefined;
    const all = (): ProcessHandle[] => [dev, ...workers, ...servers];

    return {
      label,
      temporalAddress: dev.address,
      namespace: 'default',
      taskQueue,
      serverUrl,
      wsUrl: serverUrl.replace(/^http/, 'ws'),
      workerHealthUrl,
      databaseUrl,
      databaseName,
      serviceToken,
      userToken,
      query: async (sql, params) => (await observerPool.query(sql, params)).rows,
      dossierClient: async () => {
        if (!dossiers) {
          temporalConnection = await Connection.connect({ address: dev.address });
          dossiers = createDossierClient(
            new Client({ connection: temporalConnection, namespace: 'default' }),
            {
              taskQueue,
            },
          );
        }
        return dossiers;
      },
      pids: {
        get devServer() {
          return dev.pid;
        },
        get worker() {
          return workers[0]!.pid;
        },
        get server() {
          return servers[0]!.pid;
        },
      },
      devServer: dev,
      workers,
      servers,
      postgresPids: async () => {
        const rows = await observerPool.query<{ pid: number }>(
          `select pid from pg_stat_activity
            where (datname = $1 and coalesce(application_name, '') <> $2) or backend_type <> 'client backend'`,
          [databaseName, BENCH_APPLICATION_NAME],
        );
        return rows.rows.map((row) => row.pid);
      },
      devServerFacts,
      assertAlive: () => {
        for (const child of all()) {
          if (child.state === 'down' && !child.stoppedOnPurpose) {
            throw new Error(`The ${child.name} exited (${String(child.exit ?? '?')}); see ${child.logFile}`);
          }
        }
      },
      logSummary: async () =>
        Promise.all(
          all().map(async (child) => ({
            ...(await summarizeLog(child.role, child.logFile)),
            ...(all().filter((other) => other.role === child.role).length > 1 && { name: child.name }),
          })),
        ),
      tempDir,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  } finally {
    // The caller's own stopOnSignal(stack.stop) takes over (the default, without one: the fault suite).
    unhookSignals();
  }
}
