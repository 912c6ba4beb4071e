import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { configVariables } from '../config/config.js';
import { sleep } from './common.js';
import { poll } from '../support/wait.js';
import {
  startTemporalDevServer,
  type DevServer,
  type DevServerOptions,
} from '../scripts/temporal-dev-server.js';

/**
 * Control of the stack's processes (bench/stack.ts), one handle each: start, SIGKILL, SIGSTOP /
 * SIGCONT, graceful stop, and start again with the same settings (the same ports, the same
 * SQLite file for the dev server). The benches start them once; the fault-injection suite
 * (test/faults/) kills, pauses and restarts them under load.
 */

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

export type Role = 'devServer' | 'worker' | 'server';

/** running: started and not paused; paused: SIGSTOPped; down: not started, exited or killed. */
export type ProcessState = 'running' | 'paused' | 'down';

export interface ProcessHandle {
  /** `dev server`, `worker 1`, `server 2`… */
  readonly name: string;
  readonly role: Role;
  readonly logFile: string;
  /** The current process's pid (the last one started). */
  readonly pid: number;
  readonly state: ProcessState;
  /** How the last process ended, if it did: an exit code or a signal name. */
  readonly exit: number | NodeJS.Signals | null | undefined;
  /** Down because of kill() or stop(), not by itself. */
  readonly stoppedOnPurpose: boolean;
  /** Starts the process again (it must be down) with the same settings; resolves once it is ready. */
  start(): Promise<void>;
  /** SIGKILL, then waits for the exit. */
  kill(): Promise<void>;
  /** SIGSTOP: the process holds its sockets and does nothing until resume(). */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /** SIGTERM (after SIGCONT if paused), SIGKILL after `graceMs`; waits for the exit. */
  stop(graceMs?: number): Promise<void>;
}

export { sleep };

/** Whether `pid` is a live process (not a zombie). */
export function existsPid(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/\) Z /.test(stat);
  } catch {
    return false;
  }
}

/** The pid of our child process whose command line contains every one of `parts`. */
export function childPid(parts: string[]): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (parts.every((part) => cmdline.includes(part))) return Number(entry);
    } catch {
      // The process went away while we looked.
    }
  }
  return undefined;
}

/** Polls `url` until it answers 2xx; fails if `alive()` turns false or at the deadline. */
export async function waitHealthy(
  url: string,
  deadline: number,
  what: string,
  alive: () => string | undefined = () => undefined,
): Promise<void> {
  let last: string;
  await poll(
    async () => {
      const dead = alive();
      if (dead) throw new Error(`${what} ${dead}`);
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
        last = `${response.status} ${await response.text()}`;
        if (response.ok) return true;
      } catch (error) {
        last = String(error);
      }
      return undefined;
    },
    {
      deadline,
      intervalMs: 250,
      probeErrors: 'throw',
      onTimeout: () => {
        throw new Error(`${what} not ready at ${url}: ${last}`);
      },
    },
  );
}

const signal = (pid: number, name: NodeJS.Signals): void => {
  try {
    process.kill(pid, name);
  } catch {
    // gone
  }
};

/**
 * What both kinds of handle share: the state they report and SIGSTOP / SIGCONT (a paused process
 * holds its sockets and does nothing until resumed).
 */
abstract class SignalledProcess {
  protected paused = false;
  exit: number | NodeJS.Signals | null | undefined;
  stoppedOnPurpose = false;
  abstract readonly name: string;
  abstract get pid(): number;
  /** Down when there is no live process. */
  protected abstract get down(): boolean;

  get state(): ProcessState {
    if (this.down) return 'down';
    return this.paused ? 'paused' : 'running';
  }

  pause(): void {
    if (this.state !== 'running') throw new Error(`The ${this.name} is not running`);
    signal(this.pid, 'SIGSTOP');
    this.paused = true;
  }

  resume(): void {
    if (this.state !== 'paused') return;
    signal(this.pid, 'SIGCONT');
    this.paused = false;
  }

