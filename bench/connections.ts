import { fork, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import WebSocket from 'ws';
import { storeNotification } from '../activities/notification-store.js';
import { configVariables, loadConfig } from '../config/config.js';
import { migrate, openOrm, type Orm } from '../db/orm.js';
import type { ClientCommand, ClientEvent, PushReport, StormReport } from './connections-client.js';
import { machineFacts, percentile, renderText, writeBenchReport, type BenchTarget } from './report.js';

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
const root = fileURLToPath(new URL('..', import.meta.url));
const MiB = 2 ** 20;
const GiB = 2 ** 30;
const TARGET_CONNECTIONS = 50_000;
const TARGET_RSS_BYTES = GiB;
const TARGET_STORM_TABS = 10_000;
const TARGET_STORM_SECONDS = 30;
/** Descriptors the server needs besides its sockets: stdio, epoll, the PostgreSQL pool and LISTEN, the inspector. */
const SERVER_FD_HEADROOM = 200;
/** Descriptors a client child needs besides its sockets. */
const CLIENT_FD_HEADROOM = 500;

const log = (text: string): void => console.log(`[bench] ${text}`);
const wallClock = (): number => performance.timeOrigin + performance.now();
const benchUserId = (user: number): string => `bench-user-${user}`;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const mib = (bytes: number): number => Math.round((bytes / MiB) * 10) / 10;
const fmt = (value: number, digits = 0): string =>
  Number.isFinite(value)
    ? value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : '–';

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} must be a positive integer (got ${raw})`);
  return value;
}

/** The soft and hard RLIMIT_NOFILE of this process (children inherit them). */
function openFileLimits(): { soft: number; hard: number } {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((row) => row.startsWith('Max open files'));
  const [soft, hard] = (line ?? '').split(/\s{2,}/).slice(1, 3);
  const parse = (value: string | undefined): number =>
    value === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(value ?? 1024);
  return { soft: parse(soft), hard: parse(hard) };
}

// --- Parameters ----------------------------------------------------------------------------

const limits = openFileLimits();
const requestedConnections = envInt('BENCH_CONNECTIONS', TARGET_CONNECTIONS);
// Node raises its soft limit to the hard one at start-up; the hard one is the server's ceiling.
const serverCapacity = limits.hard - SERVER_FD_HEADROOM;
const connections = Math.min(requestedConnections, serverCapacity);
const capped = connections < requestedConnections;
const users = Math.min(connections, envInt('BENCH_USERS', Math.max(1, Math.floor(connections / 4))));
const stormRequested = Math.min(connections, envInt('BENCH_STORM_TABS', TARGET_STORM_TABS));
const stormNotifications = envInt('BENCH_STORM_NOTIFICATIONS', 5);
const clientProcesses = Math.max(
  envInt('BENCH_CLIENT_PROCESSES', 4),
  Math.ceil(connections / (limits.hard - CLIENT_FD_HEADROOM)),
);
const defaultStep = Math.max(1000, Math.min(10_000, Math.round(connections / 5 / 1000) * 1000));
const step = envInt('BENCH_STEP', defaultStep);
/** Connects in flight over all client processes: under the server's WS_MAX_OPENING_SOCKETS (100), so that filling up is not refused. */
const connectConcurrency = envInt('BENCH_CONNECT_CONCURRENCY', 96);
const connectTimeoutSeconds = envInt('BENCH_CONNECT_TIMEOUT_S', 240);
const commitConcurrency = envInt('BENCH_COMMIT_CONCURRENCY', 8);
const deadlineSeconds = envInt('BENCH_DEADLINE_S', 570);
const stormTimeoutSeconds = envInt('BENCH_STORM_TIMEOUT_S', 120);
const adminUrl = process.env.BENCH_DATABASE_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const outputName = process.env.BENCH_OUTPUT_NAME ?? 'connections';
/** `connect` or `storm`: a CPU profile of the server during that phase, saved to the temp folder and summarized. */
const profilePhase = process.env.BENCH_PROFILE ?? '';
if (!['', 'connect', 'storm', 'storm-heap'].includes(profilePhase))
  throw new Error('BENCH_PROFILE must be connect or storm');

/** Connections of user `u` when connection `i` belongs to user `i % users`. */
const tabsOfUser = (user: number): number => Math.floor((connections - 1 - user) / users) + 1;
/** The storm takes every tab of users 0…stormUsers−1: the fewest users with at least the requested tabs. */
let stormUsers = 0;
let stormTabs = 0;
while (stormTabs < stormRequested && stormUsers < users) stormTabs += tabsOfUser(stormUsers++);
/** Source addresses of this run: 127.<octet>.x.y for the first connections, 127.<octet+1>.x.y for the reconnects. */
const addressOctet = 2 + (process.pid % 120) * 2;

const steps: number[] = [];
for (let count = step; count < connections; count += step) steps.push(count);
steps.push(connections);

// --- Processes and clean-up ----------------------------------------------------------------

/** A client child with a typed IPC channel: `next` waits for the first event of a kind. */
class ClientChild {
  readonly process: ChildProcess;
  private readonly inbox: ClientEvent[] = [];
  private readonly waiters = new Set<() => void>();
  exited = false;

  constructor(readonly index: number) {
    this.process = fork(fileURLToPath(new URL('connections-client.ts', import.meta.url)), [], {
      cwd: root,
      execArgv: ['--import', 'tsx'],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.process.on('message', (event: ClientEvent) => {
      this.inbox.push(event);
      this.wake();
    });
    this.process.on('exit', () => {
      this.exited = true;
      this.wake();
    });
  }

  send(command: ClientCommand): void {
    if (!this.exited && this.process.connected) this.process.send(command, () => undefined);
  }

  next<Kind extends ClientEvent['ev']>(
    ev: Kind,
    timeoutMs: number,
  ): Promise<Extract<ClientEvent, { ev: Kind }>> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const failure = this.inbox.findIndex((event) => event.ev === 'failed');
        if (failure >= 0) {
          done();
          const event = this.inbox.splice(failure, 1)[0] as Extract<ClientEvent, { ev: 'failed' }>;
          return reject(new Error(`client ${this.index}: ${event.message}`));
        }
        const found = this.inbox.findIndex((event) => event.ev === ev);
        if (found >= 0) {
          done();
          return resolve(this.inbox.splice(found, 1)[0] as Extract<ClientEvent, { ev: Kind }>);
        }
        if (this.exited) {
          done();
          reject(
            new Error(`client ${this.index} exited (code ${this.process.exitCode}) while waiting for ${ev}`),
          );
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new TimeoutError(`client ${this.index}: no ${ev} after ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

