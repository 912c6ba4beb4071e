import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from './common.js';
import { summarizeProfile } from './connections-inspector.js';
import { log, mib, profilePhase } from './connections-params.js';
import { run } from './connections-server.js';
import { cpuSeconds, machineBusySeconds, procStatus } from './proc.js';

/**
 * What the connections bench reads of the server and of the machine: memory samples, the server's
 * gauges, TCP counters, other processes' load; server CPU profiles of a phase; refusal counts.
 */

/** CPU seconds (user + system) of one process; 0 once it is gone. */
export const processCpuSeconds = (pid: number): number => cpuSeconds(pid) ?? 0;

/** Server CPU profiles and heap summaries taken during the run, for the report's notes. */
export const profiles: string[] = [];
export async function profiled<T>(phase: string, work: () => Promise<T>): Promise<T> {
  if (profilePhase !== phase) return work();
  await run.inspector!.startProfile();
  try {
    return await work();
  } finally {
    const profile = await run.inspector!.stopProfile();
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

/**
 * The run's own processes: this one, the server, the clients and the PostgreSQL backends of the
 * bench's database; what the machine did beyond them is other people's load.
 */
export async function ownPids(serverPid: number): Promise<number[]> {
  const backends = await run
    .orm!.em.fork()
    .execute<Array<{ pid: number }>>('select pid from pg_stat_activity where datname = current_database()');
  return [
    process.pid,
    serverPid,
    ...run.clients.map((c) => c.process.pid ?? 0),
    ...backends.map((b) => b.pid),
  ];
}

/** Measures how many cores other processes kept busy while `work` ran. */
export async function otherLoadDuring<T>(
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

/**
 * Kernel slab memory of the whole machine (/proc/meminfo `Slab`): socket, file and epoll structures
 * of both ends of every connection live there, not in any process's RSS. Other processes move it too.
 */
export function kernelSlabBytes(): number {
  const match = /^Slab:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
  return match ? Number(match[1]) * 1024 : NaN;
}

/** TCP counters of the machine (/proc/net/netstat): listen-queue overflows and SYN cookies show an accept backlog too short for a burst. */
export function tcpCounters(): Record<string, number> {
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
export function tcpCountersSince(before: Record<string, number>): string {
  const now = tcpCounters();
  return LISTEN_COUNTERS.map((name) => `${name} ${(now[name] ?? 0) - (before[name] ?? 0)}`).join(', ');
}

export async function serverMetrics(port: number): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const values: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const match = /^(normx_notify_(?:ws_connections|users_online|messages_pushed_total))\s+(\S+)/.exec(line);
    if (match) values[match[1]!] = Number(match[2]);
  }
  return values;
}

export interface Sample {
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

export async function sample(
  label: string,
  pid: number,
  metricsPort: number,
  extra: Partial<Sample> = {},
): Promise<Sample> {
  const memory = await run.inspector!.memoryAfterGc();
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

export function addRefusals(
  into: Record<string, number>,
  more: Record<string, number>,
): Record<string, number> {
  for (const [status, count] of Object.entries(more)) into[status] = (into[status] ?? 0) + count;
  return into;
}
const REFUSAL_NAMES: Record<string, string> = {
  '503': 'server_busy',
  '429': 'too_many_upgrades or too_many_sockets',
};
export const refusalText = (refusals: Record<string, number>): string =>
  Object.keys(refusals).length === 0
    ? 'none'
    : Object.entries(refusals)
        .map(
          ([status, count]) =>
            `${count} × HTTP ${status}${REFUSAL_NAMES[status] ? ` (${REFUSAL_NAMES[status]})` : ''}`,
        )
        .join(', ');

export const concat = (arrays: Float64Array[]): number[] => arrays.flatMap((array) => Array.from(array));