  /** A fresh start: running, not paused, no exit yet. */
  protected started(): void {
    this.paused = false;
    this.stoppedOnPurpose = false;
    this.exit = undefined;
  }
}

/**
 * A Node entry of this repository (`worker/main.ts`, `server/main.ts`) run as `node --import tsx`
 * (one process: its pid is the service's), its output appended to `logFile`. The shell's own
 * service settings do not leak into it: only `env` configures it. Ready when `healthUrl` is 2xx.
 */
export class NodeProcess extends SignalledProcess implements ProcessHandle {
  private child: ChildProcess | undefined;
  private exitedPromise: Promise<void> = Promise.resolve();

  constructor(
    readonly role: 'worker' | 'server',
    readonly name: string,
    private readonly entry: string,
    private readonly env: Record<string, string>,
    readonly logFile: string,
    /** `healthUrl`: the /healthz and /metrics port; `url`: the public one (a server's REST and sockets). */
    urls: { healthUrl: string; url?: string },
    private readonly readyTimeoutMs = 180_000,
  ) {
    super();
    this.healthUrl = urls.healthUrl;
    this.url = urls.url ?? urls.healthUrl;
  }

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
    if (this.state !== 'down') throw new Error(`${this.name} is already running`);
    const log = await open(this.logFile, 'a');
    const base = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !configVariables.includes(name)),
    );
    const child = spawn(process.execPath, ['--import', 'tsx', this.entry], {
      cwd: repoRoot,
      env: { ...base, ...this.env },
      stdio: ['ignore', log.fd, log.fd],
    });
    this.child = child;
    this.started();
    this.exitedPromise = new Promise<void>((resolve) =>
      child.once('exit', (code, signalName) => {
        this.exit = signalName ?? code;
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
    if (this.state === 'down') return;
    this.stoppedOnPurpose = true;
    this.child!.kill('SIGKILL');
    await this.exitedPromise;
    this.paused = false;
  }

  async stop(graceMs = 15_000): Promise<void> {
    if (this.state === 'down') return;
    this.stoppedOnPurpose = true;
    this.resume();
    this.child!.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
    await this.exitedPromise;
    clearTimeout(timer);
  }
}

/**
 * The Temporal CLI dev server, started by `startTemporalDevServer` (as `npm start` does); a
 * restart runs it again on the same port and, with `dbFile`, the same SQLite file.
 */
export class DevServerProcess extends SignalledProcess implements ProcessHandle {
  readonly role = 'devServer' as const;
  readonly name = 'dev server';
  private dev: DevServer | undefined;
  private currentPid: number | undefined;

  constructor(private readonly options: DevServerOptions) {
    super();
  }

  get logFile(): string {
    return this.options.logFile;
  }

  get address(): string {
    return `127.0.0.1:${this.options.port}`;
  }

  get pid(): number {
    return this.currentPid ?? -1;
  }

  protected get down(): boolean {
    return !this.dev || this.currentPid === undefined || !existsPid(this.currentPid);
  }

  async start(): Promise<void> {
    if (this.state !== 'down') throw new Error('The dev server is already running');
    this.dev = await startTemporalDevServer(this.options);
    this.started();
    this.currentPid = childPid(['start-dev', '--port', String(this.options.port)]);
    if (!this.currentPid) throw new Error('Could not find the dev server process');
  }

  async kill(): Promise<void> {
    if (this.state === 'down' || !this.dev) return;
    this.stoppedOnPurpose = true;
    signal(this.pid, 'SIGKILL');
    // stop() waits for the exit (its SIGTERM to a dead process is harmless).
    await this.dev.stop();
    this.exit = 'SIGKILL';
    this.paused = false;
  }

  async stop(graceMs = 15_000): Promise<void> {
    if (this.state === 'down' || !this.dev) return;
    this.stoppedOnPurpose = true;
    this.resume();
    const pid = this.pid;
    const timer = setTimeout(() => signal(pid, 'SIGKILL'), graceMs);
    await this.dev.stop();
    clearTimeout(timer);
    this.exit = existsPid(pid) ? null : 'SIGTERM';
  }
}