class TimeoutError extends Error {}

const clients: ClientChild[] = [];
let serverProcess: ChildProcess | undefined;
let inspector: Inspector | undefined;
let orm: Orm | undefined;
let databaseName: string | undefined;

function killProcess(child: ChildProcess, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}

let cleaning: Promise<void> | undefined;
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    // The clients first (nothing to save there), so that the server has no socket left to close.
    await Promise.all(clients.map((client) => killProcess(client.process, 'SIGKILL', 0)));
    inspector?.close();
    if (serverProcess) await killProcess(serverProcess, 'SIGTERM', 15_000);
    await orm?.close(true).catch(() => undefined);
    if (databaseName) {
      const admin = new pg.Client({ connectionString: adminUrl });
      try {
        await admin.connect();
        await admin.query(`drop database if exists "${databaseName}" with (force)`);
        log(`dropped database ${databaseName}`);
      } catch (error) {
        console.error(`[bench] could not drop database ${databaseName}: ${(error as Error).message}`);
      } finally {
        await admin.end().catch(() => undefined);
      }
    }
  })();
  return cleaning;
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (cleaning) return;
    console.error(`\n[bench] ${signal}: stopping every process and dropping the database…`);
    void cleanUp().finally(() => process.exit(130));
  });
}
const deadline = setTimeout(() => {
  console.error(`[bench] BENCH_DEADLINE_S (${deadlineSeconds} s) passed: stopping`);
  void cleanUp().finally(() => process.exit(1));
}, deadlineSeconds * 1000);
deadline.unref();

// --- The server and what is read of it -----------------------------------------------------

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** The Chrome DevTools protocol of the server's `--inspect`: a full GC and `process.memoryUsage()` on demand. */
class Inspector {
  private nextId = 1;
  private readonly pending = new Map<number, (result: unknown) => void>();

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString()) as { id?: number; result?: unknown };
      if (message.id !== undefined) this.pending.get(message.id)?.(message.result);
      if (message.id !== undefined) this.pending.delete(message.id);
    });
  }

  static async connect(port: number): Promise<Inspector> {
    const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as Array<{
      webSocketDebuggerUrl: string;
    }>;
    const socket = new WebSocket(targets[0]!.webSocketDebuggerUrl, { perMessageDeflate: false });
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    socket.on('error', () => undefined);
    return new Inspector(socket);
  }

  call(method: string, params: object = {}): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`inspector: no answer to ${method}`)), 60_000);
      this.pending.set(id, (result) => {
        clearTimeout(timer);
        resolve(result);
      });
      this.socket.send(JSON.stringify({ id, method, params }));
    });
  }

  async memoryAfterGc(): Promise<NodeJS.MemoryUsage> {
    await this.call('HeapProfiler.collectGarbage');
    return this.memory();
  }

  /** `process.memoryUsage()` as it is, garbage included. */
  async memory(): Promise<NodeJS.MemoryUsage> {
    const result = (await this.call('Runtime.evaluate', {
      expression: 'JSON.stringify(process.memoryUsage())',
      returnByValue: true,
    })) as { result: { value: string } };
    return JSON.parse(result.result.value) as NodeJS.MemoryUsage;
  }

  async startProfile(): Promise<void> {
    await this.call('Profiler.enable');
    await this.call('Profiler.start');
  }

  async stopProfile(): Promise<CpuProfile> {
    return ((await this.call('Profiler.stop')) as { profile: CpuProfile }).profile;
  }

  close(): void {
    this.socket.terminate();
  }
}

interface SamplingHeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SamplingHeapNode[];
}
interface SamplingHeapProfile {
  head: SamplingHeapNode;
}

/** What the sampled allocations still alive were allocated by: package, then the innermost frame of our own code. */
function summarizeHeapProfile(profile: SamplingHeapProfile): string[] {
  const byPackage = new Map<string, number>();
  const byOurs = new Map<string, number>();
  let total = 0;
  const packageOf = (url: string): string | undefined => {
    const path = url.replace(/^file:\/\//, '');
    return (
      /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1] ??
      (path.startsWith(root)
        ? path.slice(root.length).split('/').slice(0, 2).join('/')
        : path
          ? 'node:internal'
          : undefined)
    );
  };
  const walk = (node: SamplingHeapNode, stack: SamplingHeapNode['callFrame'][]): void => {
    const frames = [...stack, node.callFrame];
    if (node.selfSize > 0) {
      total += node.selfSize;
      const pkg = packageOf(node.callFrame.url) ?? node.callFrame.functionName;
      byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + node.selfSize);
      const ours = [...frames]
        .reverse()
        .find((frame) => frame.url.includes(root) && !frame.url.includes('node_modules'));
      const key = ours
        ? `${ours.functionName || '(anonymous)'} ${ours.url.replace(/^file:\/\//, '').replace(root, '')}`
        : '(no frame of ours)';
      byOurs.set(key, (byOurs.get(key) ?? 0) + node.selfSize);
    }
    for (const child of node.children) walk(child, frames);
  };
  walk(profile.head, []);
  const top = (map: Map<string, number>): string[] =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 12)
      .map(([key, bytes]) => `  ${fmt(mib(bytes), 1).padStart(7)} MiB  ${key}`);
  return [
    `Server heap during the storm (sampling heap profiler, live at ${process.env.BENCH_HEAP_SAMPLE_AFTER_MS ?? 3000} ms): ${fmt(mib(total), 1)} MiB sampled, by package:`,
    ...top(byPackage),
    '  by the innermost frame of the server code that allocated it:',
    ...top(byOurs),
  ];
}

