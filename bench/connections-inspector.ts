import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { fmt, mib } from './connections-params.js';

/**
 * The server's `--inspect` port as the connections bench uses it: a full GC and
 * `process.memoryUsage()` on demand, CPU and sampling heap profiles, and their summaries.
 */

const root = fileURLToPath(new URL('..', import.meta.url));

/** The Chrome DevTools protocol of the server's `--inspect`: a full GC and `process.memoryUsage()` on demand. */
export class Inspector {
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
export interface SamplingHeapProfile {
  head: SamplingHeapNode;
}

/** What the sampled allocations still alive were allocated by: package, then the innermost frame of our own code. */
export function summarizeHeapProfile(profile: SamplingHeapProfile): string[] {
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

export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
  samples: number[];
  timeDeltas: number[];
}

/** Self time of a CPU profile by package (or our own folder), then by function: where the server's time went. */
export function summarizeProfile(profile: CpuProfile): {
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
