import { MARK_READ_MAX_IDS } from '../../domain/limits.js';
import type { Backoff } from './backoff.js';
import type { ClientFrame } from './wire.js';

/** A mark not acknowledged within this is sent again (a lost answer; a server without acks). */
export const MARK_ACK_TIMEOUT_MS = 10_000;
/** Error codes after which a mark is worth sending again (each one of server/errors.ts: protocol-check.ts). */
export const RETRY_MARK_CODES = [
  'rate_limited',
  'internal',
  'unavailable',
  'server_busy',
  'shutting_down',
] as const;
const retryable = new Set<string>(RETRY_MARK_CODES);

export type MarkFrame = Extract<ClientFrame, { type: 'mark_read' | 'mark_all_read' }>;

/** setTimeout and clearTimeout (a test passes its own clock). */
export interface Timers {
  setTimeout(run: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: Timers = {
  setTimeout: (run, ms) => setTimeout(run, ms),
  clearTimeout: (handle) => clearTimeout(handle as Parameters<typeof clearTimeout>[0]),
};

export interface MarkBatcherOptions {
  /** True when a frame can go now (the socket is open). */
  canSend(): boolean;
  send(frame: MarkFrame): void;
  /** Marks the server refused for good: the client reports them (`mark_failed`). */
  fail(message: string): void;
  /** Delays before a batch refused for a passing reason goes again. */
  backoff: Backoff;
  timers?: Timers;
}

/** A batch of marks waiting for its `marked`. */
interface MarkBatch {
  ref: string;
  ids: string[];
  all: boolean;
}

/**
 * Marks not acknowledged yet: ids waiting to be sent (`mark all`: a mark of
 * everything is), and the one batch in flight. One batch at a time, each with its `ref`: what is
 * refused or lost with the socket goes back to the waiting ones, nothing is dropped silently.
 */
export class MarkBatcher {
  private readonly waiting = new Set<string>();
  private waitingAll = false;
  private inFlight: MarkBatch | undefined;
  /** The batch's acknowledgement deadline, or the delay before a refused one goes again. */
  private timer: unknown;
  private sequence = 0;
  private readonly timers: Timers;

  constructor(private readonly options: MarkBatcherOptions) {
    this.timers = options.timers ?? realTimers;
  }

  /** Ids to mark read (valid notification ids only: the server refuses a whole batch for one). */
  add(ids: readonly string[]): void {
    for (const id of ids) this.waiting.add(id);
    this.flush();
  }

  addAll(): void {
    // Everything, ids marked before included.
    this.waiting.clear();
    this.waitingAll = true;
    this.flush();
  }

  /** Sends the waiting marks as one batch (all, or up to `MARK_READ_MAX_IDS` ids), when none is in flight. */
  flush(): void {
    if (this.inFlight || this.timer !== undefined || !this.options.canSend()) return;
    if (!this.waitingAll && this.waiting.size === 0) return;
    this.sequence += 1;
    const ref = String(this.sequence);
    let frame: MarkFrame;
    if (this.waitingAll) {
      this.waitingAll = false;
      this.inFlight = { ref, ids: [], all: true };
      frame = { type: 'mark_all_read', ref };
    } else {
      const ids = [...this.waiting].slice(0, MARK_READ_MAX_IDS);
      for (const id of ids) this.waiting.delete(id);
      this.inFlight = { ref, ids, all: false };
      frame = { type: 'mark_read', ids, ref };
    }
    this.options.send(frame);
    this.wait(MARK_ACK_TIMEOUT_MS, () => {
      this.requeue();
      this.flush();
    });
  }

  /** `marked`: the batch with this ref is stored. */
  acknowledged(ref: string): void {
    if (this.inFlight?.ref !== ref) return;
    this.inFlight = undefined;
    this.options.backoff.reset();
    this.cancelTimer();
    this.flush();
  }

  /**
   * An error while a batch is in flight: its own (same ref), or a `rate_limited` without ref (the
   * server refuses a frame over the limit unread, so it cannot name it). Retryable: sent again
   * after a growing delay; otherwise reported as `mark_failed` with the ids.
   */
  refused(code: string, ref: string | undefined): void {
    const batch = this.inFlight;
    if (!batch || (ref !== undefined ? ref !== batch.ref : code !== 'rate_limited')) return;
    this.cancelTimer();
    if (!retryable.has(code)) {
      this.inFlight = undefined;
      const what = batch.all ? 'all' : batch.ids.join(', ');
      this.options.fail(`Marks refused (${code}): ${what}`);
      return this.flush();
    }
    this.requeue();
    this.wait(this.options.backoff.next(), () => this.flush());
  }

  /** The batch in flight goes back to the waiting marks (they are idempotent: a repeat is harmless). */
  requeue(): void {
    const batch = this.inFlight;
    this.inFlight = undefined;
    this.cancelTimer();
    if (!batch) return;
    if (batch.all) this.waitingAll = true;
    else for (const id of batch.ids) this.waiting.add(id);
  }

  /** The client closed: no timer left behind. */
  stop(): void {
    this.cancelTimer();
  }

  private wait(ms: number, then: () => void): void {
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      then();
    }, ms);
  }

  private cancelTimer(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
