import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { format, resolveConfig } from 'prettier';
import { adminDatabaseUrl } from '../test/support/database.js';
import {
  DEFAULT_SERVERS,
  ignoreBrokenOutput,
  SERVER_KINDS,
  type ClientCommand,
  type ClientEvent,
  type ClientMode,
  type RoundReport,
  type ServerCommand,
  type ServerEvent,
  type ServerKind,
  type ServerStats,
} from './shared.js';

/**
 * `npm run bench`: the WebSocket push path of our server side by side with a `ws` server, a
 * Socket.IO server and a bare uWebSockets.js reference doing the same job (bench/results.md
 * explains the method). Every server and load generator is a child process; all of them, and
 * the database, are gone when this ends, whichever way it ends.
 */

ignoreBrokenOutput();
const root = fileURLToPath(new URL('..', import.meta.url));
const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} must be a positive integer (got ${raw})`);
  return value;
}

const params = {
  connections: envInt('BENCH_CONNECTIONS', 10_000),
  users: envInt('BENCH_USERS', 2_500),
  notifications: envInt('BENCH_NOTIFICATIONS', 20_000),
  rounds: envInt('BENCH_ROUNDS', 5),
  warmupRounds: process.env.BENCH_WARMUP_ROUNDS === '0' ? 0 : envInt('BENCH_WARMUP_ROUNDS', 2),
  clientProcesses: envInt('BENCH_CLIENT_PROCESSES', 2),
  /** One scenario per value: notifications published per event-loop turn. */
  batches: (process.env.BENCH_BATCHES ?? '').split(',').filter(Boolean).map(Number),
  connectConcurrency: envInt('BENCH_CONNECT_CONCURRENCY', 100),
  roundTimeoutMs: envInt('BENCH_ROUND_TIMEOUT_MS', 60_000),
  clientMode: (process.env.BENCH_CLIENT ?? 'raw') as ClientMode,
  servers: (process.env.BENCH_SERVERS ?? DEFAULT_SERVERS.join(',')).split(',').map((kind) => kind.trim()),
  output: process.env.BENCH_OUTPUT ?? 'bench/results.md',
  /** A measured round during which other processes kept more cores busy than this is run again (3 times at most). */
  maxOtherLoad: Number(process.env.BENCH_MAX_OTHER_LOAD ?? 0.15),
  profile: process.env.BENCH_PROFILE === '1',
};
if (params.clientMode !== 'raw' && params.clientMode !== 'lib')
  throw new Error('BENCH_CLIENT must be raw or lib');
for (const kind of params.servers) {
  if (!SERVER_KINDS.includes(kind as ServerKind)) throw new Error(`BENCH_SERVERS: unknown server ${kind}`);
}
if (params.users > params.connections) throw new Error('BENCH_USERS must not exceed BENCH_CONNECTIONS');
// Sparse: fewer notifications per turn than users, so no socket gets two frames in one turn.
// Burst: the whole round in one turn, every socket gets all its frames of the round at once.
if (params.batches.length === 0) params.batches = [Math.min(1_000, params.users), params.notifications];
for (const batch of params.batches) {
  if (!Number.isInteger(batch) || batch < 1)
    throw new Error('BENCH_BATCHES: positive integers, comma-separated');
}
const scenarioOf = (batch: number): string =>
  batch >= params.notifications
    ? `burst: the whole round in one event-loop turn (${(params.notifications / params.users).toFixed(0)} frames per socket per turn)`
    : batch <= params.users
      ? `sparse: ${batch.toLocaleString('en-US')} notifications per event-loop turn (at most one frame per socket per turn)`
      : `${batch.toLocaleString('en-US')} notifications per event-loop turn`;

const serverEntry: Record<ServerKind, string> = {
  ours: here('server-ours.ts'),
  ws: here('server-ws.ts'),
  'socket.io': here('server-socketio.ts'),
  uws: here('server-uws.ts'),
};
const labelOf = (kind: ServerKind): string =>
  kind === 'uws' ? `uws-${process.env.BENCH_UWS_FANOUT || 'publish'} (reference)` : kind;

// --- Child processes -----------------------------------------------------------------------

/** A child process with a typed IPC channel: `next` waits for the first message that matches. */
class Child<Command, Event extends { ev: string }> {
  readonly process: ChildProcess;
  private readonly inbox: Event[] = [];
  private readonly waiters = new Set<() => void>();
  exited = false;

  constructor(
    readonly name: string,
    entry: string,
  ) {
    this.process = fork(entry, [], {
      cwd: root,
      execArgv: ['--import', 'tsx'],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.add(this);
    this.process.on('message', (event: Event) => {
      this.inbox.push(event);
      this.wake();
    });
    this.process.on('error', (error) => console.error(`[bench] ${name}: ${error.message}`));
    this.process.on('exit', () => {
      this.exited = true;
      children.delete(this);
      this.wake();
    });
  }

  get pid(): number {
    return this.process.pid ?? 0;
  }

  send(command: Command): void {
    // A child that is going away cannot be told anything more: `next` reports its exit.
    if (!this.exited && this.process.connected) this.process.send(command as object, () => undefined);
  }

  next<Kind extends Event['ev']>(ev: Kind, timeoutMs: number): Promise<Extract<Event, { ev: Kind }>> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const failure = this.inbox.findIndex((event) => event.ev === 'failed');
        if (failure >= 0) {
          done();
          const event = this.inbox.splice(failure, 1)[0] as unknown as { message: string };
          return reject(new Error(`${this.name}: ${event.message}`));
        }
        const index = this.inbox.findIndex((event) => event.ev === ev);
        if (index >= 0) {
          done();
          return resolve(this.inbox.splice(index, 1)[0] as Extract<Event, { ev: Kind }>);
        }
        if (this.exited) {
          done();
          reject(new Error(`${this.name} exited (code ${this.process.exitCode}) while waiting for ${ev}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.name}: no ${ev} after ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Asks politely (`SIGTERM`), then kills. */
  async kill(graceMs = 5_000): Promise<void> {
    if (this.exited) return;
    this.process.kill('SIGTERM');
    const exited = new Promise<void>((resolve) => this.process.once('exit', () => resolve()));
    const timer = setTimeout(() => this.process.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

type ServerChild = Child<ServerCommand, ServerEvent>;
type ClientChild = Child<ClientCommand, ClientEvent>;
const children = new Set<Child<unknown, { ev: string }>>();
/** Pids of our server children: their databases are named `normx_notify_test_<pid>_…`. */
const oursPids: number[] = [];

async function dropLeftoverDatabases(): Promise<void> {
  if (oursPids.length === 0) return;
  const admin = new pg.Client({ connectionString: adminDatabaseUrl });
  await admin.connect();
  try {
    for (const pid of oursPids) {
      const { rows } = await admin.query<{ datname: string }>(
        'select datname from pg_database where datname like $1',
        [`normx_notify_test_${pid}_%`],
      );
      for (const { datname } of rows) {
        await admin.query(`drop database if exists "${datname}" with (force)`);
        console.log(`Dropped leftover database ${datname}`);
      }
    }
  } finally {
    await admin.end();
  }
}

let cleaningUp: Promise<void> | undefined;
function cleanUp(): Promise<void> {
  cleaningUp ??= (async () => {
    await Promise.all([...children].map((child) => child.kill()));
    await dropLeftoverDatabases().catch((error: Error) =>
      console.error(`Could not drop leftover databases: ${error.message}`),
    );
  })();
  return cleaningUp;
}
// Ctrl-C reaches the whole process group, and tsx relays it once more: the first one counts.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (cleaningUp) return;
    console.error(`\n${signal}: stopping every child process…`);
    void cleanUp().finally(() => process.exit(130));
  });
}

