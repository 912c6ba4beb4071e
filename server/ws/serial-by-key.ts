/**
 * Work run one at a time per key, in order, with a bounded queue: a
 * user's marks take the user's advisory lock, so two at once only wait on each other while each
 * holds a database connection; queued here, they hold none. Past `maxQueued` waiting, `run` says
 * so at once and the caller refuses the work (the client sends it again later).
 */
export class SerialByKey {
  private readonly queues = new Map<string, Array<() => void>>();

  constructor(private readonly maxQueued: number) {}

  /** `undefined` when `key` already has `maxQueued` waiting; else `work`'s result, in turn. */
  run<T>(key: string, work: () => Promise<T>): Promise<T> | undefined {
    const queue = this.queues.get(key);
    if (queue && queue.length >= this.maxQueued) return undefined;
    const turn = queue
      ? new Promise<void>((resolve) => queue.push(resolve))
      : (this.queues.set(key, []), Promise.resolve());
    return turn.then(work).finally(() => this.next(key));
  }

  /** Keys with work running (for tests: nothing leaks once all is done). */
  get size(): number {
    return this.queues.size;
  }

  private next(key: string): void {
    const queue = this.queues.get(key);
    const wake = queue?.shift();
    if (wake) wake();
    else this.queues.delete(key);
  }
}