const profiles: string[] = [];
let inherited: string[] = [];
/** The server's connection caps in force for the run. */
let capsText = '';
async function profiled<T>(phase: string, work: () => Promise<T>): Promise<T> {
  if (profilePhase !== phase) return work();
  await inspector!.startProfile();
  try {
    return await work();
  } finally {
    const profile = await inspector!.stopProfile();
    const file = join(tmpdir(), `connections-${phase}-${process.pid}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    const { byPackage, byFunction } = summarizeProfile(profile);
    const lines = [
      `Server CPU profile of the ${phase} phase (${file}), self time:`,
      ...byPackage.map(([name, share]) => `  ${share.toFixed(1).padStart(5)} %  ${name}`),
      '  by function:',
      ...byFunction.map(([name, share]) => `  ${share.toFixed(1).padStart(5)} %  ${name}`),
    ];
    profiles.push(lines.join('\n'));
    log(lines.join('\n'));
  }
}

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
  samples: number[];
  timeDeltas: number[];
}

/** Self time of a CPU profile by package (or our own folder), then by function: where the server's time went. */
function summarizeProfile(profile: CpuProfile): {
  byPackage: [string, number][];
  byFunction: [string, number][];
} {
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const byPackage = new Map<string, number>();
  const byFunction = new Map<string, number>();
  const total = profile.timeDeltas.reduce((sum, delta) => sum + delta, 0);
  profile.samples.forEach((id, index) => {
    const frame = frames.get(id)!;
    const delta = profile.timeDeltas[index] ?? 0;
    const url = frame.url.replace(/^file:\/\//, '');
    const pkg =
      /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1] ??
      (url.startsWith(root)
        ? url.slice(root.length).split('/').slice(0, 2).join('/')
        : url
          ? 'node:internal'
          : frame.functionName);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + delta);
    const name =
      `${frame.functionName || '(anonymous)'} ${url ? `${url.replace(root, '')}:${frame.lineNumber + 1}` : ''}`.trim();
    byFunction.set(name, (byFunction.get(name) ?? 0) + delta);
  });
  const top = (map: Map<string, number>, count: number): [string, number][] =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([key, value]) => [key, (value / total) * 100]);
  return { byPackage: top(byPackage, 12), byFunction: top(byFunction, 15) };
}

/** Busy CPU seconds of the whole machine (/proc/stat: everything but idle and iowait). */
function machineBusySeconds(): number {
  const fields = readFileSync('/proc/stat', 'utf8')
    .split('\n', 1)[0]!
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
  return (user + nice + system + irq + softirq + steal) / 100;
}

/** CPU seconds (user + system) of one process; 0 once it is gone. */
function processCpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/**
 * The run's own processes: this one, the server, the clients and the PostgreSQL backends of the
 * bench's database; what the machine did beyond them is other people's load.
 */
async function ownPids(serverPid: number): Promise<number[]> {
  const backends = await orm!.em
    .fork()
    .execute<Array<{ pid: number }>>('select pid from pg_stat_activity where datname = current_database()');
  return [process.pid, serverPid, ...clients.map((c) => c.process.pid ?? 0), ...backends.map((b) => b.pid)];
}

/** Measures how many cores other processes kept busy while `work` ran. */
async function otherLoadDuring<T>(
  serverPid: number,
  work: () => Promise<T>,
): Promise<{ result: T; otherCores: number }> {
  const pids = await ownPids(serverPid);
  const ownBefore = pids.map(processCpuSeconds);
  const busyBefore = machineBusySeconds();
  const started = performance.now();
  const result = await work();
  const wall = (performance.now() - started) / 1000;
  const own = pids.reduce(
    (sum, pid, index) => sum + Math.max(0, processCpuSeconds(pid) - ownBefore[index]!),
    0,
  );
  return { result, otherCores: Math.max(0, (machineBusySeconds() - busyBefore - own) / wall) };
}

function procStatus(pid: number): Record<string, number> {
  const values: Record<string, number> = {};
  for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const match = /^(Vm\w+|Rss\w+):\s+(\d+) kB/.exec(line);
    if (match) values[match[1]!] = Number(match[2]) * 1024;
  }
  return values;
}

/**
 * Kernel slab memory of the whole machine (/proc/meminfo `Slab`): socket, file and epoll structures
 * of both ends of every connection live there, not in any process's RSS. Other processes move it too.
 */
function kernelSlabBytes(): number {
  const match = /^Slab:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
  return match ? Number(match[1]) * 1024 : NaN;
}

/** TCP counters of the machine (/proc/net/netstat): listen-queue overflows and SYN cookies show an accept backlog too short for a burst. */
function tcpCounters(): Record<string, number> {
  const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
  const values: Record<string, number> = {};
  for (let index = 0; index + 1 < lines.length; index += 2) {
    const names = lines[index]!.split(/\s+/);
    const numbers = lines[index + 1]!.split(/\s+/);
    if (names[0] !== 'TcpExt:') continue;
    names.forEach((name, k) => {
      if (k > 0) values[name] = Number(numbers[k]);
    });
  }
  return values;
}
const LISTEN_COUNTERS = ['ListenOverflows', 'ListenDrops', 'TCPReqQFullDoCookies', 'SyncookiesSent'] as const;
function tcpCountersSince(before: Record<string, number>): string {
  const now = tcpCounters();
  return LISTEN_COUNTERS.map((name) => `${name} ${(now[name] ?? 0) - (before[name] ?? 0)}`).join(', ');
}

async function serverMetrics(port: number): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const values: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const match = /^(normx_notify_(?:ws_connections|users_online|messages_pushed_total))\s+(\S+)/.exec(line);
    if (match) values[match[1]!] = Number(match[2]);
  }
  return values;
}

interface Sample {
  label: string;
  connections: number;
  usersOnline: number;
  rss: number;
  hwm: number;
  rssAnon: number;
  rssFile: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  kernelSlab: number;
  stepSeconds: number;
  connectP50: number;
  connectP99: number;
}

async function sample(
  label: string,
  pid: number,
  metricsPort: number,
  extra: Partial<Sample> = {},
): Promise<Sample> {
  const memory = await inspector!.memoryAfterGc();
  // Let the GC's freed pages go back before reading RSS.
  await sleep(200);
  const status = procStatus(pid);
  const metrics = await serverMetrics(metricsPort);
  const result: Sample = {
    label,
    connections: metrics.normx_notify_ws_connections ?? NaN,
    usersOnline: metrics.normx_notify_users_online ?? NaN,
    rss: status.VmRSS ?? NaN,
    hwm: status.VmHWM ?? NaN,
    rssAnon: status.RssAnon ?? NaN,
    rssFile: status.RssFile ?? NaN,
    heapUsed: memory.heapUsed,
    heapTotal: memory.heapTotal,
    external: memory.external,
    kernelSlab: kernelSlabBytes(),
    stepSeconds: NaN,
    connectP50: NaN,
    connectP99: NaN,
    ...extra,
  };
  log(
    `${label}: ${result.connections} connections, ${result.usersOnline} users online; VmRSS ${mib(result.rss)} MiB ` +
      `(peak ${mib(result.hwm)}), heap used ${mib(result.heapUsed)} MiB after GC, kernel slab ${mib(result.kernelSlab)} MiB`,
  );
  return result;
}

async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > until) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(100);
  }
}

// --- Database ------------------------------------------------------------------------------

async function createDatabase(): Promise<string> {
  databaseName = `normx_notify_bench_${process.pid}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database "${databaseName}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${databaseName}`;
  orm = await openOrm(url.toString(), { poolMax: commitConcurrency });
  await migrate(orm);
  await orm.em
    .fork()
    .execute(`insert into users (id) select 'bench-user-' || g from generate_series(0, ${users - 1}) g`);
  return url.toString();
}

/** Stores one notification the way the activities do (insert + pg_notify in one statement). */
async function commit(user: number, key: string): Promise<string> {
  const { id } = await storeNotification(orm!.em.fork(), {
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
  return id;
}

async function inPool<T>(
  count: number,
  concurrency: number,
  work: (index: number) => Promise<T>,
): Promise<T[]> {
  const results: T[] = new Array<T>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const index = next++;
        results[index] = await work(index);
      }
    }),
  );
  return results;
}

