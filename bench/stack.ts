import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { SignJWT } from 'jose';
import pg from 'pg';
import { createDossierClient, type DossierClient } from '../client/dossier-client.js';
import { loadConfig } from '../config/config.js';
import { migrate, openOrm } from '../db/orm.js';
import { temporalCliPath } from '../scripts/tool-paths.js';
import { DevServerProcess, NodeProcess, sleep, type ProcessHandle } from './processes.js';

/**
 * The whole service as an integrating backend meets it, each piece a separate process on
 * loopback: the Temporal CLI dev server (started as `npm start` starts it, on an SQLite file by
 * default), a fresh database on the machine's PostgreSQL (migrated, dropped at the end), the
 * production worker (`worker/main.ts`) and the production delivery server (`server/main.ts`), one of
 * each by default, or several (`workers`, `servers`). Used by bench/herd.ts, bench/create.ts and
 * bench/latency.ts, and by the fault-injection suite (test/faults/), which kills, pauses and
 * restarts them through their handles (bench/processes.ts); nothing here imports test code.
 */

const adminDatabaseUrl =
  process.env.BENCH_DATABASE_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
/** The bench's own PostgreSQL connections carry this name, so that their CPU is not counted as the service's. */
export const BENCH_APPLICATION_NAME = 'normx-bench-observer';

export interface StackOptions {
  /** Short name used in temp dirs and database names. */
  label?: string;
  devServer?: {
    /** `file` (default): an SQLite file in a temp dir, as `npm start` runs it; `memory`: no file. */
    storage?: 'file' | 'memory';
    /**
     * `name=value` pragmas of the SQLite file; default: `npm start`'s (TEMPORAL_DEV_SQLITE_PRAGMAS
     * of this shell, else its default in config/config.ts).
     */
    sqlitePragmas?: string[];
    /** Passed to the dev server as is, e.g. `['--dynamic-config-value', 'KEY=VALUE']`. */
    extraArgs?: string[];
  };
  /** Extra environment of the worker (e.g. DEFAULT_TIMEZONE, worker tuning variables). */
  workerEnv?: Record<string, string>;
  /** Extra environment of the delivery server. */
  serverEnv?: Record<string, string>;
  /** How many workers and delivery servers (default 1 each), all on the same task queue and database. */
  workers?: number;
  servers?: number;
  /**
   * The DATABASE_URL of delivery server `index` (from 0), given the stack's: e.g. through a TCP
   * proxy. Default: the stack's.
   */
  serverDatabaseUrl?: (databaseUrl: string, index: number) => string;
  /** How long to wait for every piece to be ready (default 180 s). */
  readyTimeoutMs?: number;
}

export interface ProcessPids {
  devServer: number;
  worker: number;
  server: number;
}

export interface DevServerFacts {
  storage: 'sqlite-file' | 'memory';
  dbFile: string | undefined;
  sqlitePragmas: string[];
  extraArgs: string[];
  /** `temporal --version` */
  version: string;
  /** The command line as started (search attributes elided). */
  commandLine: string;
}

export interface LogSummary {
  component: 'devServer' | 'worker' | 'server';
  /** The process's name when there are several of its kind (`worker 2`). */
  name?: string;
  file: string;
  lines: number;
  warnings: number;
  errors: number;
  /** Up to 8 distinct messages of warning level or above, with their counts. */
  top: Array<{ message: string; count: number }>;
}

export interface Stack {
  label: string;
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  /** `http://127.0.0.1:<port>` of the (first) delivery server. */
  serverUrl: string;
  /** `ws://127.0.0.1:<port>` of the (first) delivery server. */
  wsUrl: string;
  workerHealthUrl: string;
  databaseUrl: string;
  databaseName: string;
  serviceToken: string;
  userToken(userId: string): Promise<string>;
  /** A query on the bench's own pool (not counted as the service's CPU). */
  query<Row extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<Row[]>;
  /** The client API on a connection of the bench's own (closed by stop()). */
  dossierClient(): Promise<DossierClient>;
  /** The current pids of the dev server and of the first worker and delivery server. */
  pids: ProcessPids;
  /** Each process, to kill, pause, resume or start again (same ports, same SQLite file). */
  devServer: DevServerProcess;
  workers: NodeProcess[];
  /** Delivery servers: `url` is each one's public `http://127.0.0.1:<port>`, `healthUrl` its internal one. */
  servers: NodeProcess[];
  /** PostgreSQL backends serving this database, plus the server's shared background processes. */
  postgresPids(): Promise<number[]>;
  devServerFacts: DevServerFacts;
  /** Throws if a process of the stack has exited, other than by a kill() or stop() of its handle. */
  assertAlive(): void;
  /** Warnings and errors in the processes' logs so far. */
  logSummary(): Promise<LogSummary[]>;
  tempDir: string;
  /** Stops everything (SIGTERM, then SIGKILL), drops the database, removes the temp dir (BENCH_KEEP=1 keeps it). */
  stop(): Promise<void>;
}

