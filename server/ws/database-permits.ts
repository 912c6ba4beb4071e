/**
 * A process-wide cap on the sockets' concurrent database work: opening
 * reads, catch-up pages and marks each run under a permit. Kept below the connection pool's size,
 * so that REST requests, the feed and the health check always find a connection, and no socket
 * work waits in the pool's queue (where it timed out as `KnexTimeoutError`, for every user).
 * Waiters are served in arrival order.
 */
export class DatabasePermits {
  private active = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1)
      throw new RangeError(`permits: ${size} is not a positive integer`);
  }

  /** Work running or waiting for a permit: what an upgrade counts against WS_MAX_OPENING_SOCKETS. */
  get pending(): number {
    return this.active + this.waiters.length;
  }

  get running(): number {
    return this.active;
  }

  /**
   * Runs `work` under a permit, released when it settles (resolved or rejected). Once `abandon`
   * aborts (its socket closed), work still waiting leaves the queue and never runs: it rejects
   * with the signal's reason. Work already running finishes.
   */
  async run<T>(work: () => Promise<T>, { abandon }: { abandon?: AbortSignal } = {}): Promise<T> {
    abandon?.throwIfAborted();
    await this.acquire(abandon);
    try {
      return await work();
    } finally {
      this.release();
    }
  }

  private acquire(abandon: AbortSignal | undefined): Promise<void> {
    if (this.active < this.size) {
      this.active += 1;
      return Promise.resolve();
    }
    // The permit passes straight from the releaser to the first waiter: `active` stays counted.
    return new Promise((resolve, reject) => {
      const waiter = () => {
        abandon?.removeEventListener('abort', leave);
        resolve();
      };
      const leave = () => {
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) this.waiters.splice(at, 1);
        reject(abandon!.reason as Error);
      };
      abandon?.addEventListener('abort', leave, { once: true });
      this.waiters.push(waiter);
    });
  }

  private release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.active -= 1;
  }
}

/**
 * How many permits for a pool of `poolSize` connections: half of it (at least one), so that the
 * rest of the server keeps the other half whatever the sockets ask.
 */
export const permitsForPool = (poolSize: number): number => Math.max(1, Math.floor(poolSize / 2));