function addRefusals(into: Record<string, number>, more: Record<string, number>): Record<string, number> {
  for (const [status, count] of Object.entries(more)) into[status] = (into[status] ?? 0) + count;
  return into;
}
const REFUSAL_NAMES: Record<string, string> = {
  '503': 'server_busy',
  '429': 'too_many_upgrades or too_many_sockets',
};
const refusalText = (refusals: Record<string, number>): string =>
  Object.keys(refusals).length === 0
    ? 'none'
    : Object.entries(refusals)
        .map(
          ([status, count]) =>
            `${count} × HTTP ${status}${REFUSAL_NAMES[status] ? ` (${REFUSAL_NAMES[status]})` : ''}`,
        )
        .join(', ');

const concat = (arrays: Float64Array[]): number[] => arrays.flatMap((array) => Array.from(array));

/** Least-squares slope and intercept of y over x. */
function fit(points: [number, number][]): { slope: number; intercept: number } {
  const n = points.length;
  const mx = points.reduce((sum, [x]) => sum + x, 0) / n;
  const my = points.reduce((sum, [, y]) => sum + y, 0) / n;
  const sxx = points.reduce((sum, [x]) => sum + (x - mx) ** 2, 0);
  const sxy = points.reduce((sum, [x, y]) => sum + (x - mx) * (y - my), 0);
  const slope = sxx === 0 ? NaN : sxy / sxx;
  return { slope, intercept: my - slope * mx };
}

// --- The run -------------------------------------------------------------------------------

