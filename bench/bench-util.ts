import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { markInterrupted, sleep } from './common.js';
import { envInt } from './env.js';
import {
  COMPONENTS,
  COMPONENT_LABELS,
  machineBusySeconds,
  type CpuWindow,
  type WorkerSdkFacts,
} from './stack-meter.js';
import type { LogSummary } from './stack-logs.js';
import type { DevServerFacts } from './stack-types.js';

/** Small helpers shared by bench/herd.ts, bench/create.ts and bench/latency.ts. */

/**
 * Extra dev server arguments from BENCH_DEV_SERVER_ARGS (split on spaces), storage from
 * BENCH_DEV_SERVER_STORAGE (`file`, the default, or `memory`). The SQLite pragmas are npm start's:
 * TEMPORAL_DEV_SQLITE_PRAGMAS (`''` for none).
 */
export function devServerOptionsFromEnv(): { storage: 'file' | 'memory'; extraArgs: string[] } {
  const storage = process.env.BENCH_DEV_SERVER_STORAGE === 'memory' ? 'memory' : 'file';
  const extraArgs = (process.env.BENCH_DEV_SERVER_ARGS ?? '').split(/\s+/).filter(Boolean);
  return { storage, extraArgs };
}

/** Extra worker environment from BENCH_WORKER_ENV (`KEY=VALUE,KEY=VALUE`), e.g. tuning variables. */
export function workerEnvFromEnv(): Record<string, string> {
  const raw = process.env.BENCH_WORKER_ENV ?? '';
  const env: Record<string, string> = {};
  for (const pair of raw.split(',').filter(Boolean)) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new Error(`BENCH_WORKER_ENV: ${pair} is not KEY=VALUE`);
    env[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
  }
  return env;
}

/**
 * The worker's own Node flags from BENCH_WORKER_NODE_ARGS (space-separated), e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof`: Node refuses `--cpu-prof` in NODE_OPTIONS.
 */
export function workerNodeArgsFromEnv(): string[] {
  return (process.env.BENCH_WORKER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
}

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/** The commit the bench runs at, and whether the service's or the bench's code has uncommitted changes. */
export function gitFacts(): { commit: string; dirty: string[] } {
  const git = (...args: string[]) => {
    try {
      return execFileSync('git', args, {
        cwd: repoRoot,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      });
    } catch {
      return '';
    }
  };
  const commit = git('rev-parse', '--short=10', 'HEAD').trim() || process.env.BENCH_COMMIT || 'unknown';
  const dirty = git(
    'status',
    '--porcelain',
    '--',
    'workflows',
    'activities',
    'worker',
    'server',
    'client',
    'db',
    'domain',
    'scripts',
    'config',
    'support',
    // The bench's own code decides what is measured, and how: a report from edited bench code
    // cannot be reproduced from its commit either.
    'bench',
    'package.json',
    'package-lock.json',
  )
    .split('\n')
    .filter(Boolean);
  return { commit, dirty };
}

/** A report's first note: the commit it ran at, and what differed from it. */
export const commitNote = ({ commit, dirty }: { commit: string; dirty: string[] }): string =>
  `Ran at commit ${commit}${dirty.length ? ` with uncommitted changes in: ${dirty.map((line) => line.slice(3)).join(', ')}` : ' (service and bench code as committed)'}.`;

export const seconds = (ms: number) => (Number.isFinite(ms) ? (ms / 1000).toFixed(ms < 10_000 ? 2 : 1) : '—');
export const fixed = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : '—');

/** A date `days` from today, YYYY-MM-DD (UTC). */
export const dateInDays = (days: number) =>
  new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

/** At most `max` points of a cumulative count over sorted offsets (x in seconds). */
export function cumulativePoints(sortedMs: number[], max = 200, originMs = 0): Array<[number, number]> {
  if (sortedMs.length === 0) return [];
  const points: Array<[number, number]> = [[Math.min(0, (sortedMs[0]! - originMs) / 1000), 0]];
  const step = Math.max(1, Math.floor(sortedMs.length / max));
  for (let index = 0; index < sortedMs.length; index += step) {
    points.push([round3((sortedMs[index]! - originMs) / 1000), index + 1]);
  }
  const last = sortedMs.length - 1;
  if (points[points.length - 1]![1] !== last + 1)
    points.push([round3((sortedMs[last]! - originMs) / 1000), last + 1]);
  return points;
}

const round3 = (value: number) => Math.round(value * 1000) / 1000;

/**
 * Stops the stack on Ctrl-C, SIGTERM and SIGHUP too, then exits with 130. The first signal
 * counts; later ones (Ctrl-C reaches npm and the bench, and npm passes it on) are ignored until
 * the exit: one handled once would leave the next to kill the bench mid-stop, the stack behind.
 */
export function stopOnSignal(stop: () => Promise<void>): () => void {
  let stopping = false;
  const handler = () => {
    if (stopping) return;
    stopping = true;
    markInterrupted();
    process.stderr.write('\ninterrupted: stopping the stack\n');
    void stop().finally(() => process.exit(130));
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const signal of signals) process.on(signal, handler);
  return () => {
    // Once the stop has begun, the handlers stay: a later signal must not kill the bench mid-stop.
    if (stopping) return;
    for (const signal of signals) process.off(signal, handler);
  };
}

