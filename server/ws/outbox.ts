import type { LiveBatch, LiveNotification } from '../hub/notification-hub.js';
import type { Flushable, FlushQueue } from './flush-queue.js';

/** What a session needs of its socket; uWebSockets.js in production. */
export interface SocketPort {
  /** Runs `write` with the socket corked, so that its sends leave in one write; nothing when closed. */
  corked(write: () => void): void;
  /** Sends a text frame, only inside `corked`; false when the socket dropped it (over its hard buffer limit). */
  send(frame: string | Buffer): boolean;
  bufferedAmount(): number;
  end(code: number, reason: string): void;
}

export interface OutboxOptions {
  /** Writes every socket's frames of an event-loop iteration together. */
  flushes: FlushQueue;
  /** A socket with more than this waiting in its buffer is behind: it is cut off. */
  maxBufferedBytes: number;
  /** Hears how many notifications a write pushed (the pushed counter). */
  pushed(notifications: number): void;
  /** The socket dropped a frame or fell behind: its owner cuts it off (its client resumes on reconnect). */
  slow(): void;
}

/**
 * What a socket is sent, and how fast: the frames of one event-loop iteration are queued and
 * written together under one cork (one syscall, not one each); a socket that drops a frame or
 * falls behind `maxBufferedBytes` is reported as slow; a catch-up waits here for the socket to
 * drain. Once `close`d, nothing more is written.
 */
export class Outbox implements Flushable {
  private frames: Array<string | Buffer> = [];
  /** How many of the queued frames are notifications (for the pushed counter). */
  private notifications = 0;
  private flushScheduled = false;
  /** The batch `writeLiveBatch` writes, the filter it applies, and how many notifications it sent. */
  private liveBatch: LiveBatch = [];
  private liveAccept: (notification: LiveNotification) => boolean = () => true;
  private liveSent = 0;
  /** A frame was dropped by the socket: it must be cut off, its client resumes on reconnect. */
  private overflowed = false;
  private drainWaiters: Array<() => void> = [];
  private isClosed = false;

  constructor(
    private readonly port: SocketPort,
    private readonly options: OutboxOptions,
  ) {}

  /** The socket ended (closed by us or its peer): frames are dropped. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Nothing more is written; waiters of `waitForRoom` wake at the next `drained`. */
  close(): void {
    this.isClosed = true;
  }

  /** True when frames wait for this iteration's write. */
  get pending(): boolean {
    return this.frames.length > 0;
  }

  /** Queues a frame for this iteration's corked write; false once closed. */
  queue(frame: string | Buffer): boolean {
    if (this.isClosed) return false;
    this.frames.push(frame);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      this.options.flushes.add(this);
    }
    return true;
  }

  /** Queues a notification's frame (counted as pushed once written). */
  queueNotification(frame: string | Buffer): void {
    if (this.queue(frame)) this.notifications += 1;
  }

  /** This iteration's write (FlushQueue). */
  flush(): void {
    this.flushScheduled = false;
    this.write({ checkBackpressure: true });
  }

  /**
   * Writes what is queued, now. `checkBackpressure`: a socket whose buffer is then past the bound
   * is cut off; off before a close or a wait for the drain, which need no second verdict.
   */
  write({ checkBackpressure }: { checkBackpressure: boolean }): void {
    const frames = this.frames;
    const notifications = this.notifications;
    if (frames.length === 0) return;
    this.frames = [];
    this.notifications = 0;
    if (this.isClosed) return;
    this.port.corked(() => {
      for (const encoded of frames) {
        if (this.port.send(encoded)) continue;
        this.overflowed = true;
        break;
      }
    });
    this.afterWrite(notifications, { checkBackpressure });
  }

  /**
   * The user's events of one event-loop iteration, straight to the socket in one corked write,
   * nothing copied or allocated (the common case: nothing else queued). `accept` skips a
   * notification already sent.
   */
  writeLive(batch: LiveBatch, accept: (notification: LiveNotification) => boolean): void {
    if (this.isClosed) return;
    this.liveBatch = batch;
    this.liveAccept = accept;
    this.port.corked(this.writeLiveBatch);
    this.liveBatch = [];
    this.afterWrite(this.liveSent, { checkBackpressure: true });
  }

  private readonly writeLiveBatch = (): void => {
    let sent = 0;
    for (const event of this.liveBatch) {
      const isNotification = 'seq' in event;
      if (isNotification && !this.liveAccept(event)) continue;
      if (!this.port.send(event.frame)) {
        this.overflowed = true;
        break;
      }
      if (isNotification) sent += 1;
    }
    this.liveSent = sent;
  };

  /** Counts what was pushed; a socket that falls behind the bound is cut off (it catches up on reconnect). */
  private afterWrite(notifications: number, { checkBackpressure }: { checkBackpressure: boolean }): void {
    if (notifications > 0) this.options.pushed(notifications);
    const behind = checkBackpressure && this.port.bufferedAmount() > this.options.maxBufferedBytes;
    if (this.overflowed || behind) this.options.slow();
  }

  /** Writes what is queued, then waits until the socket's buffer is under half the bound (or closed). */
  async waitForRoom(): Promise<void> {
    this.write({ checkBackpressure: false });
    if (this.isClosed || this.port.bufferedAmount() < this.options.maxBufferedBytes / 2) return;
    await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
  }

  /** The socket drained (or closed): a paused catch-up may go on. */
  drained(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const wake of waiters) wake();
  }
}