/** A TCP port free on loopback right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export { sleep };

/** Wall-clock milliseconds with sub-millisecond resolution (comparable with PostgreSQL's now()). */
export const wallClock = (): number => performance.timeOrigin + performance.now();

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

/** Runs `worker` over `items` with at most `concurrency` at a time. */
export async function forEachConcurrent<T>(
  items: readonly T[],
  concurrency: number,
  worker: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        await worker(items[index]!, index);
      }
    }),
  );
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

/** Starts the stack; on any failure, what was started is stopped and the database dropped. */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const label = options.label ?? 'stack';
  const tempDir = await mkdtemp(join(tmpdir(), `normx-bench-${label}-`));
  const databaseName = `normx_bench_${label.replace(/\W/g, '_')}_${process.pid}_${randomBytes(3).toString('hex')}`;
  const cleanups: Array<() => Promise<void>> = [];
  let devServer: DevServerProcess | undefined;
  const workers: NodeProcess[] = [];
  const servers: NodeProcess[] = [];
  let pool: pg.Pool | undefined;
  let temporalConnection: Connection | undefined;
  let stopped = false;

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await temporalConnection?.close().catch(() => undefined);
    // The servers first (they hold sockets), then the workers, then Temporal.
    for (const child of [...servers].reverse()) await child.stop().catch(() => undefined);
    for (const child of [...workers].reverse()) await child.stop().catch(() => undefined);
    await devServer?.stop().catch(() => undefined);
    await pool?.end().catch(() => undefined);
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    if (process.env.BENCH_KEEP !== '1') await rm(tempDir, { recursive: true, force: true });
  };

  try {
    // 1. The database, migrated.
    const admin = new pg.Client({ connectionString: adminDatabaseUrl });
    await admin.connect();
    await admin.query(`create database ${databaseName}`);
    await admin.end();
    cleanups.push(async () => {
      const cleanup = new pg.Client({ connectionString: adminDatabaseUrl });
      await cleanup.connect();
      await cleanup.query(`drop database if exists ${databaseName} with (force)`);
      await cleanup.end();
    });
    const url = new URL(adminDatabaseUrl);
    url.pathname = `/${databaseName}`;
    const databaseUrl = url.toString();
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
    const secret = randomBytes(36).toString('base64url');
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
      const worker = new NodeProcess(
        'worker',
        workerCount === 1 ? 'worker' : `worker ${index + 1}`,
        'worker/main.ts',
        {
          ...common,
          WORKER_HEALTH_PORT: String(healthPort),
          WORKER_METRICS_BIND: `127.0.0.1:${metricsPort}`,
          ...options.workerEnv,
        },
        logName('worker', index, workerCount),
        { healthUrl: `http://127.0.0.1:${healthPort}` },
        readyTimeoutMs,
      );
      await worker.spawn();
      workers.push(worker);
    }
    for (let index = 0; index < serverCount; index += 1) {
      const [serverPort, internalPort] = [await freePort(), await freePort()];
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
        readyTimeoutMs,
      );
      await server.spawn();
      servers.push(server);
    }
    const deadline = Date.now() + readyTimeoutMs;
    await Promise.all([...workers, ...servers].map((child) => child.waitReady(deadline)));
    const serverUrl = servers[0]!.url;
    const workerHealthUrl = workers[0]!.healthUrl;

    const key = new TextEncoder().encode(secret);
    const sign = (subject: string, claims: Record<string, unknown> = {}) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(subject)
        .setExpirationTime('24h')
        .sign(key);
    const serviceToken = await sign('normx-backend', { scope: 'notify:service' });
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
      userToken: (userId) => sign(userId),
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
  }
}

