import { cpus } from 'node:os';
import { cpuSeconds, machineBusySeconds, memoryMiB } from './proc.js';
import type { Stack } from './stack-types.js';

/** CPU and memory of the stack's processes, from /proc, and the worker's SDK metrics. */

export { cpuSeconds, machineBusySeconds, memoryMiB };

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
export async function scrapeWorkerMetrics(
  stack: Pick<Stack, 'workerHealthUrl'>,
): Promise<Map<string, number>> {
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

/**
 * How much a counter grew over a window, from two scrapes: NaN when the scrape failed; 0 for a
 * counter the worker has not exported yet (the SDK's appear at their first increment).
 */
export function counterDelta(before: Map<string, number>, after: Map<string, number>, name: string): number {
  if (after.size === 0) return NaN;
  return (after.get(name) ?? 0) - (before.get(name) ?? 0);
}

/** Mean of a histogram over a window, from two scrapes: Δsum / Δcount (NaN when nothing was observed). */
export function histogramMean(before: Map<string, number>, after: Map<string, number>, name: string): number {
  const count = (after.get(`${name}_count`) ?? 0) - (before.get(`${name}_count`) ?? 0);
  const sum = (after.get(`${name}_sum`) ?? 0) - (before.get(`${name}_sum`) ?? 0);
  return count > 0 ? sum / count : NaN;
}

/** What the worker's SDK says of a window (its Prometheus metrics, two scrapes), for a report's notes. */
export interface WorkerSdkFacts {
  /** Means, ms. */
  wftScheduleToStart: number;
  wftExecution: number;
  activityScheduleToStart: number;
  activityExecution: number;
  /** Sticky cache, counts: tasks that hit it and missed it (replayed), workflows evicted for room. */
  cacheHits: number;
  cacheMisses: number;
  forcedEvictions: number;
}

export function workerSdkFacts(before: Map<string, number>, after: Map<string, number>): WorkerSdkFacts {
  const mean = (name: string) => histogramMean(before, after, name);
  const count = (name: string) => counterDelta(before, after, name);
  return {
    wftScheduleToStart: mean('temporal_workflow_task_schedule_to_start_latency'),
    wftExecution: mean('temporal_workflow_task_execution_latency'),
    activityScheduleToStart: mean('temporal_activity_schedule_to_start_latency'),
    activityExecution: mean('temporal_activity_execution_latency'),
    cacheHits: count('temporal_sticky_cache_hit'),
    cacheMisses: count('temporal_sticky_cache_miss'),
    forcedEvictions: count('temporal_sticky_cache_total_forced_eviction'),
  };
}