// --- One server ----------------------------------------------------------------------------

interface RoundResult {
  frames: number;
  expected: number;
  seconds: number;
  framesPerSecond: number;
  serverCpuMicros: number;
  serverSystemCpuMicros: number;
  clientCpuMicros: number;
  latencies: Float64Array;
  closedSockets: number;
  /** From the first publish to the last, in the server. */
  publishMs: number;
  /** Cores kept busy by processes other than the benchmark's during the round (approximate). */
  otherLoad: number;
}

interface ServerResult {
  kind: ServerKind;
  connectSeconds: number;
  open: number;
  failed: number;
  retried: number;
  firstError: string | undefined;
  usersOnline: number;
  rssIdle: number;
  rssConnected: number;
  rssPeak: number;
  /** Measured rounds, per batch size. */
  scenarios: Map<number, RoundResult[]>;
  error?: string;
}

const MB = 1024 * 1024;
/** Rounds run again because other processes took CPU during them. */
let reruns = 0;
const log = (text: string): void => console.log(`[bench] ${text}`);

async function stats(server: ServerChild): Promise<ServerStats> {
  server.send({ cmd: 'stats' });
  return server.next('stats', 10_000);
}

/**
 * Busy time of the whole machine, in seconds, from /proc/stat (user, nice, system, irq, steal),
 * leaving out softirq: on loopback the TCP work of the sockets runs there and is not charged to
 * any process, so it cannot be told apart from other processes' load.
 */
