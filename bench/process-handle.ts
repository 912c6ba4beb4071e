import { signal } from './process-probes.js';

/**
 * The handle every process of the stack has (bench/processes.ts), and what its two kinds share:
 * bench/node-process.ts (the worker and the servers) and bench/dev-server-process.ts.
 */

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

/**
 * What both kinds of handle share: the state they report and SIGSTOP / SIGCONT (a paused process
 * holds its sockets and does nothing until resumed).
 */
export abstract class SignalledProcess {
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
