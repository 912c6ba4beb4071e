import type { Subscription } from 'rxjs';
import type { Logger } from '../../config/logger.js';
import type { AuthError, Principal, TokenVerifier } from '../auth/token-verifier.js';
import { authFailure } from '../auth/auth-failure.js';
import { ClientError, errorCatalog } from '../errors.js';
import type { LiveBatch, LiveEvent, LiveNotification, NotificationHub } from '../hub/notification-hub.js';
import type { ServerMetrics } from '../metrics.js';
import type { Flushable, FlushQueue } from './flush-queue.js';
import { catchUpPages } from '../notifications/catch-up.js';
import type { NotificationQueries } from '../notifications/notification-queries.js';
import {
  clientMessage,
  frame,
  notificationFrame,
  notificationId,
  type ClientMessage,
} from '../protocol/messages.js';
import type { DatabasePermits } from './database-permits.js';
import type { SerialByKey } from './serial-by-key.js';
import { MessageRateLimit } from './token-bucket.js';

/** What a session needs of its socket; uWebSockets.js in production. */
export interface SocketPort {
  /** Runs `write` with the socket corked, so that its sends leave in one write; nothing when closed. */
  corked(write: () => void): void;
  /** Sends a text frame, only inside `corked`; false when the socket dropped it (over its hard buffer limit). */
  send(frame: string | Buffer): boolean;
  bufferedAmount(): number;
  end(code: number, reason: string): void;
}

export interface SessionSettings {
  /** Bounds what waits for the socket: the outbox's backlog, and live frames held during a catch-up. */
  maxBufferedBytes: number;
  rateLimit: { perSecond: number; burst: number };
  tokenExpiryWarningSeconds: number;
  /**
   * The verifier's tolerance on `exp` (JWT_CLOCK_TOLERANCE_SECONDS): it accepts a token until
   * exp + this, so the socket is closed then, not at the raw exp (which closed a token the
   * verifier had just accepted at once, and its tab reconnected in a loop).
   */
  clockToleranceSeconds: number;
}

export interface SessionDependencies {
  hub: NotificationHub;
  queries: NotificationQueries;
  verifier: TokenVerifier;
  metrics: ServerMetrics;
  settings: SessionSettings;
  logger: Logger;
  /** Writes every session's frames of an event-loop iteration together. */
  flushes: FlushQueue;
  /**
   * Shared by every session of the process (issue 11 review, defect 1): `permits` caps the
   * sockets' database work at once (opening reads, catch-up pages, marks); `marks` runs each
   * user's marks one at a time, so a user's flood of marks holds one connection, not the pool.
   */
  database: { permits: DatabasePermits; marks: SerialByKey };
}

const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * One open socket of a user: its live subscription, its resume, its token's lifetime and its
 * rate limit. Live notifications that arrive during a catch-up wait in `held` and are sent
 * after it, skipping ids already sent: no gap, no duplicate.
 */
export class SocketSession implements Flushable {
  private subscription: Subscription | undefined;
  private release: (() => void) | undefined;
  private lastSentId = 0n;
  /**
   * Until the first resume, the first id sent live (0n: none yet). The hub gives each user's ids
   * in order and without gaps, so every id of the user from there to `lastSentId` went out live:
   * that catch-up skips them, at no cost per frame and in constant memory.
   */
  private liveFrom = 0n;
  private resumed = false;
  private catchingUp = false;
  /**
   * The unread count went out: until then live frames are held, as during a catch-up (docs/protocol.md:
   * `unread_count` comes first on every connection; a notification published during the count's
   * read went out before it).
   */
  private countSent = false;
  private held: LiveEvent[] = [];
  /** Bytes of the frames in `held`: past maxBufferedBytes the socket is cut off, as a slow one is. */
  private heldBytes = 0;
  private closed = false;
  private readonly rateLimit: MessageRateLimit;
  private expiryTimers: NodeJS.Timeout[] = [];
  private drainWaiters: Array<() => void> = [];
  /** Frames of this event-loop iteration, written together under one cork: one syscall, not one each. */
  private outbox: Array<string | Buffer> = [];
  /** How many of the outbox's frames are notifications (for the pushed counter). */
  private outboxNotifications = 0;
  private flushScheduled = false;
  /** The batch `writeLiveBatch` writes, and how many notifications it sent. */
  private liveBatch: LiveBatch = [];
  private liveSent = 0;
  /** A frame was dropped by the socket: it must be cut off, its client resumes on reconnect. */
  private overflowed = false;