function machineBusySeconds(): number {
  const fields = readFileSync('/proc/stat', 'utf8')
    .split('\n', 1)[0]!
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, , steal = 0] = fields;
  return (user + nice + system + irq + steal) / 100;
}

async function runRound(server: ServerChild, clients: ClientChild[], batch: number): Promise<RoundResult> {
  for (const client of clients) client.send({ cmd: 'arm', count: params.notifications });
  const armed = await Promise.all(clients.map((client) => client.next('armed', 10_000)));
  const expected = armed.reduce((sum, event) => sum + event.expected, 0);
  const busyBefore = machineBusySeconds();
  const wallBefore = performance.now();
  server.send({ cmd: 'publish', users: params.users, count: params.notifications, batch });
  const published = await server.next('published', params.roundTimeoutMs);
  const reports: RoundReport[] = await Promise.all(
    clients.map(async (client) => {
      try {
        return await client.next('done', params.roundTimeoutMs);
      } catch (error) {
        if (client.exited) throw error;
        client.send({ cmd: 'report' });
        return client.next('partial', 10_000);
      }
    }),
  );
  const busy = machineBusySeconds() - busyBefore;
  const received = reports.reduce((sum, report) => sum + report.received, 0);
  const closed = reports.reduce((sum, report) => sum + report.closedSockets, 0);
  if (received < expected || closed > 0)
    throw new Error(
      `a round delivered ${received} of ${expected} frames; ${closed} sockets closed meanwhile`,
    );
  const wall = (performance.now() - wallBefore) / 1000;
  const serverStats = await stats(server);
  const frames = reports.reduce((sum, report) => sum + report.received, 0);
  const lastAt = Math.max(...reports.map((report) => report.lastAt));
  const seconds = (lastAt - published.firstAt) / 1000;
  const latencies = new Float64Array(frames);
  let offset = 0;
  for (const report of reports) {
    latencies.set(report.latencies, offset);
    offset += report.latencies.length;
  }
  return {
    frames,
    expected,
    seconds,
    framesPerSecond: frames / seconds,
    serverCpuMicros: serverStats.cpuMicrosSincePublish,
    serverSystemCpuMicros: serverStats.systemCpuMicrosSincePublish,
    clientCpuMicros: reports.reduce((sum, report) => sum + report.cpuMicros, 0),
    latencies: latencies.subarray(0, offset),
    closedSockets: reports.reduce((sum, report) => sum + report.closedSockets, 0),
    publishMs: published.lastAt - published.firstAt,
    otherLoad: Math.max(
      0,
      (busy - (serverStats.cpuMicrosSincePublish + reports.reduce((sum, r) => sum + r.cpuMicros, 0)) / 1e6) /
        wall,
    ),
  };
}

