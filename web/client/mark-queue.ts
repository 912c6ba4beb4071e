import type { Backoff } from './backoff.js';

/** A mark not acknowledged within this is sent again (a lost answer; a server without acks). */
export const MARK_ACK_TIMEOUT_MS = 10_000;
/**
 * Error codes after which a mark is worth sending again: the server's errors (server/errors.ts)
 * that ask the client to come back and that a mark can be answered with; protocol-check.ts fails
 * when the catalog gains such an error that this list neither takes nor leaves out by name.
 */
export const RETRY_MARK_CODES = [
  'rate_limited',
  'internal',
  'unavailable',
  'server_busy',
  'shutting_down',
] as const;
const retryable = new Set<string>(RETRY_MARK_CODES);

/** setTimeout and clearTimeout (a test passes its own clock). */
export interface Timers {
  setTimeout(run: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: Timers = {
  setTimeout: (run, ms) => setTimeout(run, ms),
  clearTimeout: (handle) => clearTimeout(handle as Parameters<typeof clearTimeout>[0]),
};

export interface MarkQueueOptions<Frame> {
  /** True when a frame can go now (the socket is open). */
  canSend(): boolean;
  send(frame: Frame): void;
  /** Marks the server refused for good: the client reports them (`mark_failed`). */
  fail(message: string): void;
  /** Delays before a mark refused for a passing reason goes again. */
  backoff: Backoff;
  timers?: Timers;
}

/**
 * Marks not acknowledged yet, sent over the socket one at a time, each with its `ref` (the
 * queue's `refPrefix` and a sequence number: two queues on one socket tell their answers apart).
 * The one in flight is kept until `marked`; sent again when lost with the socket, when no answer
 * comes within MARK_ACK_TIMEOUT_MS, or after a growing delay when refused for a passing reason;
 * reported when refused for good. Nothing is dropped silently.
 *
 * A kind of mark says how its waiting marks are kept: `take` the next one to send, `putBack`
 * one that goes again (marks are idempotent: a repeat is harmless), its frame and its name in a
 * report.
 */
export abstract class MarkQueue<Mark, Frame> {
  private inFlight: { ref: string; mark: Mark } | undefined;
  /** The mark's acknowledgement deadline, or the delay before a refused one goes again. */
  private timer: unknown;
  private sequence = 0;
  private readonly timers: Timers;

  constructor(
    private readonly options: MarkQueueOptions<Frame>,
    private readonly refPrefix: string,
  ) {
    this.timers = options.timers ?? realTimers;
  }

  /** Removes and returns the next waiting mark to send, if any. */
  protected abstract take(): Mark | undefined;
  /** A mark sent but not stored goes back among the waiting ones. */
  protected abstract putBack(mark: Mark): void;
  protected abstract frameOf(mark: Mark, ref: string): Frame;
  /** The mark, as a `mark_failed` report names it. */
  protected abstract describe(mark: Mark): string;

  /** Sends the next waiting mark, when none is in flight, no delay runs and the socket is open. */
  flush(): void {
    if (this.inFlight || this.timer !== undefined || !this.options.canSend()) return;
    const mark = this.take();
    if (mark === undefined) return;
    this.sequence += 1;
    const ref = `${this.refPrefix}${this.sequence}`;
    this.inFlight = { ref, mark };
    this.options.send(this.frameOf(mark, ref));
    this.wait(MARK_ACK_TIMEOUT_MS, () => {
      this.requeue();
      this.flush();
    });
  }

  /** `marked`: the mark with this ref is stored (another queue's ref is not ours: ignored). */
  acknowledged(ref: string): void {
    if (this.inFlight?.ref !== ref) return;
    this.inFlight = undefined;
    this.options.backoff.reset();
    this.cancelTimer();
    this.flush();
  }

  /**
   * An error while a mark is in flight: its own (same ref), or a `rate_limited` without ref (the
   * server refuses a frame over the limit unread, so it cannot name it). Retryable: sent again
   * after a growing delay; otherwise reported as `mark_failed`, and the next one goes.
   */
  refused(code: string, ref: string | undefined): void {
    const flight = this.inFlight;
    if (!flight || (ref !== undefined ? ref !== flight.ref : code !== 'rate_limited')) return;
    this.cancelTimer();
    if (!retryable.has(code)) {
      this.inFlight = undefined;
      this.options.fail(`Marks refused (${code}): ${this.describe(flight.mark)}`);
      return this.flush();
    }
    this.requeue();
    this.wait(this.options.backoff.next(), () => this.flush());
  }

  /** The mark in flight goes back among the waiting ones (the socket closed; no answer came). */
  requeue(): void {
    const flight = this.inFlight;
    this.inFlight = undefined;
    this.cancelTimer();
    if (flight) this.putBack(flight.mark);
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
