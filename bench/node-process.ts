import { spawn, type ChildProcess } from 'node:child_process';
import { open } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { configVariables } from '../config/config.js';
import { dieWithParent, recordProcess } from './leftovers.js';
import { SignalledProcess, type ProcessHandle } from './process-handle.js';
import { waitHealthy } from './process-probes.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/**
 * A Node entry of this repository (`worker/main.ts`, `server/main.ts`) run as `node --import tsx`
 * (one process: its pid is the service's), its output appended to `logFile`. The shell's own
 * service settings do not leak into it: only `env` configures it. Ready when `healthUrl` is 2xx.
 * It gets SIGTERM when the bench dies (`dieWithParent`) and is in the leftovers registry while it
 * runs (bench/leftovers.ts): a bench killed by SIGKILL leaves it behind for no longer than that.
 */
export class NodeProcess extends SignalledProcess implements ProcessHandle {
  private child: ChildProcess | undefined;
  private exitedPromise: Promise<void> = Promise.resolve();
  /** A spawn in progress: a stop meanwhile (a signal during the stack's start) waits for it. */
  private spawning: Promise<void> | undefined;

  constructor(
    readonly role: 'worker' | 'server',
    readonly name: string,
    private readonly entry: string,
    private readonly env: Record<string, string>,
    readonly logFile: string,
    /** `healthUrl`: the /healthz and /metrics port; `url`: the public one (a server's REST and sockets). */
    urls: { healthUrl: string; url?: string },
    /** `nodeArgs`: Node's own flags before the entry (e.g. `--cpu-prof`, refused in NODE_OPTIONS). */
    { readyTimeoutMs = 180_000, nodeArgs = [] }: { readyTimeoutMs?: number; nodeArgs?: string[] } = {},
  ) {
    super();
    this.healthUrl = urls.healthUrl;
    this.url = urls.url ?? urls.healthUrl;
    this.readyTimeoutMs = readyTimeoutMs;
    this.nodeArgs = nodeArgs;
  }

  private readonly readyTimeoutMs: number;
  private readonly nodeArgs: string[];

  readonly healthUrl: string;
  readonly url: string;

  get pid(): number {
    return this.child?.pid ?? -1;
  }

  protected get down(): boolean {
    return !this.child || this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** Spawns without waiting for readiness (the stack starts several, then waits for all). */
  async spawn(): Promise<void> {
    if (this.state !== 'down' || this.spawning) throw new Error(`${this.name} is already running`);
    const spawning = this.spawnChild();
    this.spawning = spawning;
    try {
      await spawning;
    } finally {
      this.spawning = undefined;
    }
  }

  private async spawnChild(): Promise<void> {
    const log = await open(this.logFile, 'a');
    const base = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !configVariables.includes(name)),
    );
    const args = [...this.nodeArgs, '--import', 'tsx', this.entry];
    const child = spawn(...dieWithParent(process.execPath, args), {
      cwd: repoRoot,
      env: { ...base, ...this.env },
      stdio: ['ignore', log.fd, log.fd],
    });
    this.child = child;
    this.started();
    const forget = recordProcess(child.pid, `node ${args.join(' ')}`);
    this.exitedPromise = new Promise<void>((resolve) =>
      child.once('exit', (code, signalName) => {
        this.exit = signalName ?? code;
        forget();
        resolve();
      }),
    );
    void this.exitedPromise.then(() => log.close());
  }

  async waitReady(deadline = Date.now() + this.readyTimeoutMs): Promise<void> {
    await waitHealthy(`${this.healthUrl}/healthz`, deadline, `The ${this.name}`, () =>
      this.state === 'down' ? `exited (${String(this.exit)}); see ${this.logFile}` : undefined,
    );
  }

  async start(): Promise<void> {
    await this.spawn();
    await this.waitReady();
  }

  async kill(): Promise<void> {
    await this.spawning?.catch(() => undefined);
    if (this.state === 'down') return;
    this.stoppedOnPurpose = true;
    this.child!.kill('SIGKILL');
    await this.exitedPromise;
    this.paused = false;
  }

  async stop(graceMs = 15_000): Promise<void> {
    await this.spawning?.catch(() => undefined);
    if (this.state === 'down') return;
    this.stoppedOnPurpose = true;
    this.resume();
    this.child!.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
    await this.exitedPromise;
    clearTimeout(timer);
  }
}