async function benchServer(kind: ServerKind): Promise<ServerResult> {
  const result: ServerResult = {
    kind,
    connectSeconds: NaN,
    open: 0,
    failed: 0,
    retried: 0,
    firstError: undefined,
    usersOnline: 0,
    rssIdle: NaN,
    rssConnected: NaN,
    rssPeak: NaN,
    scenarios: new Map(),
  };
  const server: ServerChild = new Child(`${kind} server`, serverEntry[kind]);
  if (kind === 'ours') oursPids.push(server.pid);
  const clients: ClientChild[] = [];
  try {
    const { port } = await server.next('ready', 120_000);
    result.rssIdle = (await stats(server)).rssBytes;
    log(`${kind}: listening on ${port}, RSS ${(result.rssIdle / MB).toFixed(0)} MB; connecting…`);

    for (let index = 0; index < params.clientProcesses; index++)
      clients.push(new Child(`client ${index + 1}`, here('load-client.ts')));
    const started = performance.now();
    clients.forEach((client, index) =>
      client.send({
        cmd: 'connect',
        kind,
        mode: params.clientMode,
        port,
        index,
        of: clients.length,
        connections: params.connections,
        users: params.users,
        concurrency: params.connectConcurrency,
      }),
    );
    const connected = await Promise.all(clients.map((client) => client.next('connected', 300_000)));
    result.connectSeconds = (performance.now() - started) / 1000;
    result.open = connected.reduce((sum, event) => sum + event.open, 0);
    result.failed = connected.reduce((sum, event) => sum + event.failed, 0);
    result.retried = connected.reduce((sum, event) => sum + event.retried, 0);
    result.firstError = connected.find((event) => event.firstError)?.firstError;
    // Let the last sessions settle (our server reads each user's unread count on open).
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const afterConnect = await stats(server);
    result.rssConnected = afterConnect.rssBytes;
    result.usersOnline = afterConnect.usersOnline;
    log(
      `${kind}: ${result.open} open, ${result.failed} failed, ${result.retried} attempts retried, in ${result.connectSeconds.toFixed(2)} s` +
        `${result.firstError ? ` (first error: ${result.firstError})` : ''}; ${result.usersOnline} users online,` +
        ` RSS ${(result.rssConnected / MB).toFixed(0)} MB`,
    );
    if (result.failed > 0) throw new Error(`${result.failed} connections failed: ${result.firstError}`);

    for (const batch of params.batches) {
      log(`${kind}: ${scenarioOf(batch)}`);
      const rounds: RoundResult[] = [];
      result.scenarios.set(batch, rounds);
      for (let round = 0; round < params.warmupRounds; round++) {
        const warmup = await runRound(server, clients, batch);
        log(
          `${kind}: warm-up ${warmup.frames}/${warmup.expected} frames, ${fmtRate(warmup.framesPerSecond)}/s`,
        );
      }
      if (params.profile) {
        server.send({ cmd: 'profile', action: 'start' });
        await server.next('profiling', 10_000);
      }
      for (let round = 0; round < params.rounds; round++) {
        let measured = await runRound(server, clients, batch);
        // The machine may be shared: a round disturbed by other processes is run again after a
        // pause, 3 times at most, and the least disturbed attempt is kept.
        for (let retry = 0; retry < 3 && measured.otherLoad > params.maxOtherLoad; retry++) {
          reruns++;
          log(
            `${kind}: round ${round + 1} shared the CPU with ${measured.otherLoad.toFixed(2)} cores of other work: again`,
          );
          await new Promise((resolve) => setTimeout(resolve, 500));
          const again = await runRound(server, clients, batch);
          if (again.otherLoad < measured.otherLoad) measured = again;
        }
        rounds.push(measured);
        log(
          `${kind}: round ${round + 1}: ${measured.frames}/${measured.expected} frames in ` +
            `${(measured.seconds * 1000).toFixed(0)} ms = ${fmtRate(measured.framesPerSecond)}/s ` +
            `(publishing took ${measured.publishMs.toFixed(0)} ms), latency p50 ` +
            `${percentile(measured.latencies, 0.5).toFixed(1)} ms, p99 ${percentile(measured.latencies, 0.99).toFixed(1)} ms, ` +
            `max ${percentile(measured.latencies, 1).toFixed(1)} ms; server CPU ${(measured.serverCpuMicros / 1000).toFixed(0)} ms ` +
            `(system ${(measured.serverSystemCpuMicros / 1000).toFixed(0)} ms), clients CPU ${(measured.clientCpuMicros / 1000).toFixed(0)} ms, ` +
            `other processes ${measured.otherLoad.toFixed(2)} cores`,
        );
      }
      if (params.profile) {
        mkdirSync(resolve(root, '.data/bench'), { recursive: true });
        const file = resolve(root, `.data/bench/${kind.replace('.', '')}-batch${batch}.cpuprofile`);
        server.send({ cmd: 'profile', action: 'stop', file });
        await server.next('profiled', 60_000);
        printProfile(kind, file);
      }
    }
    result.rssPeak = (await stats(server)).peakRssBytes;
  } catch (error) {
    result.error = (error as Error).message;
    log(`${kind}: FAILED: ${result.error}`);
  } finally {
    for (const client of clients) client.send({ cmd: 'close' });
    await Promise.all(clients.map((client) => client.next('closed', 10_000).catch(() => undefined)));
    await Promise.all(clients.map((client) => client.kill(2_000)));
    server.send({ cmd: 'stop' });
    await server.next('stopped', 30_000).catch(() => undefined);
    await server.kill(5_000);
    if (kind === 'ours') await dropLeftoverDatabases();
  }
  return result;
}

// --- Statistics and report -----------------------------------------------------------------

