import {
  startTemporalDevServer,
  type DevServer,
  type DevServerOptions,
} from '../scripts/temporal-dev-server.js';
import { sleep } from './common.js';
import { recordProcess } from './leftovers.js';
import { SignalledProcess, type ProcessHandle } from './process-handle.js';
import { childPid, existsPid, signal } from './process-probes.js';

/**
 * The Temporal CLI dev server, started by `startTemporalDevServer` (as `npm start` does); a
 * restart runs it again on the same port and, with `dbFile`, the same SQLite file. In the
 * leftovers registry (bench/leftovers.ts) from the moment it is spawned until it is stopped.
 */
export class DevServerProcess extends SignalledProcess implements ProcessHandle {
  readonly role = 'devServer' as const;
  readonly name = 'dev server';
  private dev: DevServer | undefined;
  private currentPid: number | undefined;
  /** A start in progress: a stop meanwhile (a signal during the stack's start) waits for it. */
  private starting: Promise<unknown> | undefined;
  private forget = (): void => undefined;

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

  /** The CLI's process, found by its command line (scripts/temporal-dev-server.ts does not say). */
  private spawnedPid(): number | undefined {
    return childPid(['start-dev', '--port', String(this.options.port)]);
  }

  async start(): Promise<void> {
    if (this.state !== 'down' || this.starting) throw new Error('The dev server is already running');
    this.currentPid = undefined;
    const starting = startTemporalDevServer(this.options);
    this.starting = starting;
    void this.trackOnceSpawned(starting);
    try {
      this.dev = await starting;
    } catch (error) {
      this.forget();
      throw error;
    } finally {
      this.starting = undefined;
    }
    this.started();
    const pid = this.spawnedPid();
    if (!pid) throw new Error('Could not find the dev server process');
    this.track(pid);
  }

  /** The current process, in the leftovers registry until it is stopped. */
  private track(pid: number): void {
    if (pid === this.currentPid) return;
    this.currentPid = pid;
    this.forget();
    this.forget = recordProcess(pid, `temporal server start-dev --port ${this.options.port}`);
  }

  /**
   * Tracks the CLI as soon as it runs, not once it answers (up to a minute later): a bench killed
   * meanwhile leaves it to the sweep, and a stop during the start knows whom to signal.
   */
  private async trackOnceSpawned(starting: Promise<unknown>): Promise<void> {
    let settled = false;
    const settle = () => (settled = true);
    void starting.then(settle, settle);
    while (!settled) {
      const pid = this.spawnedPid();
      if (pid !== undefined) return this.track(pid);
      await sleep(50);
    }
  }

  async kill(): Promise<void> {
    await this.settleStart();
    if (this.state === 'down' || !this.dev) return this.forget();
    this.stoppedOnPurpose = true;
    signal(this.pid, 'SIGKILL');
    // stop() waits for the exit (its SIGTERM to a dead process is harmless).
    await this.dev.stop();
    this.exit = 'SIGKILL';
    this.paused = false;
    this.forget();
  }

  /** A stop or kill during the start: SIGTERM to the CLI if it runs already, then the start's end. */
  private async settleStart(): Promise<void> {
    const starting = this.starting;
    if (!starting) return;
    const pid = this.currentPid ?? this.spawnedPid();
    if (pid !== undefined) signal(pid, 'SIGTERM');
    await starting.catch(() => undefined);
  }

  async stop(graceMs = 15_000): Promise<void> {
    await this.settleStart();
    if (this.state === 'down' || !this.dev) return this.forget();
    this.stoppedOnPurpose = true;
    this.resume();
    const pid = this.pid;
    const timer = setTimeout(() => signal(pid, 'SIGKILL'), graceMs);
    await this.dev.stop();
    clearTimeout(timer);
    this.exit = existsPid(pid) ? null : 'SIGTERM';
    if (this.exit !== null) this.forget();
  }
}