async function main(): Promise<void> {
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

  const databaseUrl = await createDatabase();
  log(`database ${databaseName} migrated, ${users} users`);

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
  inherited = configVariables
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
  capsText =
    `WS_MAX_OPENING_SOCKETS=${caps.maxOpeningSockets}, WS_UPGRADES_PER_SECOND_PER_ADDRESS=${caps.upgradesPerAddress.perSecond}, ` +
    `WS_UPGRADE_BURST_PER_ADDRESS=${caps.upgradesPerAddress.burst}, WS_MAX_SOCKETS_PER_USER=${caps.maxSocketsPerUser}`;
  serverProcess = spawn(
    process.execPath,
    ['--import', 'tsx', `--inspect=127.0.0.1:${inspectPort}`, 'server/main.ts'],
    { cwd: root, env: serverEnv, stdio: ['ignore', 'inherit', 'pipe'] },
  );
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
    60_000,
    async () => (await fetch(`http://127.0.0.1:${internalPort}/metrics`)).ok,
  );
  inspector = await Inspector.connect(inspectPort);
  log(`server pid ${pid} on 127.0.0.1:${port}`);
  const samples: Sample[] = [await sample('idle', pid, internalPort)];

  // Clients: their own processes, heaps and source addresses.
  for (let index = 0; index < clientProcesses; index++) clients.push(new ClientChild(index));
  for (const [index, client] of clients.entries())
    client.send({
      cmd: 'init',
      port,
      secret,
      childIndex: index,
      of: clients.length,
      connections,
      users,
      addressOctet,
      concurrency: Math.max(1, Math.floor(connectConcurrency / clientProcesses)),
      connectTimeoutMs: 60_000,
    });
  await Promise.all(clients.map((client) => client.next('inited', 120_000)));

  // Connections, step by step; memory after each step.
  let connectSeconds = 0;
  const connectRefusals: Record<string, number> = {};
  const tcpBeforeConnect = tcpCounters();
  const connectLoadStart = { pids: await ownPids(pid), busy: machineBusySeconds(), at: performance.now() };
  const connectOwnBefore = connectLoadStart.pids.map(processCpuSeconds);
  const allConnectMs: number[] = [];
  let clientRss = 0;
  for (const upTo of steps) {
    const started = performance.now();
    const results = await profiled(upTo === connections ? 'connect' : 'none', () => {
      for (const client of clients)
        client.send({ cmd: 'connect', upTo, timeoutMs: connectTimeoutSeconds * 1000 });
      return Promise.race([
        Promise.all(clients.map((client) => client.next('connected', 300_000))),
        serverExit,
      ]);
    });
    const seconds = (performance.now() - started) / 1000;
    connectSeconds += seconds;
    const open = results.reduce((sum, r) => sum + r.open, 0);
    const failed = results.reduce((sum, r) => sum + r.failed, 0);
    const retried = results.reduce((sum, r) => sum + r.retried, 0);
    for (const r of results) addRefusals(connectRefusals, r.refusals);
    const stepMs = concat(results.map((r) => r.connectMs));
    allConnectMs.push(...stepMs);
    clientRss = Math.max(clientRss, ...results.map((r) => r.rssBytes));
    log(
      `${open} open (${failed} failed, ${retried} retried; refused so far: ${refusalText(connectRefusals)}` +
        `${results.find((r) => r.firstError) ? `; first error: ${results.find((r) => r.firstError)?.firstError}` : ''}) in ${seconds.toFixed(1)} s`,
    );
    if (failed > 0)
      throw new Error(`${failed} connections failed: ${results.find((r) => r.firstError)?.firstError}`);
    await waitFor(`the server counting ${upTo} connections`, 30_000, async () => {
      return (await serverMetrics(internalPort)).normx_notify_ws_connections === upTo;
    });
    samples.push(
      await sample(`${upTo} connected`, pid, internalPort, {
        stepSeconds: seconds,
        connectP50: percentile(stepMs, 50),
        connectP99: percentile(stepMs, 99),
      }),
    );
  }
  const connectTcp = tcpCountersSince(tcpBeforeConnect);
  const connectOtherCores = Math.max(
    0,
    (machineBusySeconds() -
      connectLoadStart.busy -
      connectLoadStart.pids.reduce(
        (sum, p, index) => sum + Math.max(0, processCpuSeconds(p) - connectOwnBefore[index]!),
        0,
      )) /
      ((performance.now() - connectLoadStart.at) / 1000),
  );
  log(`TCP while connecting: ${connectTcp}; other processes kept ${connectOtherCores.toFixed(2)} cores busy`);

  const connected = samples[samples.length - 1]!;
  const allAuthenticated = connected.connections === connections && connected.usersOnline === users;

  // Sanity push: one notification per user, to every tab.
  for (const client of clients) client.send({ cmd: 'arm' });
  await Promise.all(clients.map((client) => client.next('armed', 10_000)));
  const pushStarted = performance.now();
  await inPool(users, commitConcurrency, (user) => commit(user, `bench:push:${user}`));
  const commitSeconds = (performance.now() - pushStarted) / 1000;
  const pushReports: PushReport[] = await Promise.all(
    clients.map(async (client) => {
      try {
        return await client.next('pushed', 60_000);
      } catch (error) {
        if (!(error instanceof TimeoutError)) throw error;
        client.send({ cmd: 'report' });
        return client.next('push-report', 10_000);
      }
    }),
  );
  const pushSeconds =
    (Math.max(...pushReports.map((r) => r.lastAt)) - (performance.timeOrigin + pushStarted)) / 1000;
  const push = {
    tabs: pushReports.reduce((sum, r) => sum + r.tabs, 0),
    exactlyOne: pushReports.reduce((sum, r) => sum + r.exactlyOne, 0),
    missing: pushReports.reduce((sum, r) => sum + r.missing, 0),
    extra: pushReports.reduce((sum, r) => sum + r.extra, 0),
    closed: pushReports.reduce((sum, r) => sum + r.closed, 0),
    latencies: concat(pushReports.map((r) => r.latencies)),
  };
  log(
    `push: ${users} committed in ${commitSeconds.toFixed(1)} s; ${push.exactlyOne} of ${push.tabs} tabs got exactly one ` +
      `(${push.missing} none, ${push.extra} more), latency p50 ${fmt(percentile(push.latencies, 50))} ms, ` +
      `p99 ${fmt(percentile(push.latencies, 99))} ms; all in ${pushSeconds.toFixed(1)} s`,
  );
  samples.push(await sample('after the push', pid, internalPort));

  // Reconnect storm.
  for (const client of clients) client.send({ cmd: 'disconnect', stormUsers });
  const gone = (await Promise.all(clients.map((client) => client.next('disconnected', 30_000)))).reduce(
    (sum, r) => sum + r.tabs,
    0,
  );
  await waitFor('the server seeing the storm tabs leave', 60_000, async () => {
    return (await serverMetrics(internalPort)).normx_notify_ws_connections === connections - gone;
  });
  log(
    `storm: ${gone} tabs of ${stormUsers} users gone; committing ${stormNotifications} notifications per user`,
  );
  const missedStarted = performance.now();
  const expectedLists = await inPool(stormUsers, commitConcurrency, async (user) => {
    const ids: string[] = [];
    for (let k = 0; k < stormNotifications; k++) ids.push(await commit(user, `bench:storm:${user}:${k}`));
    return ids;
  });
  const missedCommitSeconds = (performance.now() - missedStarted) / 1000;
  const expected = new Map(expectedLists.map((ids, user) => [user, ids]));
  let stormStart = 0;
  const tcpBeforeStorm = tcpCounters();
  let stormTimedOut = false;
  const hwmBeforeStorm = procStatus(pid).VmHWM ?? NaN;
  // While the storm runs: the server's memory as it is (no GC), every 250 ms, to see what the burst costs.
  const stormPeak = { rss: 0, heapUsed: 0, heapTotal: 0, external: 0, rssOutsideHeap: 0 };
  let stormRunning = true;
  const stormSampler = (async () => {
    while (stormRunning) {
      const memory = await inspector!.memory().catch(() => undefined);
      const rss = procStatus(pid).VmRSS ?? 0;
      if (memory) {
        stormPeak.heapUsed = Math.max(stormPeak.heapUsed, memory.heapUsed);
        stormPeak.heapTotal = Math.max(stormPeak.heapTotal, memory.heapTotal);
        stormPeak.external = Math.max(stormPeak.external, memory.external);
        stormPeak.rssOutsideHeap = Math.max(stormPeak.rssOutsideHeap, memory.rss - memory.heapTotal);
      }
      stormPeak.rss = Math.max(stormPeak.rss, rss);
      await sleep(250);
    }
  })();
  const stormLoad = await otherLoadDuring(pid, () =>
    profiled('storm', async () => {
      stormStart = wallClock();
      if (profilePhase === 'storm-heap')
        await inspector!.call('HeapProfiler.startSampling', { samplingInterval: 4096 });
      for (const client of clients)
        client.send({ cmd: 'reconnect', expected, timeoutMs: stormTimeoutSeconds * 1000 });
      if (profilePhase === 'storm-heap')
        void sleep(Number(process.env.BENCH_HEAP_SAMPLE_AFTER_MS ?? 3000)).then(async () => {
          const { profile } = (await inspector!.call('HeapProfiler.stopSampling')) as {
            profile: SamplingHeapProfile;
          };
          const lines = summarizeHeapProfile(profile);
          profiles.push(lines.join('\n'));
          log(lines.join('\n'));
        });
      await Promise.all(
        clients.map((client) =>
          client.next('reconnected', stormTimeoutSeconds * 1000).catch((error: Error) => {
            if (!(error instanceof TimeoutError)) throw error;
            stormTimedOut = true;
          }),
        ),
      );
    }),
  );
  stormRunning = false;
  await stormSampler;
  const hwmAfterStorm = procStatus(pid).VmHWM ?? NaN;
  log(
    `storm memory (sampled every 250 ms, no GC): RSS up to ${mib(stormPeak.rss)} MiB, heap used up to ${mib(stormPeak.heapUsed)} MiB ` +
      `(heap total ${mib(stormPeak.heapTotal)}), outside the heap up to ${mib(stormPeak.rssOutsideHeap)} MiB; VmHWM ${mib(hwmBeforeStorm)} → ${mib(hwmAfterStorm)} MiB`,
  );
  // A last look a second later: any frame after `resumed` would be a duplicate.
  await sleep(1_000);
  for (const client of clients) client.send({ cmd: 'report' });
  const stormReports: StormReport[] = await Promise.all(
    clients.map((client) => client.next('storm-report', 10_000)),
  );
  const storm = {
    tabs: stormReports.reduce((sum, r) => sum + r.tabs, 0),
    complete: stormReports.reduce((sum, r) => sum + r.complete, 0),
    wrong: stormReports.reduce((sum, r) => sum + r.wrong, 0),
    failed: stormReports.reduce((sum, r) => sum + r.failed, 0),
    retried: stormReports.reduce((sum, r) => sum + r.retried, 0),
    refusals: stormReports.reduce((all, r) => addRefusals(all, r.refusals), {} as Record<string, number>),
    lateFrames: stormReports.reduce((sum, r) => sum + r.lateFrames, 0),
    firstWrong: stormReports.find((r) => r.firstWrong)?.firstWrong,
    firstError: stormReports.find((r) => r.firstError)?.firstError,
    catchUpMs: concat(stormReports.map((r) => r.catchUpMs)),
    openMs: concat(stormReports.map((r) => r.openMs)),
    seconds: (Math.max(...stormReports.map((r) => r.lastDoneAt)) - stormStart) / 1000,
    tcp: tcpCountersSince(tcpBeforeStorm),
  };
  log(`TCP during the storm: ${storm.tcp}`);
  log(`other processes kept ${stormLoad.otherCores.toFixed(2)} cores busy during the storm`);
  const stormOk =
    !stormTimedOut &&
    storm.complete === storm.tabs &&
    storm.wrong === 0 &&
    storm.failed === 0 &&
    storm.lateFrames === 0;
  log(
    `storm: ${storm.complete} of ${storm.tabs} tabs caught up (${storm.wrong} wrong, ${storm.failed} failed, ` +
      `${storm.retried} retried, refused: ${refusalText(storm.refusals)}, ${storm.lateFrames} late frames) in ${storm.seconds.toFixed(2)} s; per tab p50 ` +
      `${fmt(percentile(storm.catchUpMs, 50))} ms, p99 ${fmt(percentile(storm.catchUpMs, 99))} ms` +
      `${storm.firstWrong ? `; first wrong: ${storm.firstWrong}` : ''}${storm.firstError ? `; first error: ${storm.firstError}` : ''}`,
  );
  await waitFor('the server counting every tab back', 30_000, async () => {
    return (await serverMetrics(internalPort)).normx_notify_ws_connections === connections;
  }).catch((error: Error) => log(error.message));
  samples.push(await sample('after the storm', pid, internalPort));

  // --- Report --------------------------------------------------------------------------------
  const steady = samples.filter((s, index) => index > 0 && index <= steps.length);
  const growth = [samples[0]!, ...steady];
  const rssFit = fit(growth.map((s) => [s.connections, s.rss]));
  const heapFit = fit(growth.map((s) => [s.connections, s.heapUsed]));
  const outsideHeapFit = fit(growth.map((s) => [s.connections, s.rss - s.heapTotal]));
  const kernelFit = fit(growth.map((s) => [s.connections, s.kernelSlab]));
  const peak = Math.max(...samples.map((s) => s.hwm));
  const projected = rssFit.intercept + rssFit.slope * TARGET_CONNECTIONS;
  // The storm's burst comes on top of the steady state; it grows with the storm, not with the connections.
  const beforeStorm = samples.find((s) => s.label === 'after the push')!;
  const stormBurst = Math.max(0, stormPeak.rss - beforeStorm.rss, hwmAfterStorm - beforeStorm.rss);
  const projectedPeak = projected + stormBurst;
  const memoryMet =
    !capped && connections >= TARGET_CONNECTIONS && allAuthenticated && peak <= TARGET_RSS_BYTES;
  const perSocket = `${fmt(rssFit.slope)} B of RSS per connection (${fmt(heapFit.slope)} B of V8 heap, ${fmt(outsideHeapFit.slope)} B outside it)`;
  const targets: BenchTarget[] = [
    {
      target: `${TARGET_CONNECTIONS.toLocaleString('en-US')} concurrent authenticated connections on one server process in ≤ 1 GiB RSS`,
      measured:
        `${connected.connections.toLocaleString('en-US')} connections, ${connected.usersOnline.toLocaleString('en-US')} users online: VmRSS ${fmt(mib(connected.rss))} MiB; ` +
        `peak (VmHWM) ${fmt(mib(peak))} MiB over the whole run, reached in the storm of ${stormTabs.toLocaleString('en-US')} tabs` +
        (capped
          ? `. Projected at ${TARGET_CONNECTIONS.toLocaleString('en-US')}: ${fmt(mib(projected))} MiB steady, about ${fmt(mib(projectedPeak))} MiB with the same storm`
          : ''),
      met: memoryMet,
      note: capped
        ? `Not run at ${TARGET_CONNECTIONS.toLocaleString('en-US')}: the server's open-file hard limit here is ${limits.hard} (\`ulimit -Hn\`, not raisable without CAP_SYS_RESOURCE). Projection: the linear fit over the steps (${perSocket}) plus the storm's burst measured here (${fmt(mib(stormBurst))} MiB over the steady RSS).`
        : `${perSocket}.`,
    },
    {
      target: `A reconnect storm of ${TARGET_STORM_TABS.toLocaleString('en-US')} tabs fully caught up within ${TARGET_STORM_SECONDS} s`,
      measured: `${storm.complete.toLocaleString('en-US')} of ${storm.tabs.toLocaleString('en-US')} tabs got their ${stormNotifications} missed notifications exactly once, in order, in ${fmt(storm.seconds, 2)} s (per tab p50 ${fmt(percentile(storm.catchUpMs, 50))} ms, p99 ${fmt(percentile(storm.catchUpMs, 99))} ms)`,
      met: stormOk && storm.tabs >= TARGET_STORM_TABS && storm.seconds <= TARGET_STORM_SECONDS,
      note: [
        storm.tabs < TARGET_STORM_TABS ? `only ${storm.tabs} tabs in this run` : '',
        stormTimedOut ? `not all done after ${stormTimeoutSeconds} s` : '',
        storm.wrong > 0 ? `${storm.wrong} tabs wrong, first: ${storm.firstWrong}` : '',
        storm.failed > 0 ? `${storm.failed} tabs could not reconnect: ${storm.firstError}` : '',
        storm.lateFrames > 0 ? `${storm.lateFrames} duplicate frames after resumed` : '',
        storm.retried > 0
          ? `${storm.retried} attempts retried with the client library's backoff; upgrades refused: ${refusalText(storm.refusals)}`
          : '',
        `${connections - storm.tabs} other tabs stayed connected meanwhile`,
      ]
        .filter(Boolean)
        .join('; '),
    },
  ];

  const rows = samples.map((s) => [
    s.label,
    s.connections,
    s.usersOnline,
    mib(s.rss),
    mib(s.hwm),
    mib(s.heapUsed),
    mib(s.heapTotal),
    mib(s.rss - s.heapTotal),
    mib(s.kernelSlab),
    Number.isFinite(s.stepSeconds) ? fmt(s.stepSeconds, 1) : '',
    Number.isFinite(s.connectP50) ? `${fmt(s.connectP50)} / ${fmt(s.connectP99)}` : '',
  ]);
  const table = {
    headers: [
      'When',
      'Connections',
      'Users online',
      'VmRSS (MiB)',
      'VmHWM (MiB)',
      'V8 heap used after GC (MiB)',
      'V8 heap total (MiB)',
      'RSS outside the V8 heap (MiB)',
      'Kernel slab, whole machine (MiB)',
      'Step connect time (s)',
      'Connect p50 / p99 (ms)',
    ],
    rows,
  };
  const parameters: Record<string, string | number> = {
    'Connections (BENCH_CONNECTIONS)': capped
      ? `${connections} (asked ${requestedConnections}; capped by the open-file hard limit ${limits.hard})`
      : connections,
    'Users (BENCH_USERS)': users,
    'Tabs per user': fmt(connections / users, 2),
    'Connection steps (BENCH_STEP)': steps.join(', '),
    'Client processes (BENCH_CLIENT_PROCESSES)': clientProcesses,
    'Connects in flight while filling up, all client processes (BENCH_CONNECT_CONCURRENCY)':
      connectConcurrency,
    'Source addresses': 'one per user (its tabs share it, as one browser), another one for its reconnects',
    'Server connection caps (defaults unless set above)': capsText,
    'Storm tabs (BENCH_STORM_TABS)': `${stormTabs} (every tab of ${stormUsers} users)`,
    'Missed notifications per storm user (BENCH_STORM_NOTIFICATIONS)': stormNotifications,
    'Commit concurrency (BENCH_COMMIT_CONCURRENCY)': commitConcurrency,
    'Open files (soft / hard)': `${limits.soft} / ${limits.hard}`,
    'Load average at start (1 / 5 / 15 min; the machine is shared)': loadAtStart,
    ...(profilePhase && {
      'Server profile (BENCH_PROFILE)':
        profilePhase === 'storm-heap'
          ? 'storm-heap: sampling heap profiler during the storm, 4 KiB interval (output under Notes)'
          : `${profilePhase}: CPU profile (output under Notes)`,
    }),
    'Server environment': `DATABASE_URL (fresh database), TEMPORAL_ADDRESS=127.0.0.1:1, JWT_HS256_SECRET (random), SERVER_HOST=127.0.0.1, SERVER_PORT and SERVER_INTERNAL_PORT (free), LOG_LEVEL=warn; ${
      inherited.length > 0 ? `from the bench's environment: ${inherited.join(', ')}; ` : ''
    }everything else at its default`,
  };
  const method = `