function percentile(values: Float64Array, p: number): number {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function fmtRate(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '–';
}

const fmt = (value: number, digits = 0): string => (Number.isFinite(value) ? value.toFixed(digits) : '–');

interface Summary {
  result: ServerResult;
  rounds: number;
  framesPerSecond: number;
  p50: number;
  p99: number;
  cpuMicrosPerFrame: number;
  systemShare: number;
  clientCpuShare: number;
  otherLoad: number;
  delivered: string;
}

function summarize(result: ServerResult, batch: number): Summary {
  const rounds = result.scenarios.get(batch) ?? [];
  const all = new Float64Array(rounds.reduce((sum, round) => sum + round.latencies.length, 0));
  let offset = 0;
  for (const round of rounds) {
    all.set(round.latencies, offset);
    offset += round.latencies.length;
  }
  const frames = rounds.reduce((sum, round) => sum + round.frames, 0);
  const expected = rounds.reduce((sum, round) => sum + round.expected, 0);
  return {
    result,
    rounds: rounds.length,
    framesPerSecond: median(rounds.map((round) => round.framesPerSecond)),
    p50: percentile(all, 0.5),
    p99: percentile(all, 0.99),
    cpuMicrosPerFrame: median(rounds.map((round) => round.serverCpuMicros / round.frames)),
    systemShare: median(rounds.map((round) => round.serverSystemCpuMicros / round.serverCpuMicros)),
    clientCpuShare: median(rounds.map((round) => round.clientCpuMicros / 1e6 / round.seconds)),
    otherLoad: median(rounds.map((round) => round.otherLoad)),
    delivered: rounds.length ? `${frames.toLocaleString('en-US')}/${expected.toLocaleString('en-US')}` : '–',
  };
}

const markdownTable = (header: string[], rows: string[][]): string =>
  [header, header.map(() => '---'), ...rows].map((row) => `| ${row.join(' | ')} |`).join('\n');

const nameOf = (result: ServerResult): string => labelOf(result.kind) + (result.error ? ' (failed)' : '');

function connectionTable(results: ServerResult[]): string {
  return markdownTable(
    [
      'server',
      `connect ${params.connections.toLocaleString('en-US')}`,
      'attempts retried',
      'users online',
      'RSS MB idle / connected / peak',
      'KB per connection',
    ],
    results.map((result) => [
      nameOf(result),
      `${fmt(result.connectSeconds, 2)} s`,
      result.retried.toLocaleString('en-US'),
      result.usersOnline.toLocaleString('en-US'),
      `${fmt(result.rssIdle / MB)} / ${fmt(result.rssConnected / MB)} / ${fmt(result.rssPeak / MB)}`,
      fmt((result.rssConnected - result.rssIdle) / Math.max(1, result.open) / 1024, 1),
    ]),
  );
}

function pushTable(summaries: Summary[]): string {
  const ws = summaries.find((summary) => summary.result.kind === 'ws');
  return markdownTable(
    [
      'server',
      'frames/s (median)',
      'vs ws',
      'p50 ms',
      'p99 ms',
      'server CPU µs/frame',
      'of which kernel',
      'CPU efficiency vs ws',
      'client cores busy',
      'other load (cores)',
      'frames delivered',
    ],
    summaries.map((summary) => {
      const ratio = ws ? summary.framesPerSecond / ws.framesPerSecond : NaN;
      const cpuRatio = ws ? ws.cpuMicrosPerFrame / summary.cpuMicrosPerFrame : NaN;
      return [
        nameOf(summary.result),
        fmtRate(summary.framesPerSecond),
        Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : '–',
        fmt(summary.p50, 1),
        fmt(summary.p99, 1),
        fmt(summary.cpuMicrosPerFrame, 2),
        Number.isFinite(summary.systemShare) ? `${(summary.systemShare * 100).toFixed(0)}%` : '–',
        Number.isFinite(cpuRatio) ? `${cpuRatio.toFixed(2)}×` : '–',
        fmt(summary.clientCpuShare, 2),
        fmt(summary.otherLoad, 2),
        summary.delivered,
      ];
    }),
  );
}

function verdictOf(summaries: Summary[]): string {
  const ours = summaries.find((summary) => summary.result.kind === 'ours');
  const ws = summaries.find((summary) => summary.result.kind === 'ws');
  if (!ours?.rounds || !ws?.rounds) return 'No verdict: ours and ws did not both complete.';
  const ratio = ours.framesPerSecond / ws.framesPerSecond;
  const cpuRatio = ws.cpuMicrosPerFrame / ours.cpuMicrosPerFrame;
  return ratio >= 3
    ? `**3× target met**: ours delivers ${ratio.toFixed(2)}× the \`ws\` throughput (${cpuRatio.toFixed(2)}× its CPU efficiency).`
    : `**3× target NOT met**: ours delivers ${ratio.toFixed(2)}× the \`ws\` throughput (${cpuRatio.toFixed(2)}× its CPU efficiency); the target is 3×.`;
}

function versionOf(name: string): string {
  try {
    const manifest = JSON.parse(readFileSync(`${root}/node_modules/${name}/package.json`, 'utf8')) as {
      name: string;
      version: string;
    };
    return manifest.name === name ? manifest.version : `${manifest.name}@${manifest.version}`;
  } catch {
    return '?';
  }
}

/** The commit measured, and whether `server/` differed from it (files and a hash of the diff). */
function gitDescription(): string {
  try {
    const git = (...args: string[]): string => execFileSync('git', args, { cwd: root }).toString().trim();
    const commit = git('rev-parse', '--short', 'HEAD');
    const changed = git('diff', 'HEAD', '--name-only', '--', 'server');
    if (!changed) return commit;
    const hash = createHash('sha1')
      .update(git('diff', 'HEAD', '--', 'server'))
      .digest('hex')
      .slice(0, 10);
    return `${commit} plus uncommitted changes to ${changed.split('\n').join(', ')} (diff sha1 ${hash})`;
  } catch {
    return 'unknown';
  }
}

function printProfile(kind: ServerKind, file: string): void {
  interface ProfileNode {
    id: number;
    hitCount?: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[] };
  const total = profile.nodes.reduce((sum, node) => sum + (node.hitCount ?? 0), 0);
  const selfTime = new Map<string, number>();
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url ? `${url.replace(/^.*\/(node_modules|work\/main)\//, '')}:${lineNumber + 1}` : '';
    const key = `${functionName || '(anonymous)'} ${where}`.trim();
    selfTime.set(key, (selfTime.get(key) ?? 0) + (node.hitCount ?? 0));
  }
  const top = [...selfTime].sort((a, b) => b[1] - a[1]).slice(0, 25);
  log(`${kind}: CPU profile of the measured rounds (${file}), self time:`);
  for (const [key, hits] of top) console.log(`  ${((hits / total) * 100).toFixed(1).padStart(5)}%  ${key}`);
}