/** One line on where the CPU went over a window, per unit of work (e.g. per reminder). */
export function cpuNote(window: CpuWindow, units: number, unit: string): string {
  const per = (seconds: number) => fixed((seconds / units) * 1000, 2);
  return (
    `CPU over the ${fixed(window.seconds, 1)} s window: ` +
    COMPONENTS.map(
      (c) => `${COMPONENT_LABELS[c]} ${fixed(window.cpu[c], 1)} s (${per(window.cpu[c])} ms per ${unit})`,
    ).join(', ') +
    `; the machine was busy ${fixed(window.machine.busy, 1)} of ${fixed(window.seconds * window.machine.cores, 1)} core-seconds, ` +
    `${fixed(window.machine.others, 1)} s of it other processes (not this stack nor the bench); peak RSS: ` +
    COMPONENTS.filter((c) => window.peakRss[c] !== undefined)
      .map((c) => `${COMPONENT_LABELS[c]} ${fixed(window.peakRss[c]!, 0)} MiB`)
      .join(', ')
  );
}

/** The log lines worth a note: each process's warnings and errors, most frequent first. */
export function logNotes(prefix: string, summaries: LogSummary[]): string[] {
  return summaries
    .filter((summary) => summary.warnings + summary.errors > 0)
    .map(
      (summary) =>
        `${prefix}${summary.component} log: ${summary.errors} errors, ${summary.warnings} warnings` +
        (summary.top.length ? ` (${summary.top.map((t) => `${t.count}× ${t.message}`).join(' | ')})` : '') +
        '.',
    );
}

/** The dev server configuration, for a report's parameters. */
export function devServerParameters(facts: DevServerFacts | undefined): Record<string, string> {
  if (!facts) return { 'dev server': 'not started' };
  return {
    'dev server': `${facts.version}; ${facts.storage === 'sqlite-file' ? `SQLite file in a temp dir (as npm start), pragmas: ${facts.sqlitePragmas.join(', ') || 'none'}` : 'in memory'}; extra args: ${facts.extraArgs.join(' ') || 'none'}`,
    'dev server command': `\`${facts.commandLine}\``,
  };
}

/**
 * Waits (up to BENCH_QUIET_WAIT_S, default 600 s) until other processes keep less than
 * BENCH_QUIET_CORES (default 0.5) cores busy, measured over 3 s: the machine is shared, and a
 * run next to a test suite measures the suite as much as the service. Returns what it saw.
 */
export async function waitForQuietMachine(log: (message: string) => void): Promise<string> {
  const maxWaitMs = envInt('BENCH_QUIET_WAIT_S', 600) * 1000;
  const threshold = envInt('BENCH_QUIET_CORES', 0.5);
  const started = Date.now();
  let lastLog = 0;
  for (;;) {
    const before = machineBusySeconds();
    await sleep(3000);
    const busyCores = (machineBusySeconds() - before) / 3;
    const waited = Date.now() - started;
    if (busyCores <= threshold) {
      return `other processes kept ${fixed(busyCores, 2)} cores busy just before the start${waited > 5000 ? ` (after waiting ${seconds(waited)} s for a quiet machine)` : ''}`;
    }
    if (waited > maxWaitMs) {
      return `the machine was not quiet: ${fixed(busyCores, 2)} cores busy just before the start, after waiting ${seconds(waited)} s`;
    }
    if (Date.now() - lastLog > 30_000) {
      lastLog = Date.now();
      log(`waiting for a quiet machine: ${fixed(busyCores, 2)} cores busy (threshold ${threshold})`);
    }
  }
}

/**
 * Cores kept busy by processes that are neither the stack nor the bench over a window: the
 * machine is shared, and a figure measured next to a test suite says so in its row.
 */
export const othersCores = (window: Pick<CpuWindow, 'machine' | 'seconds'>): string =>
  fixed(window.machine.others / Math.max(0.001, window.seconds), 2) + ` of ${window.machine.cores}`;

/** The worker's extra environment as a report parameter (`KEY=VALUE …`, or `none`). */
export function workerEnvParameter(env: Record<string, string>): string {
  return (
    Object.entries(env)
      .map(([key, value]) => `${key}=${value}`)
      .join(' ') || 'none'
  );
}

/** The worker SDK's facts over a window, as one sentence of a report's notes. */
export function sdkNote(sdk: WorkerSdkFacts): string {
  return (
    `worker SDK over the window (means): workflow task schedule-to-start ${fixed(sdk.wftScheduleToStart, 0)} ms, ` +
    `workflow task execution ${fixed(sdk.wftExecution, 0)} ms, activity schedule-to-start ${fixed(sdk.activityScheduleToStart, 0)} ms, ` +
    `activity execution ${fixed(sdk.activityExecution, 0)} ms; sticky cache: ${fixed(sdk.cacheHits, 0)} hits, ` +
    `${fixed(sdk.cacheMisses, 0)} misses (replayed), ${fixed(sdk.forcedEvictions, 0)} forced evictions (the cache was full).`
  );
}
