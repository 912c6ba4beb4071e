import { readdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { cpuSeconds, machineBusySeconds, memoryMiB, threadCpu } from './proc.js';

/**
 * CPU and memory of `npm start`'s two processes over a window, from /proc: start.ts (PGlite, the
 * worker and the delivery server in one Node process; also by thread name) and its child, the
 * Temporal dev server (its own children included), and of the bench itself; the machine's busy
 * time and the part of it no process of ours used.
 */

export type EmbeddedComponent = 'start' | 'devServer' | 'bench';
export const EMBEDDED_COMPONENTS: readonly EmbeddedComponent[] = ['start', 'devServer', 'bench'];
export const EMBEDDED_LABELS: Record<EmbeddedComponent, string> = {
  start: 'start.ts (PGlite, worker, server)',
  devServer: 'Temporal dev server',
  bench: 'bench client',
};

export interface EmbeddedCpuWindow {
  seconds: number;
  cpu: Record<EmbeddedComponent, number>;
  /**
   * start.ts's CPU seconds by thread name: `main` (its JavaScript thread), `workflow-proces…` and
   * `tokio-runtime-w` (the Temporal SDK's Rust core: its workflow processing and its runtime),
   * `node` (every other Node thread under one name: the worker_thread that runs the workflow code,
   * V8's and libuv's helpers; Node 20 names them all `node`).
   */
  threads: Record<string, number>;
  /** start.ts's main thread (one JavaScript thread: PGlite, the activities, the delivery server). */
  mainThread: number;
  machine: { busy: number; others: number; cores: number };
  /** Peak RSS (MiB) sampled over the window. */
  peakRss: Partial<Record<EmbeddedComponent, number>>;
}

/** CPU seconds of each thread of `pid`, by tid, with its name. */
function threadSeconds(pid: number): Map<number, { name: string; seconds: number }> {
  const threads = new Map<number, { name: string; seconds: number }>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return threads;
  }
  for (const tid of tids) {
    const thread = threadCpu(pid, Number(tid));
    if (thread) threads.set(Number(tid), thread);
  }
  return threads;
}

export interface EmbeddedCpuMeter {
  stop(): Promise<EmbeddedCpuWindow>;
}

/**
 * Starts measuring now. Threads of start.ts are listed every `intervalMs`: one that appears in the
 * window counts from zero, one that ends keeps what it had at its last listing.
 */
export function startEmbeddedCpuMeter(
  pids: { start: number; devServer: number },
  intervalMs = 1000,
): EmbeddedCpuMeter {
  const started = performance.now();
  const read = {
    start: () => cpuSeconds(pids.start),
    devServer: () => cpuSeconds(pids.devServer, { children: true }),
  };
  const base = { start: read.start() ?? 0, devServer: read.devServer() ?? 0 };
  const last = { ...base };
  const benchBase = process.cpuUsage();
  const machineBase = machineBusySeconds();
  const threadSeen = new Map<number, { name: string; first: number; last: number }>();
  const peakRss: Partial<Record<EmbeddedComponent, number>> = {};
  let firstListing = true;
  const sample = (): void => {
    for (const name of ['start', 'devServer'] as const) {
      const value = read[name]();
      if (value !== undefined) last[name] = value;
      const memory = memoryMiB(pids[name]);
      if (memory) peakRss[name] = Math.max(peakRss[name] ?? 0, memory.rss);
    }
    peakRss.bench = Math.max(peakRss.bench ?? 0, process.memoryUsage().rss / 2 ** 20);
    for (const [tid, { name, seconds }] of threadSeconds(pids.start)) {
      const seen = threadSeen.get(tid);
      if (seen) seen.last = seconds;
      else
        threadSeen.set(tid, {
          name: tid === pids.start ? 'main' : name,
          first: firstListing ? seconds : 0,
          last: seconds,
        });
    }
    firstListing = false;
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop: async () => {
      clearInterval(timer);
      sample();
      const bench = process.cpuUsage(benchBase);
      const busy = machineBusySeconds() - machineBase;
      const cpu = {
        start: last.start - base.start,
        devServer: last.devServer - base.devServer,
        bench: (bench.user + bench.system) / 1e6,
      };
      const threads: Record<string, number> = {};
      for (const { name, first, last: end } of threadSeen.values())
        threads[name] = (threads[name] ?? 0) + (end - first);
      const main = threadSeen.get(pids.start);
      const ours = cpu.start + cpu.devServer + cpu.bench;
      return Promise.resolve({
        seconds: (performance.now() - started) / 1000,
        cpu,
        threads,
        mainThread: main ? main.last - main.first : NaN,
        machine: { busy, others: Math.max(0, busy - ours), cores: cpus().length },
        peakRss,
      });
    },
  };
}