function checkFileLimit(): void {
  const match = /Max open files\s+(\d+|unlimited)/.exec(readFileSync('/proc/self/limits', 'utf8'));
  const limit = match?.[1] === 'unlimited' ? Infinity : Number(match?.[1] ?? Infinity);
  const needed = params.connections + 200;
  if (limit < needed) {
    throw new Error(
      `The open-file limit (${limit}) is too low for ${params.connections} connections in one server ` +
        `process: raise it first (ulimit -n ${needed}) or lower BENCH_CONNECTIONS.`,
    );
  }
}

async function main(): Promise<void> {
  checkFileLimit();
  const started = Date.now();
  const codeAtStart = gitDescription();
  log(
    `${params.connections} connections, ${params.users} users, ${params.notifications} notifications per round ` +
      `(${params.warmupRounds} warm-up + ${params.rounds} measured per scenario), ` +
      `${params.clientProcesses} ${params.clientMode} client processes, servers: ${params.servers.join(', ')}`,
  );
  const results: ServerResult[] = [];
  for (const kind of params.servers as ServerKind[]) {
    if (cleaningUp) return;
    results.push(await benchServer(kind));
  }
  if (cleaningUp) return;

  const sections: string[] = [];
  const findings: string[] = [];
  for (const batch of params.batches) {
    const summaries = results.map((result) => summarize(result, batch));
    sections.push(`### ${scenarioOf(batch)}\n\n${pushTable(summaries)}\n\n${verdictOf(summaries)}`);
    const ratioOf = (kind: ServerKind): number => {
      const row = summaries.find((summary) => summary.result.kind === kind && summary.rounds > 0);
      const ws = summaries.find((summary) => summary.result.kind === 'ws' && summary.rounds > 0);
      return row && ws ? row.framesPerSecond / ws.framesPerSecond : NaN;
    };
    const ours = ratioOf('ours');
    const scenario = scenarioOf(batch).split(':')[0];
    const reference = ratioOf('uws');
    findings.push(
      `${scenario}: **${ours >= 3 ? 'met' : 'NOT met'}**, ours ${fmt(ours, 2)}× ws` +
        (Number.isFinite(reference) ? ` (the bare uWebSockets.js reference ${fmt(reference, 2)}×)` : ''),
    );
  }
  const summary = `3× target, throughput relative to \`ws\` at ${params.connections.toLocaleString('en-US')} connections: ${findings.join('; ')}.`;
  const connections = `### Connections and memory\n\n${connectionTable(results)}`;
  console.log(`\n${sections.join('\n\n')}\n\n${connections}\n\n${summary.replaceAll('**', '')}\n`);
  log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);

  if (params.output !== '-') {
    const cpu = cpus();
    const codeAtEnd = gitDescription();
    const markdown = report({
      code:
        codeAtEnd === codeAtStart
          ? codeAtEnd
          : `**changed during the run**: ${codeAtStart} at the start, ${codeAtEnd} at the end`,
      machine: `${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()}`,
      summary,
      results: `${sections.join('\n\n')}\n\n${connections}`,
      failures: results
        .filter((result) => result.error)
        .map((result) => `- ${labelOf(result.kind)}: ${result.error}`)
        .join('\n'),
      durationSeconds: (Date.now() - started) / 1000,
    });
    const path = resolve(root, params.output);
    const options = await resolveConfig(path);
    writeFileSync(path, await format(markdown, { ...options, filepath: path }));
    log(`wrote ${params.output}`);
  }
  if (results.some((result) => result.error)) process.exitCode = 1;
}

