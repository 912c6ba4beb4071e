import { ClientError } from '../errors.js';
import type { LiveBatch, LiveEvent, LiveNotification } from '../hub/notification-hub.js';
import { frame } from '../protocol/messages.js';
import { LiveGate } from './live-gate.js';
import type { Outbox } from './outbox.js';
import { catchUp, type CatchUpSource, type CaughtUp } from './resume.js';
import { SentIds } from './sent-ids.js';

/**
 * What one socket is pushed of its user's notifications, in id order: live batches from the
 * user's stream, and the catch-ups of its resumes. Live notifications that arrive before the
 * unread count or during a catch-up wait in the gate and are sent after it, skipping ids already
 * sent: no gap, no duplicate.
 */
export class OrderedPush {
  private readonly sent = new SentIds();
  private readonly gate: LiveGate;

  constructor(
    private readonly outbox: Outbox,
    private readonly options: {
      /** Bounds the live frames held during a catch-up (the socket's maxBufferedBytes). */
      maxHeldBytes: number;
      /** Reads the catch-ups' pages. */
      source: CatchUpSource;
      /** Too much was held: the socket is cut off, as a slow one is. */
      cutOff(): void;
    },
  ) {
    this.gate = new LiveGate(options.maxHeldBytes);
  }

  /** The socket opens with a resume: live frames wait for its catch-up from the start, so they come after it. */
  resumingAtOpen(): void {
    this.gate.startCatchUp();
  }

  /** The unread count went out: what was held follows it, unless a catch-up runs (it follows that). */
  countWentOut(): void {
    this.gate.countWentOut();
    if (!this.gate.catchingUp) this.releaseHeld();
  }

  /** The user's events of one event-loop iteration: written at once, in one corked write. */
  push(batch: LiveBatch): void {
    if (this.gate.shut) {
      // A catch-up paused on a socket that does not drain (a client that stops reading but keeps
      // the socket alive) would hold them for ever: past maxHeldBytes, like a slow socket, it is
      // cut off and catches up on reconnect.
      if (!this.outbox.closed && !this.gate.hold(batch)) this.options.cutOff();
      return;
    }
    if (this.outbox.pending) {
      // Frames queued earlier in this iteration go first.
      for (const event of batch) this.sendLive(event);
      this.outbox.write({ checkBackpressure: true });
      return;
    }
    // The common case: the batch goes straight to the socket, nothing copied or allocated.
    this.outbox.writeLive(batch, this.acceptLive);
  }

  /**
   * Every notification after `lastId` (server/ws/resume.ts), then what arrived meanwhile, then
   * `resumed`. One at a time: another is refused while one runs (the one at open included).
   */
  async resume(
    lastId: string,
    { atOpen = false, latestId }: { atOpen?: boolean; latestId?: bigint } = {},
  ): Promise<void> {
    if (this.gate.catchingUp && !atOpen) throw new ClientError('bad_request', 'A resume is already running');
    this.gate.startCatchUp();
    // What went out live before the first resume; a later resume sends all it is asked for.
    const sentLive = this.sent.startResume();
    let caughtUp: CaughtUp | undefined;
    try {
      caughtUp = await catchUp(lastId, { sentLive, latestId }, this.options.source, this.outbox);
      if (caughtUp === undefined) return;
      this.sent.caughtUpTo(caughtUp.cursor);
    } finally {
      this.gate.endCatchUp();
      this.releaseHeld();
    }
    const last = this.sent.lastSent;
    this.outbox.queue(
      frame({ type: 'resumed', lastId: last > 0n ? last.toString() : null, count: caughtUp.count }),
    );
  }

  private readonly acceptLive = (notification: LiveNotification): boolean =>
    this.sent.acceptLive(notification.seq);

  private sendLive(event: LiveEvent): void {
    if (!('seq' in event))
      this.outbox.queue(event.frame); // an unread count
    else if (this.acceptLive(event)) this.outbox.queueNotification(event.frame);
  }

  /** The catch-up is over: what was held goes out, skipping what it sent (after the count only). */
  private releaseHeld(): void {
    for (const event of this.gate.release()) this.sendLive(event);
  }
}
