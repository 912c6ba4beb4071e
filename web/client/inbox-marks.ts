import { MARK_READ_MAX_IDS } from '../../domain/limits.js';
import type { Backoff } from './backoff.js';
import { MARK_ACK_TIMEOUT_MS, RETRY_MARK_CODES, type Timers } from './marks.js';
import type { ClientFrame } from './wire.js';

export type InboxMarkFrame = Extract<ClientFrame, { type: 'archive' | 'unarchive' | 'mark_seen' }>;

const retryable = new Set<string>(RETRY_MARK_CODES);

const realTimers: Timers = {
  setTimeout: (run, ms) => setTimeout(run, ms),
  clearTimeout: (handle) => clearTimeout(handle as Parameters<typeof clearTimeout>[0]),
};

export interface InboxMarkQueueOptions {
  canSend(): boolean;
  send(frame: InboxMarkFrame): void;
  /** Marks the server refused for good: the client reports them (`mark_failed`). */
  fail(message: string): void;
  backoff: Backoff;
  timers?: Timers;
}

type Waiting = { type: 'archive' | 'unarchive'; ids: string[] } | { type: 'mark_seen'; lastId: string };

/**
 * Archive, unarchive and seen marks not acknowledged yet, sent over the socket one at a time with
 * a `ref` (`i1`, `i2`…: the read marks' batcher numbers its own without a letter), like the read
 * marks (marks.ts): kept until `marked`, sent again when the socket is back or after a
 * refusal for a passing reason, reported when refused for good. Unlike read marks, their order
 * matters (an archive then an unarchive of the same id): a queue, in the order made, whose
 * neighbours of the same type merge (up to MARK_READ_MAX_IDS ids); a seen mark replaces a
 * waiting one (only the highest matters: the server never moves it down).
 */
export class InboxMarkQueue {
  private readonly waiting: Waiting[] = [];
  private inFlight: { ref: string; mark: Waiting } | undefined;
  private timer: unknown;
  private sequence = 0;
  private readonly timers: Timers;

  constructor(private readonly options: InboxMarkQueueOptions) {
    this.timers = options.timers ?? realTimers;
  }

  add(mark: Waiting): void {
    if (mark.type === 'mark_seen') {
      const index = this.waiting.findIndex((waiting) => waiting.type === 'mark_seen');
      if (index >= 0) {
        const waiting = this.waiting[index] as { lastId: string };
        if (BigInt(waiting.lastId) < BigInt(mark.lastId)) waiting.lastId = mark.lastId;
      } else this.waiting.push(mark);
    } else {
      const last = this.waiting[this.waiting.length - 1];
      if (last?.type === mark.type && last.ids.length + mark.ids.length <= MARK_READ_MAX_IDS)
        last.ids.push(...mark.ids);
      else
        for (let start = 0; start < mark.ids.length; start += MARK_READ_MAX_IDS)
          this.waiting.push({ type: mark.type, ids: mark.ids.slice(start, start + MARK_READ_MAX_IDS) });
    }
    this.flush();
  }

  /** Sends the first waiting mark, when none is in flight and the socket is open. */
  flush(): void {
    if (this.inFlight || this.timer !== undefined || !this.options.canSend()) return;
    const mark = this.waiting.shift();
    if (!mark) return;
    this.sequence += 1;
    const ref = `i${this.sequence}`;
    this.inFlight = { ref, mark };
    this.options.send(
      mark.type === 'mark_seen'
        ? { type: 'mark_seen', lastId: mark.lastId, ref }
        : { type: mark.type, ids: mark.ids, ref },
    );
    this.wait(MARK_ACK_TIMEOUT_MS, () => {
      this.requeue();
      this.flush();
    });
  }

  /** `marked`: the mark with this ref is stored (a ref of the read marks' is not ours: ignored). */
  acknowledged(ref: string): void {
    if (this.inFlight?.ref !== ref) return;
    this.inFlight = undefined;
    this.options.backoff.reset();
    this.cancelTimer();
    this.flush();
  }

  /** An error naming our mark in flight (or a `rate_limited` without ref): again later, or reported. */
  refused(code: string, ref: string | undefined): void {
    const flight = this.inFlight;
    if (!flight || (ref !== undefined ? ref !== flight.ref : code !== 'rate_limited')) return;
    this.cancelTimer();
    if (!retryable.has(code)) {
      this.inFlight = undefined;
      const { mark } = flight;
      this.options.fail(
        `Marks refused (${code}): ${mark.type} ${mark.type === 'mark_seen' ? mark.lastId : mark.ids.join(', ')}`,
      );
      return this.flush();
    }
    this.requeue();
    this.wait(this.options.backoff.next(), () => this.flush());
  }

  /** The mark in flight goes back first in line (they are idempotent: a repeat is harmless). */
  requeue(): void {
    const flight = this.inFlight;
    this.inFlight = undefined;
    this.cancelTimer();
    if (flight) this.waiting.unshift(flight.mark);
  }

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
