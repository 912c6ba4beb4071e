import {
  startTemporalDevServer,
  type DevServer,
  type DevServerOptions,
} from '../scripts/temporal-dev-server.js';
import { SignalledProcess, type ProcessHandle } from './process-handle.js';
import { childPid, existsPid, signal } from './process-probes.js';

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