/** Counts warning and error lines in a JSON (pino / zap) or plain log; the most frequent messages. */
async function summarizeLog(component: LogSummary['component'], file: string): Promise<LogSummary> {
  let text = '';
  try {
    text = await readFile(file, 'utf8');
  } catch {
    // no log yet
  }
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  let warnings = 0;
  let errors = 0;
  const counts = new Map<string, number>();
  for (const line of lines) {
    let level: string;
    let message = line;
    try {
      const entry = JSON.parse(line) as Record<string, unknown>;
      // pino: numeric level (40 warn, 50 error, 60 fatal); zap (Temporal): "level":"warn".
      const raw = entry.level;
      level =
        typeof raw === 'number'
          ? raw >= 50
            ? 'error'
            : raw >= 40
              ? 'warn'
              : 'info'
          : String(raw ?? '').toLowerCase();
      message = String(entry.msg ?? entry.message ?? line);
      const err = entry.err as { message?: string } | undefined;
      const detail = entry.error ?? err?.message;
      if (detail) message += `: ${String(detail)}`;
    } catch {
      // logfmt (the Temporal CLI: `time=… level=WARN msg="…"`) or plain text.
      const logfmtLevel = /\blevel=(\w+)/.exec(line)?.[1];
      level = logfmtLevel
        ? logfmtLevel.toLowerCase()
        : /\b(error|fatal|panic)\b/i.test(line)
          ? 'error'
          : /\bwarn/i.test(line)
            ? 'warn'
            : 'info';
      const logfmtMessage = /\bmsg="((?:[^"\\]|\\.)*)"/.exec(line)?.[1] ?? /\bmsg=(\S+)/.exec(line)?.[1];
      if (logfmtMessage) {
        const error = /\berror="((?:[^"\\]|\\.)*)"/.exec(line)?.[1];
        message = error ? `${logfmtMessage}: ${error}` : logfmtMessage;
      }
    }
    if (level.startsWith('warn')) warnings += 1;
    else if (['error', 'fatal', 'panic', 'dpanic'].includes(level)) errors += 1;
    else continue;
    const key = `${level}: ${message.replace(/\d{3,}/g, 'N').slice(0, 200)}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const top = [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8)
    .map(([message, count]) => ({ message, count }));
  return { component, file, lines: lines.length, warnings, errors, top };
}

// ---------------------------------------------------------------------------------------------
// CPU and memory of the stack's processes, from /proc.

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/**
 * CPU seconds a process has used (utime + stime), plus those of its waited-for children when
 * `children` is set (cutime + cstime). Undefined when the process is gone.
 */
export function cpuSeconds(pid: number, { children = false } = {}): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after "pid (comm) ": state is field 3, utime 14, stime 15, cutime 16, cstime 17.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const at = (field: number) => Number(fields[field - 3]);
    const ticks = at(14) + at(15) + (children ? at(16) + at(17) : 0);
    return ticks / ticksPerSecond();
  } catch {
    return undefined;
  }
}

/** CPU seconds the machine has been busy (every core, /proc/stat: all but idle and iowait). */
export function machineBusySeconds(): number {
  try {
    const fields = readFileSync('/proc/stat', 'utf8')
      .split('\n')[0]!
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    const busy = fields[0]! + fields[1]! + fields[2]! + fields[5]! + fields[6]! + (fields[7] ?? 0);
    return busy / ticksPerSecond();
  } catch {
    return NaN;
  }
}

/** Resident set size and its high-water mark, in MiB. */
export function memoryMiB(pid: number): { rss: number; hwm: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
    return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}

export type Component = 'devServer' | 'worker' | 'server' | 'postgres' | 'bench';
export const COMPONENTS: readonly Component[] = ['devServer', 'worker', 'server', 'postgres', 'bench'];
export const COMPONENT_LABELS: Record<Component, string> = {
  devServer: 'Temporal dev server',
  worker: 'worker',
  server: 'delivery server',
  postgres: 'PostgreSQL',
  bench: 'bench client',
};

export interface CpuWindow {
  seconds: number;
  /** CPU seconds used by each component over the window. */
  cpu: Record<Component, number>;
  /** CPU seconds the whole machine was busy over the window (/proc/stat), and the part not ours. */
  machine: { busy: number; others: number; cores: number };
  /** Peak RSS (MiB) sampled over the window, per process (postgres: not summed, shared memory). */
  peakRss: Partial<Record<Component, number>>;
}

export interface CpuMeter {
  /** Ends the window. */
  stop(): Promise<CpuWindow>;
}

/**
 * Measures CPU seconds per component from now until stop(): the dev server (children included),
 * the worker, the delivery server, the PostgreSQL backends of the stack's database and the
 * server's background processes (re-listed every `intervalMs`: a backend that appears in the
 * window counts from zero), and this process. Samples RSS at the same interval.
 */
export async function startCpuMeter(stack: Stack, intervalMs = 1000): Promise<CpuMeter> {
  const started = performance.now();
  const fixed = {
    devServer: () => cpuSeconds(stack.pids.devServer, { children: true }),
    worker: () => cpuSeconds(stack.pids.worker),
    server: () => cpuSeconds(stack.pids.server),
  };
  const base = {
    devServer: fixed.devServer() ?? 0,
    worker: fixed.worker() ?? 0,
    server: fixed.server() ?? 0,
  };
  const last = { ...base };
  const benchBase = process.cpuUsage();
  const machineBase = machineBusySeconds();
  // postgres pid -> [first seen, last seen] CPU seconds.
  const pgSeen = new Map<number, [number, number]>();
  const peakRss: Partial<Record<Component, number>> = {};
  let firstListing = true;
  const sample = async (): Promise<void> => {
    for (const name of ['devServer', 'worker', 'server'] as const) {
      const value = fixed[name]();
      if (value !== undefined) last[name] = value;
      const memory = memoryMiB(stack.pids[name]);
      if (memory) peakRss[name] = Math.max(peakRss[name] ?? 0, memory.rss);
    }
    const rss = process.memoryUsage().rss / 2 ** 20;
    peakRss.bench = Math.max(peakRss.bench ?? 0, rss);
    let pids: number[] = [];
    try {
      pids = await stack.postgresPids();
    } catch {
      // the database is going away
    }
    for (const pid of pids) {
      const value = cpuSeconds(pid);
      if (value === undefined) continue;
      const seen = pgSeen.get(pid);
      if (seen) seen[1] = value;
      else pgSeen.set(pid, [firstListing ? value : 0, value]);
    }
    firstListing = false;
  };
  await sample();
  const timer = setInterval(() => void sample(), intervalMs);
  return {
    stop: async () => {
      clearInterval(timer);
      await sample();
      const bench = process.cpuUsage(benchBase);
      const busy = machineBusySeconds() - machineBase;
      let postgres = 0;
      for (const [first, lastSeen] of pgSeen.values()) postgres += lastSeen - first;
      const cpu = {
        devServer: last.devServer - base.devServer,
        worker: last.worker - base.worker,
        server: last.server - base.server,
        postgres,
        bench: (bench.user + bench.system) / 1e6,
      };
      const ours = Object.values(cpu).reduce((sum, value) => sum + value, 0);
      return {
        seconds: (performance.now() - started) / 1000,
        cpu,
        machine: { busy, others: Math.max(0, busy - ours), cores: cpus().length },
        peakRss,
      };
    },
  };
}

/** Counters and histogram sums of the worker's /metrics (Prometheus text), by name with labels. */
export async function scrapeWorkerMetrics(stack: Stack): Promise<Map<string, number>> {
  const values = new Map<string, number>();
  try {
    const text = await (
      await fetch(`${stack.workerHealthUrl}/metrics`, { signal: AbortSignal.timeout(5000) })
    ).text();
    for (const line of text.split('\n')) {
      if (line.startsWith('#') || line.trim() === '') continue;
      const match = /^(\S+?)(\{.*\})?\s+(\S+)/.exec(line);
      if (!match) continue;
      const name = match[1]!;
      // Sum over label sets except `le` buckets, which are kept apart.
      if (name.endsWith('_bucket')) continue;
      values.set(name, (values.get(name) ?? 0) + Number(match[3]));
    }
  } catch {
    // no metrics: reported as absent
  }
  return values;
}

/** Mean of a histogram over a window, from two scrapes: Δsum / Δcount (NaN when nothing was observed). */
export function histogramMean(before: Map<string, number>, after: Map<string, number>, name: string): number {
  const count = (after.get(`${name}_count`) ?? 0) - (before.get(`${name}_count`) ?? 0);
  const sum = (after.get(`${name}_sum`) ?? 0) - (before.get(`${name}_sum`) ?? 0);
  return count > 0 ? sum / count : NaN;
}
