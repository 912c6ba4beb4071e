import type { LiveBatch, LiveEvent } from '../hub/notification-hub.js';

/**
 * Where a socket's live events wait while they may not go out yet: until the unread count went
 * out (docs/protocol.md: `unread_count` comes first on every connection; a notification published
 * during the count's read went out before it), and during a catch-up, so that they come after it.
 * What is held is bounded in bytes: a catch-up paused on a socket that does not drain (a client
 * that stops reading but keeps the socket alive) would hold them for ever.
 */
export class LiveGate {
  private countSent = false;
  private resuming = false;
  private held: LiveEvent[] = [];
  /** Bytes of the frames in `held`: past maxHeldBytes the socket is cut off, as a slow one is. */
  private heldBytes = 0;

  constructor(private readonly maxHeldBytes: number) {}

  /** True while live events must wait: before the count went out, or during a catch-up. */
  get shut(): boolean {
    return this.resuming || !this.countSent;
  }

  /** A catch-up is running. */
  get catchingUp(): boolean {
    return this.resuming;
  }

  startCatchUp(): void {
    this.resuming = true;
  }

  endCatchUp(): void {
    this.resuming = false;
  }

  /** The unread count went out: from now on only a catch-up shuts the gate. */
  countWentOut(): void {
    this.countSent = true;
  }

  /**
   * Holds `batch` until the gate opens. False when what is held went past the bound: it is all
   * dropped, and the socket is to be cut off (it catches up on reconnect).
   */
  hold(batch: LiveBatch): boolean {
    for (const event of batch) {
      this.held.push(event);
      this.heldBytes += typeof event.frame === 'string' ? Buffer.byteLength(event.frame) : event.frame.length;
    }
    if (this.heldBytes <= this.maxHeldBytes) return true;
    this.held = [];
    this.heldBytes = 0;
    return false;
  }

  /** What was held, to go out now, in order; nothing before the count went out (it stays held). */
  release(): LiveEvent[] {
    if (!this.countSent) return [];
    const held = this.held;
    this.held = [];
    this.heldBytes = 0;
    return held;
  }
}
