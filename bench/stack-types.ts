import type pg from 'pg';
import type { DossierClient } from '../client/dossier-client.js';
import type { DevServerProcess, NodeProcess } from './processes.js';
import type { LogSummary } from './stack-logs.js';

/** What bench/stack.ts starts and hands back. */

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
  /**
   * Gets the stack's `stop` before anything starts: a caller's own signal handler, installed
   * before the start, then stops what started instead of exiting past it.
   */
  onStop?: (stop: () => Promise<void>) => void;
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