  constructor(
    private readonly port: SocketPort,
    private principal: Principal,
    private readonly deps: SessionDependencies,
  ) {
    this.rateLimit = new MessageRateLimit(deps.settings.rateLimit);
  }

  get userId(): string {
    return this.principal.subject;
  }

  /** Subscribes to the user's stream, sends the unread count, and resumes when asked to. */
  async open(resumeFrom: string | undefined): Promise<void> {
    const { hub, queries } = this.deps;
    // The upgrade checks it too; checked here as well, so that a cursor the database cannot
    // read is a 4400 naming it, never a failed open (1001, which clients retry for ever).
    const cursor = resumeFrom === undefined ? undefined : notificationId.safeParse(resumeFrom);
    if (cursor?.success === false) {
      const reason = cursor.error.issues[0]?.message ?? 'must be a notification id';
      return this.fail(new ClientError('validation_failed', `lastId: ${reason}`));
    }
    // Resuming: live frames wait for the catch-up from the start, so they come after it.
    if (resumeFrom !== undefined) this.catchingUp = true;
    const subscription = hub.connect(this.userId);
    this.release = subscription.release;
    this.subscription = subscription.notifications.subscribe((batch) => this.deliver(batch));
    this.armExpiry();
    const { unread, latestId } = await this.read(() => queries.summary(this.userId));
    hub.noteLatest(this.userId, latestId);
    this.sendFrame(frame({ type: 'unread_count', count: unread }));
    this.countSent = true;
    if (resumeFrom !== undefined) await this.resume(resumeFrom, { atOpen: true, latestId });
    else if (!this.catchingUp) this.releaseHeld();
  }

  /** A binary frame: not part of the protocol, but counted by the rate limit like any other. */
  receiveBinary(): void {
    if (this.limited()) return;
    this.sendError(new ClientError('bad_request', 'Send JSON text frames'));
  }