One delivery server process, \`node --import tsx --inspect=127.0.0.1:<port> server/main.ts\` (the production entry
point, unchanged), on a fresh PostgreSQL database migrated with \`migrate(openOrm(url))\`, with LISTEN on and
Temporal unreachable (the server connects to it lazily). ${clientProcesses} client processes (\`bench/connections-client.ts\`,
one \`ws\` client per tab, as a browser tab holds one socket) connect from their own loopback source addresses
(each user is one browser: its tabs share an address \`127.${addressOctet}.x.y\` of their own, so the server's per-address
upgrade limit sees what it would see in production, and no address runs short of ephemeral ports; the reconnects
come from \`127.${addressOctet + 1}.x.y\`, so they do not meet the first connections' TIME_WAIT ports). While filling up,
${connectConcurrency} connects are in flight over all client processes, under the server's cap on sessions opening at once. The
server runs with its default connection caps (${capsText}).
Connection \`i\` belongs to user \`i mod ${users}\`; each user has an HS256 token (jose, \`sub\` = user id, 2 h expiry) sent in
\`Sec-WebSocket-Protocol: normx-notify, <token>\`. A connection counts as authenticated and subscribed when its first
frame, \`unread_count\`, arrives: the server sends it after verifying the token, subscribing the socket to the user's
stream and reading the count. The server's own \`normx_notify_ws_connections\` and \`normx_notify_users_online\` gauges
(\`/metrics\`) must agree.

**Memory.** After each step of connections the bench forces a full GC in the server over the inspector protocol
(\`HeapProfiler.collectGarbage\`), reads \`process.memoryUsage()\` the same way, then VmRSS and VmHWM from
\`/proc/<pid>/status\`. "Outside the V8 heap" is VmRSS − heap total: uWebSockets.js's native state, malloc, code,
the tsx loader. The kernel's socket structures are not part of any RSS; the slab line of \`/proc/meminfo\` shows
them for the whole machine (server and clients). Per-connection figures are least-squares slopes over the steps.

**Push.** One notification per user, stored by \`storeNotification\` (\`activities/notification-store.ts\`, the
activities' insert + \`pg_notify\` statement) with ${commitConcurrency} in flight; \`data.sentAt\` is the wall clock of the store
call, so the latency is store call → commit → NOTIFY → server → tab. Every tab must get it exactly once.

**Reconnect storm.** Every tab of the first ${stormUsers.toLocaleString('en-US')} users (${stormTabs.toLocaleString('en-US')} tabs), each holding the id of the
notification it got, is dropped at once (socket destroyed, no close handshake, like a lost network); the other
${(connections - stormTabs).toLocaleString('en-US')} stay. Once the server has seen them go, ${stormNotifications} notifications per storm user are committed
(${(stormUsers * stormNotifications).toLocaleString('en-US')} in all, not timed). Then every storm tab reconnects in the same event-loop turn of its
client process, with \`?lastId=<its last id>\`. A refused or failed attempt is tried again as the client library
(\`web/client/notify-client.ts\`) does: after a delay drawn in [c/2, c], c = 0.5 s doubling up to 30 s (a browser sees
a refused upgrade as 1006: neither its status nor its Retry-After changes the delay), until ${stormTimeoutSeconds} s have passed.
A tab is caught up when \`resumed\` arrives after exactly its user's missed ids, in order; any other notification
frame, before or up to a second after, counts as wrong. The storm time runs from the reconnect command to the
last tab caught up; the per-tab time from its first reconnect attempt to its \`resumed\`.
`;
  const notes = `
- Connect: ${connections.toLocaleString('en-US')} connections in ${fmt(connectSeconds, 1)} s of connecting (${fmt(connections / connectSeconds)} per second, the
  sampling pauses between steps left out); per connection p50 ${fmt(percentile(allConnectMs, 50))} ms, p99 ${fmt(percentile(allConnectMs, 99))} ms
  (TCP + upgrade + token check + unread-count read; mostly waiting: ${connectConcurrency} connects are kept in flight,
  so each waits about that many divided by the rate). All authenticated and subscribed: ${allAuthenticated ? 'yes' : 'no'}
  (${connected.connections.toLocaleString('en-US')} connections, ${connected.usersOnline.toLocaleString('en-US')} users online).
- Push: ${users.toLocaleString('en-US')} notifications committed in ${fmt(commitSeconds, 1)} s; ${push.exactlyOne.toLocaleString('en-US')} of ${push.tabs.toLocaleString('en-US')} tabs got
  exactly one (${push.missing} none, ${push.extra} more, ${push.closed} closed); latency p50 ${fmt(percentile(push.latencies, 50))} ms,
  p99 ${fmt(percentile(push.latencies, 99))} ms, max ${fmt(Math.max(...push.latencies))} ms; the last tab had it ${fmt(pushSeconds, 1)} s after the first store call.
- Storm: the ${(stormUsers * stormNotifications).toLocaleString('en-US')} missed notifications took ${fmt(missedCommitSeconds, 1)} s to commit. Reconnect (first frame)
  p50 ${fmt(percentile(storm.openMs, 50))} ms, p99 ${fmt(percentile(storm.openMs, 99))} ms from the first attempt; ${storm.retried} attempts retried; upgrades refused by
  the server's caps: ${refusalText(storm.refusals)}${storm.firstError ? `; first other error: ${storm.firstError}` : ''}. While filling up: ${refusalText(connectRefusals)} refused.
- Other processes on the machine (not this run's: not the server, the clients, this process nor the PostgreSQL backends of its
  database) kept ${fmt(connectOtherCores, 2)} of the ${cpus().length} cores busy while connecting and ${fmt(stormLoad.otherCores, 2)} during the storm.
- TCP counters of the machine (\`/proc/net/netstat\`): while connecting ${connectTcp}; during the storm ${storm.tcp}.
- Memory per connection (slopes over the steps): ${fmt(rssFit.slope)} B of RSS, of which ${fmt(heapFit.slope)} B of V8 heap
  (live objects after GC) and ${fmt(outsideHeapFit.slope)} B outside the V8 heap; kernel slab ${fmt(kernelFit.slope)} B per
  connection, both ends, on the whole machine (not in any RSS; other processes move it too). Idle server: ${fmt(mib(samples[0]!.rss))} MiB.
  Projection at ${TARGET_CONNECTIONS.toLocaleString('en-US')} connections: ${fmt(mib(projected))} MiB.
- Storm burst (server memory sampled every 250 ms during the storm, garbage included): RSS up to ${fmt(mib(stormPeak.rss))} MiB
  (VmHWM ${fmt(mib(hwmBeforeStorm))} → ${fmt(mib(hwmAfterStorm))} MiB) from ${fmt(mib(beforeStorm.rss))} MiB before it; V8 heap used up to
  ${fmt(mib(stormPeak.heapUsed))} MiB (heap total ${fmt(mib(stormPeak.heapTotal))} MiB) against ${fmt(mib(beforeStorm.heapUsed))} MiB live before; outside the V8 heap up to
  ${fmt(mib(stormPeak.rssOutsideHeap))} MiB against ${fmt(mib(beforeStorm.rss - beforeStorm.heapTotal))} MiB.
- Load generator: the largest client process RSS was ${fmt(mib(clientRss))} MiB.
${profiles.map((text) => `\n\`\`\`text\n${text}\n\`\`\`\n`).join('')}${capped ? `- **Capped run.** ${requestedConnections.toLocaleString('en-US')} connections were asked for; this machine gives every process at most ${limits.hard} open files (\`ulimit -Hn\`; \`prlimit\` and \`ulimit -n\` above it fail without CAP_SYS_RESOURCE), so one server process cannot hold more than about ${serverCapacity.toLocaleString('en-US')} sockets here. The 1 GiB target is judged on the projection only, hence not marked met.\n` : ''}`;

  const md = await writeBenchReport(
    {
      name: outputName,
      title: `Connections: ${connections.toLocaleString('en-US')} WebSocket connections on one server process, and a reconnect storm of ${stormTabs.toLocaleString('en-US')} tabs${capped ? ' (capped run)' : ''}`,
      method,
      parameters,
      table,
      targets,
      chart: {
        title: 'Delivery server memory vs open connections',
        xLabel: 'open WebSocket connections (authenticated, subscribed)',
        yLabel: 'MiB',
        series: [
          { name: 'VmRSS', points: growth.map((s) => [s.connections, mib(s.rss)]) },
          { name: 'VmHWM (peak)', points: growth.map((s) => [s.connections, mib(s.hwm)]) },
          { name: 'V8 heap used (after GC)', points: growth.map((s) => [s.connections, mib(s.heapUsed)]) },
          {
            name: 'RSS outside V8 heap',
            points: growth.map((s) => [s.connections, mib(s.rss - s.heapTotal)]),
          },
        ],
      },
      notes,
    },
    { machine, dir: process.env.BENCH_OUTPUT_DIR || undefined },
  );
  console.log(`\n${renderText({ table, targets })}\n`);
  log(`wrote ${md}`);
}

let exitCode = 0;
try {
  await main();
} catch (error) {
  console.error(`[bench] failed: ${(error as Error).stack ?? error}`);
  exitCode = 1;
} finally {
  await cleanUp();
}
process.exit(exitCode);
