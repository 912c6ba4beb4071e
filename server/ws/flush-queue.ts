/** Something with frames queued for the current event-loop iteration. */
export interface Flushable {
  flush(): void;
}

/**
 * The sockets with frames queued in this event-loop iteration, written out together by one
 * `setImmediate`: each socket gets one corked write per iteration, whatever the number of its
 * frames, and the server schedules one callback per iteration, not one per socket.
 */
export class FlushQueue {
  private pending: Flushable[] = [];
  private scheduled = false;

  /** `onError` hears of a target that threw; the others are still written. */
  constructor(private readonly onError: (error: unknown) => void) {}

  /** Queues `target` for this iteration's flush; the caller queues each target once per iteration. */
  add(target: Flushable): void {
    this.pending.push(target);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.flushAll);
  }

  private readonly flushAll = (): void => {
    this.scheduled = false;
    const targets = this.pending;
    this.pending = [];
    for (const target of targets) {
      try {
        target.flush();
      } catch (error) {
        this.onError(error);
      }
    }
  };
}
