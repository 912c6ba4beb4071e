import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** A bench's child processes (servers under test, load generators) and the typed IPC with them. */

const root = fileURLToPath(new URL('..', import.meta.url));

/** `next` gave up waiting (the child is still there). */
export class TimeoutError extends Error {}

/**
 * A child process (`node --import tsx <entry>`) with a typed IPC channel: `next` waits for the
 * first message of a kind; a `failed` message or the child's exit rejects it.
 */
export class IpcChild<Command, Event extends { ev: string }> {
  readonly process: ChildProcess;
  private readonly inbox: Event[] = [];
  private readonly waiters = new Set<() => void>();
  exited = false;

  constructor(
    readonly name: string,
    entry: string,
    hooks: { onError?: (error: Error) => void; onExit?: () => void } = {},
  ) {
    this.process = fork(entry, [], {
      cwd: root,
      execArgv: ['--import', 'tsx'],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.process.on('message', (event: Event) => {
      this.inbox.push(event);
      this.wake();
    });
    if (hooks.onError) this.process.on('error', hooks.onError);
    this.process.on('exit', () => {
      this.exited = true;
      hooks.onExit?.();
      this.wake();
    });
  }

  get pid(): number {
    return this.process.pid ?? 0;
  }

  send(command: Command): void {
    // A child that is going away cannot be told anything more: `next` reports its exit.
    if (!this.exited && this.process.connected) this.process.send(command as object, () => undefined);
  }

  next<Kind extends Event['ev']>(ev: Kind, timeoutMs: number): Promise<Extract<Event, { ev: Kind }>> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const failure = this.inbox.findIndex((event) => event.ev === 'failed');
        if (failure >= 0) {
          done();
          const event = this.inbox.splice(failure, 1)[0] as unknown as { message: string };
          return reject(new Error(`${this.name}: ${event.message}`));
        }
        const index = this.inbox.findIndex((event) => event.ev === ev);
        if (index >= 0) {
          done();
          return resolve(this.inbox.splice(index, 1)[0] as Extract<Event, { ev: Kind }>);
        }
        if (this.exited) {
          done();
          reject(new Error(`${this.name} exited (code ${this.process.exitCode}) while waiting for ${ev}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new TimeoutError(`${this.name}: no ${ev} after ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Asks politely (`SIGTERM`), then kills after `graceMs`. */
  kill(graceMs = 5_000): Promise<void> {
    return killProcess(this.process, 'SIGTERM', graceMs);
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

/** Sends `signal`, then SIGKILL after `graceMs`; resolves once the process has exited. */
export function killProcess(child: ChildProcess, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}