  /** A text frame from the client. */
  async receive(text: string): Promise<void> {
    if (this.limited()) return;
    let message: ClientMessage;
    try {
      const json: unknown = JSON.parse(text);
      const parsed = clientMessage.safeParse(json);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        // An unknown field is named itself, not its parent (nor `type`).
        const field =
          issue?.code === 'unrecognized_keys'
            ? issue.keys.map((key) => [...issue.path, key].join('.')).join(', ')
            : issue?.path.join('.') || 'type';
        // A refused mark names its ref even when the rest is invalid: its client drops or resends it.
        return this.sendError(
          new ClientError('validation_failed', `${field}: ${issue?.message ?? 'invalid'}`),
          refOf(json),
        );
      }
      message = parsed.data;
    } catch {
      return this.sendError(new ClientError('bad_request', 'The message is not valid JSON'));
    }
    const ref = 'ref' in message ? message.ref : undefined;
    try {
      await this.handle(message);
    } catch (error) {
      if (error instanceof ClientError) return this.sendError(error, ref);
      this.deps.logger.error({ err: error, userId: this.userId }, 'Socket message failed');
      this.sendError(new ClientError('internal'), ref);
    }
  }

  /** The socket drained: a paused catch-up may go on. */
  drained(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const wake of waiters) wake();
  }

  /** The socket is gone: stop everything it held. */
  closedByPeer(): void {
    this.closed = true;
    this.subscription?.unsubscribe();
    this.release?.();
    for (const timer of this.expiryTimers) clearTimeout(timer);
    this.drained();
  }

  /** Server shutdown. */
  goAway(): void {
    this.fail(new ClientError('shutting_down'));
  }

  private async handle(message: ClientMessage): Promise<void> {
    const { queries } = this.deps;
    switch (message.type) {
      case 'resume':
        return this.resume(message.lastId);
      // The new count comes back through the user's stream, to this tab and all the others.
      // A mark with a ref is acknowledged once stored: the client sends again what is not.
      case 'mark_read':
        await this.mark(() => queries.markRead(this.userId, message.ids));
        if (message.ref !== undefined) this.sendFrame(frame({ type: 'marked', ref: message.ref }));
        return;
      case 'mark_all_read':
        await this.mark(() => queries.markAllRead(this.userId));
        if (message.ref !== undefined) this.sendFrame(frame({ type: 'marked', ref: message.ref }));
        return;
      case 'refresh_token':
        return this.refresh(message.token);
    }
  }

  /** A database read under a permit (released before anything waits for the socket). */
  private read<T>(work: () => Promise<T>): Promise<T> {
    return this.deps.database.permits.run(work);
  }

  /**
   * A mark, after the user's earlier ones (they take the same lock), under a permit. Past the
   * user's queue it is refused as busy, naming its ref: the client sends it again.
   */
  private async mark(work: () => Promise<unknown>): Promise<void> {
    const { permits, marks } = this.deps.database;
    const done = marks.run(this.userId, () => permits.run(work));
    if (done === undefined)
      throw new ClientError('server_busy', 'Too many marks waiting: send it again later');
    await done;
  }

  /** The user's events of one event-loop iteration: written at once, in one corked write. */
  private deliver(batch: LiveBatch): void {
    if (this.catchingUp || !this.countSent) {
      this.hold(batch);
      return;
    }
    if (this.outbox.length > 0) {
      // Frames queued earlier in this iteration go first.
      for (const event of batch) this.sendLive(event);
      this.writeOutbox(true);
      return;
    }
    if (this.closed) return;
    // The common case: the batch goes straight to the socket, nothing copied or allocated.
    this.liveBatch = batch;
    this.port.corked(this.writeLiveBatch);
    this.liveBatch = [];
    this.afterWrite(this.liveSent, true);
  }

  private readonly writeLiveBatch = (): void => {
    let sent = 0;
    for (const event of this.liveBatch) {
      const isNotification = 'seq' in event;
      if (isNotification && !this.acceptLive(event)) continue;
      if (!this.port.send(event.frame)) {
        this.overflowed = true;
        break;
      }
      if (isNotification) sent += 1;
    }
    this.liveSent = sent;
  };

  /**
   * Live events that arrive during a catch-up wait for its end. A catch-up paused on a socket that
   * does not drain (a client that stops reading but keeps the socket alive) would hold them for
   * ever: past maxBufferedBytes, like a slow socket, it is cut off and catches up on reconnect.
   */
  private hold(batch: LiveBatch): void {
    if (this.closed) return;
    for (const event of batch) {
      this.held.push(event);
      this.heldBytes += typeof event.frame === 'string' ? Buffer.byteLength(event.frame) : event.frame.length;
    }
    if (this.heldBytes <= this.deps.settings.maxBufferedBytes) return;
    this.held = [];
    this.heldBytes = 0;
    this.deps.metrics.backpressureDrops.inc();
    this.fail(new ClientError('slow_consumer'));
  }

  /** Live path: ids only go up, so anything at or below the last sent is a duplicate. */
  private acceptLive(notification: LiveNotification): boolean {
    if (notification.seq <= this.lastSentId) return false;
    this.lastSentId = notification.seq;
    if (this.liveFrom === 0n && !this.resumed) this.liveFrom = notification.seq;
    return true;
  }

  private sendLive(event: LiveEvent): void {
    if (!('seq' in event))
      this.sendFrame(event.frame); // an unread count
    else if (this.acceptLive(event)) this.queueNotification(event.frame);
  }

  private queueNotification(encoded: string | Buffer): void {
    if (this.sendFrame(encoded)) this.outboxNotifications += 1;
  }

  /**
   * Every notification after `lastId` from the database, in order, then what arrived meanwhile.
   * Per user, ids follow commit order, so reading until the end leaves no gap.
   */
  private async resume(
    lastId: string,
    { atOpen = false, latestId }: { atOpen?: boolean; latestId?: bigint } = {},
  ): Promise<void> {
    if (this.catchingUp && !atOpen) throw new ClientError('bad_request', 'A resume is already running');
    this.catchingUp = true;
    // What went out live before the first resume; a later resume sends all it is asked for.
    const sentLive =
      !this.resumed && this.liveFrom > 0n ? { from: this.liveFrom, to: this.lastSentId } : undefined;
    this.resumed = true;
    let cursor = lastId;
    let count = 0;
    try {
      // A cursor above the user's newest id (kept from before a restore, say) would skip every
      // live id up to it, silently: the client is told, and the catch-up starts from the newest.
      const newest = latestId ?? (await this.read(() => this.deps.queries.latestId(this.userId)));
      if (BigInt(lastId) > newest) {
        cursor = newest.toString();
        this.sendFrame(frame({ type: 'cursor_reset', lastId: newest > 0n ? cursor : null }));
      }
      let abandoned = false;
      await catchUpPages(
        // The page's permit is released before the frames wait for the socket to drain: a client
        // that stops reading holds no database work (issue 11 review, defect 3).
        (from, limit) => this.read(() => this.deps.queries.after(this.userId, from, limit)),
        cursor,
        async (batch) => {
          for (const notification of batch) {
            cursor = notification.id;
            const seq = BigInt(notification.id);
            if (sentLive && seq >= sentLive.from && seq <= sentLive.to) continue;
            // The catch-up is ours to pace: wait for the socket to drain rather than overfill it.
            await this.waitForRoom();
            if (this.closed) {
              abandoned = true;
              return false;
            }
            this.queueNotification(notificationFrame(notification.json));
            count += 1;
          }
          return !this.closed;
        },
      );
      if (abandoned) return;
      if (BigInt(cursor) > this.lastSentId) this.lastSentId = BigInt(cursor);
    } finally {
      this.catchingUp = false;
      this.releaseHeld();
    }
    this.sendFrame(
      frame({ type: 'resumed', lastId: this.lastSentId > 0n ? this.lastSentId.toString() : null, count }),
    );
  }

  /** The catch-up is over: what was held goes out, skipping what it sent (after the count only). */
  private releaseHeld(): void {
    if (!this.countSent) return;
    const held = this.held;
    this.held = [];
    this.heldBytes = 0;
    for (const event of held) this.sendLive(event);
  }

  private async refresh(token: string): Promise<void> {
    let next: Principal;
    try {
      next = await this.deps.verifier.verify(token);
    } catch (error) {
      throw authFailure(error as AuthError, this.deps);
    }
    if (next.subject !== this.userId) throw new ClientError('forbidden', 'The new token is for another user');
    // The upgrade refuses service tokens: a refresh may not bring one in either.
    if (next.isService) throw new ClientError('forbidden', 'The service token has no notification stream');
    // An older token would shorten the socket's life (a replayed or stale token): refused, socket kept.
    if (next.expiresAt < this.principal.expiresAt)
      throw new ClientError('bad_request', 'The new token expires before the current one');
    this.principal = next;
    this.armExpiry();
  }

  private armExpiry(): void {
    for (const timer of this.expiryTimers) clearTimeout(timer);
    const { tokenExpiryWarningSeconds, clockToleranceSeconds } = this.deps.settings;
    // The verifier's rule: a token is valid until exp + the clock tolerance; so is its socket.
    const expiresAt = (this.principal.expiresAt + clockToleranceSeconds) * 1000;
    // A token shorter-lived than the warning window would be warned about at once, and each
    // renewal re-armed at once too (a renewal storm): it is warned at half its remaining life.
    const remaining = Math.max(0, expiresAt - Date.now());
    const warnAt = expiresAt - Math.min(tokenExpiryWarningSeconds * 1000, remaining / 2);
    this.expiryTimers = [];
    this.at(warnAt, () =>
      this.sendFrame(frame({ type: 'token_expiring', expiresAt: new Date(expiresAt).toISOString() })),
    );
    this.at(expiresAt, () => this.fail(new ClientError('token_expired')));
  }

  /** Runs `action` at an epoch instant; Node timers overflow past ~24.8 days, so long waits re-arm. */
  private at(instant: number, action: () => void): void {
    const delay = instant - Date.now();
    const timer =
      delay > MAX_TIMER_MS
        ? setTimeout(() => this.at(instant, action), MAX_TIMER_MS)
        : setTimeout(action, Math.max(0, delay));
    timer.unref();
    this.expiryTimers.push(timer);
  }

  /** Queues a frame for this iteration's corked write. */
  private sendFrame(text: string | Buffer): boolean {
    if (this.closed) return false;
    this.outbox.push(text);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      this.deps.flushes.add(this);
    }
    return true;
  }

  /** This iteration's write (FlushQueue). */
  flush(): void {
    this.flushScheduled = false;
    this.writeOutbox(true);
  }

  private writeOutbox(checkBackpressure: boolean): void {
    const frames = this.outbox;
    const notifications = this.outboxNotifications;
    if (frames.length === 0) return;
    this.outbox = [];
    this.outboxNotifications = 0;
    if (this.closed) return;
    this.port.corked(() => {
      for (const encoded of frames) {
        if (this.port.send(encoded)) continue;
        this.overflowed = true;
        break;
      }
    });
    this.afterWrite(notifications, checkBackpressure);
  }

  /** Counts what was pushed; a socket that falls behind the bound is cut off (it catches up on reconnect). */
  private afterWrite(notifications: number, checkBackpressure: boolean): void {
    if (notifications > 0) this.deps.metrics.messagesPushed.inc(notifications);
    const behind = checkBackpressure && this.port.bufferedAmount() > this.deps.settings.maxBufferedBytes;
    if (this.overflowed || behind) {
      this.deps.metrics.backpressureDrops.inc();
      this.fail(new ClientError('slow_consumer'));
    }
  }

  private async waitForRoom(): Promise<void> {
    this.writeOutbox(false);
    if (this.closed || this.port.bufferedAmount() < this.deps.settings.maxBufferedBytes / 2) return;
    await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
  }

  private sendError(error: ClientError, ref?: string): void {
    this.sendFrame(
      frame({ type: 'error', code: error.code, message: error.message, ...(ref !== undefined && { ref }) }),
    );
  }

  private fail(error: ClientError): void {
    if (this.closed) return;
    // Frames queued before the close go first; writing them may cut the socket off instead.
    if (error.code !== 'slow_consumer') this.writeOutbox(false);
    if (this.closed) return;
    this.closed = true;
    this.port.end(errorCatalog[error.code].closeCode, error.message);
  }

  /** True when the frame is over the rate limit (answered with an error, or a close when flooding). */
  private limited(): boolean {
    switch (this.rateLimit.decide()) {
      case 'accept':
        return false;
      case 'refuse':
        this.sendError(new ClientError('rate_limited', 'Too many messages: slow down'));
        return true;
      case 'close':
        this.fail(new ClientError('rate_limited'));
        return true;
    }
  }
}

/** A mark's `ref` read from the raw JSON, when it is a usable one (the schema's: 1 to 64 characters). */
function refOf(json: unknown): string | undefined {
  if (typeof json !== 'object' || json === null || !('ref' in json)) return undefined;
  const { ref } = json;
  return typeof ref === 'string' && ref.length >= 1 && ref.length <= 64 ? ref : undefined;
}