function report(parts: {
  machine: string;
  code: string;
  summary: string;
  results: string;
  failures: string;
  durationSeconds: number;
}): string {
  const frames = (params.notifications * params.connections) / params.users;
  const warmups = `${params.warmupRounds} warm-up round${params.warmupRounds === 1 ? '' : 's'}`;
  return `# Push-path benchmark

Generated by \`npm run bench\` (\`bench/run.ts\`) on ${new Date().toISOString()}; the run took
${parts.durationSeconds.toFixed(0)} s. Where the time goes, and what would change it:
[profiling.md](profiling.md).

${parts.summary}

- Machine: ${parts.machine}
- Node ${process.version}; uWebSockets.js ${versionOf('uWebSockets.js')}, ws ${versionOf('ws')},
  socket.io ${versionOf('socket.io')}, jose ${versionOf('jose')}, rxjs ${versionOf('rxjs')}
- Code: ${parts.code}
- Parameters: ${params.connections.toLocaleString('en-US')} connections of ${params.users.toLocaleString('en-US')} users
  (${params.connections / params.users} sockets per user), ${params.notifications.toLocaleString('en-US')} notifications per
  round → ${frames.toLocaleString('en-US')} frames per round; per scenario ${warmups} then
  ${params.rounds} measured rounds; ${params.clientProcesses} load-generator processes (${params.clientMode} client),
  ${params.connectConcurrency} connects in flight each.
- Other processes on the machine: ${
    reruns === 0
      ? 'no measured round was disturbed by them.'
      : `${reruns} measured round${reruns === 1 ? ' was' : 's were'} run again because other processes took more than ${params.maxOtherLoad} cores meanwhile; the least disturbed attempt is kept (see **other load**).`
  }

## Results
${parts.failures ? `\n**Failures:**\n\n${parts.failures}\n` : ''}
${parts.results}

- **frames/s**: notification frames received by all clients ÷ wall time from the first publish
  to the last frame received; median of the measured rounds. **vs ws**: ratio to the \`ws\` row.
  Expect ±20 % between runs on this machine: servers and clients share 2 cores.
- **p50 / p99 ms**: delivery latency (arrival − \`sentAt\` stamped in the notification at
  publish, wall clocks of two processes: ±0.05 ms), over every frame of the measured rounds, the
  feed running flat out: it is mostly queueing.
- **server CPU µs/frame**: the server process's CPU time (user + system) during a round ÷ frames
  delivered: unlike frames/s, it does not depend on how the cores are shared with the clients.
  **of which kernel**: the system-time share, mostly the sockets' \`send\` syscalls (on
  loopback they also carry part of the receiving side's TCP work; softirq time, charged to no
  process, is not counted). **CPU efficiency vs ws**: ws's µs/frame ÷ this row's.
- **client cores busy**: the load generators' CPU time ÷ round wall time. With 2 cores for the
  server and the clients, no row can go much beyond what 2 cores minus the server leave the
  clients (about 7 µs of client CPU per frame).
- **other load**: cores kept busy during a round by processes outside the benchmark (from
  \`/proc/stat\`, approximate); above 0.1 or so, that row's frames/s is understated.
- **RSS**: the server process before any connection, after all connections (1 s after the last
  opened), and its peak (VmHWM, at the end). **KB per connection** = (connected − idle) ÷
  connections. Ours also holds its PostgreSQL pool, MikroORM, the Temporal client and the REST
  routes in the idle figure.
- **connect**: wall time for all connections to be open (a connection refused or dropped while
  opening is tried again, twice at most: **attempts retried**): the upgrade with JWT verification
  for all; for ours also until the session's first frame (\`unread_count\`, one PostgreSQL read per
  socket); for Socket.IO until the namespace connect is acknowledged (the JWT is checked there).

## Method

Each server runs in its own child process and does the same job: accept the connections,
authenticate each with an HS256 JWT (jose, same secret), push every notification of a user to
all that user's sockets.

- **ours**: the real \`startNotifyServer\` (uWebSockets.js, \`SocketSession\`, RxJS hub) through
  \`test/support/notify-server.ts\`'s harness, on a fresh PostgreSQL database (dropped at the end);
  clients connect to \`/api/v1/ws/<token>\`. The feed calls \`server.hub.publish(userId, { id, json })\`
  inside the server process, as the LISTEN handler does with a NOTIFY payload, so PostgreSQL
  is not what is measured.
- **ws** (\`bench/server-ws.ts\`): \`ws\` with \`noServer\`, the JWT verified in the HTTP
  \`upgrade\` handler, a \`Map<userId, Set<WebSocket>>\`, each frame built and encoded to bytes once
  per notification and sent to each of the user's sockets.
- **socket.io** (\`bench/server-socketio.ts\`): websocket transport only, the token in the
  handshake's \`auth\`, checked by a middleware; one room per user; \`io.to(room).emit\` per
  notification with the frame built once.
- **uws-publish (reference)** (\`bench/server-uws.ts\`): not a product, the floor of the library
  we use: bare uWebSockets.js, JWT at upgrade, one topic per user, one native \`app.publish\` per
  notification (\`BENCH_UWS_FANOUT=send\`: a JS loop of \`ws.send\` instead).
- The feed (\`bench/server-child.ts\`) is identical for all: notification \`k\` of a round goes to
  user \`k mod users\` with increasing ids per user, serialized once (about 330 bytes) with its
  \`sentAt\`, as fast as possible, a scenario's number of notifications per event-loop turn
  (\`setImmediate\` between). **Sparse**: a turn holds fewer notifications than there are users,
  so each socket gets at most one frame per turn, as when LISTEN payloads trickle in. **Burst**:
  the whole round in one turn, every socket gets all its frames of the round at once, as when
  a schedule stores many notifications for the same users together.
- The load generators (\`bench/load-client.ts\`) open the connections (raw client: a TCP socket,
  the HTTP upgrade, then a frame parser that only checks a frame's prefix and reads \`sentAt\`;
  \`BENCH_CLIENT=lib\` uses the \`ws\` and \`socket.io-client\` packages instead) and report when
  every expected frame has arrived.

## How to run

\`\`\`sh
npm run bench                     # defaults above, writes bench/results.md (1–3 minutes)
BENCH_CONNECTIONS=2000 BENCH_USERS=500 BENCH_NOTIFICATIONS=4000 BENCH_OUTPUT=- npm run bench
BENCH_SERVERS=ours BENCH_BATCHES=1000 BENCH_PROFILE=1 BENCH_OUTPUT=- npm run bench
\`\`\`

Settings: \`BENCH_CONNECTIONS\`, \`BENCH_USERS\`, \`BENCH_NOTIFICATIONS\` (per round),
\`BENCH_BATCHES\` (notifications per event-loop turn, one scenario each, comma-separated),
\`BENCH_ROUNDS\`, \`BENCH_WARMUP_ROUNDS\`, \`BENCH_MAX_OTHER_LOAD\` (a round with more cores of
other work is run again, 3 times at most), \`BENCH_CLIENT_PROCESSES\`,
\`BENCH_CONNECT_CONCURRENCY\`, \`BENCH_ROUND_TIMEOUT_MS\`, \`BENCH_CLIENT\` (\`raw\` or \`lib\`),
\`BENCH_SERVERS\` (among \`ours,ws,socket.io,uws\`), \`BENCH_UWS_FANOUT\` (\`publish\` or \`send\`),
\`BENCH_OUTPUT\` (\`-\`: no file), \`BENCH_PROFILE=1\` (V8 CPU profile of each server's measured
rounds, written to \`.data/bench/\`, top functions printed). It needs PostgreSQL as \`npm test\`
does (\`TEST_DATABASE_ADMIN_URL\`) and an open-file limit above the connection count
(\`ulimit -n\`).
`;
}

try {
  await main();
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  await cleanUp();
}
