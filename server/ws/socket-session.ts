import type { Subscription } from 'rxjs';
import type { Logger } from '../../config/logger.js';
import type { AuthError, Principal, TokenVerifier } from '../auth/token-verifier.js';
import { authFailure } from '../auth/auth-failure.js';
import { ClientError, errorCatalog } from '../errors.js';
import type { LiveNotification, NotificationHub } from '../hub/notification-hub.js';
import type { ServerMetrics } from '../metrics.js';
import type { NotificationQueries, SerializedNotification } from '../notifications/notification-queries.js';
import { clientMessage, frame, notificationFrame, type ClientMessage } from '../protocol/messages.js';

/** What a session needs of its socket; uWebSockets.js in production. */
export interface SocketPort {
  /** Writes text frames in one corked write; false when the socket is closed. */
  sendAll(frames: Array<string | Buffer>): boolean;
  bufferedAmount(): number;
  end(code: number, reason: string): void;
}

export interface SessionSettings {
  maxBufferedBytes: number;
  rateLimit: { perSecond: number; burst: number };
  tokenExpiryWarningSeconds: number;
}

export interface SessionDependencies {
  hub: NotificationHub;
  queries: NotificationQueries;
  verifier: TokenVerifier;
  metrics: ServerMetrics;
  settings: SessionSettings;
  logger: Logger;
}

const CATCH_UP_BATCH = 500;
/** Messages over the rate limit tolerated (answered with an error) before the socket is closed. */
const FLOOD_TOLERANCE = 20;
const RESUME_TRACKING_MS = 30_000;
const RESUME_TRACKING_IDS = 1000;
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * One open socket of a user: its live subscription, its resume, its token's lifetime and its
 * rate limit. Live notifications that arrive during a catch-up wait in `held` and are sent
 * after it, skipping ids already sent: no gap, no duplicate.
 */
export class SocketSession {
  private subscription: Subscription | undefined;
  private release: (() => void) | undefined;
  private lastSentId = 0n;
  /** Ids sent live before the first resume: that catch-up must not send them again. */
  private sentBeforeResume: Set<string> | undefined = new Set();
  /** A `resume` message comes right after connecting: ids are tracked for this long only, and this many. */
  private readonly trackUntil = Date.now() + RESUME_TRACKING_MS;
  private catchingUp = false;
  private held: SerializedNotification[] = [];
  private closed = false;
  private tokens: number;
  private lastRefill = Date.now();
  private floods = 0;
  private expiryTimers: NodeJS.Timeout[] = [];
  private drainWaiters: Array<() => void> = [];
  /** Frames of this event-loop iteration, written together under one cork: one syscall, not one each. */
  private outbox: Array<string | Buffer> = [];
  private flushScheduled = false;

  constructor(
    private readonly port: SocketPort,
    private principal: Principal,
    private readonly deps: SessionDependencies,
  ) {
    this.tokens = deps.settings.rateLimit.burst;
  }

  get userId(): string {
    return this.principal.subject;
  }

  /** Subscribes to the user's stream, sends the unread count, and resumes when asked to. */
  async open(resumeFrom: string | undefined): Promise<void> {
    const { hub, queries } = this.deps;
    // Resuming: live frames wait for the catch-up from the start, so they come after it.
    if (resumeFrom !== undefined) this.catchingUp = true;
    const subscription = hub.connect(this.userId);
    this.release = subscription.release;
    this.subscription = subscription.notifications.subscribe((notification) => this.deliver(notification));
    this.armExpiry();
    const { unread, latestId } = await queries.summary(this.userId);
    hub.noteLatest(this.userId, latestId);
    this.sendFrame(frame({ type: 'unread_count', count: unread }));
    if (resumeFrom !== undefined) await this.resume(resumeFrom, true);
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
      const parsed = clientMessage.safeParse(JSON.parse(text));
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        // An unknown field is named itself, not its parent (nor `type`).
        const field =
          issue?.code === 'unrecognized_keys'
            ? issue.keys.map((key) => [...issue.path, key].join('.')).join(', ')
            : issue?.path.join('.') || 'type';
        return this.sendError(
          new ClientError('validation_failed', `${field}: ${issue?.message ?? 'invalid'}`),
        );
      }
      message = parsed.data;
    } catch {
      return this.sendError(new ClientError('bad_request', 'The message is not valid JSON'));
    }
    try {
      await this.handle(message);
    } catch (error) {
      if (error instanceof ClientError) return this.sendError(error);
      this.deps.logger.error({ err: (error as Error).message, userId: this.userId }, 'Socket message failed');
      this.sendError(new ClientError('internal'));
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
      case 'mark_read':
        await queries.markRead(this.userId, message.ids);
        this.sendFrame(frame({ type: 'unread_count', count: await queries.unreadCount(this.userId) }));
        return;
      case 'mark_all_read':
        await queries.markAllRead(this.userId);
        this.sendFrame(frame({ type: 'unread_count', count: 0 }));
        return;
      case 'refresh_token':
        return this.refresh(message.token);
    }
  }

  private deliver(notification: LiveNotification): void {
    if (this.catchingUp) {
      this.held.push(notification);
      return;
    }
    this.sendNotification(notification);
  }

  /** Live path: ids only go up, so anything at or below the last sent is a duplicate. */
  private sendNotification(notification: LiveNotification | SerializedNotification): void {
    const id = BigInt(notification.id);
    if (id <= this.lastSentId) return;
    this.lastSentId = id;
    if (this.sentBeforeResume) {
      if (this.sentBeforeResume.size < RESUME_TRACKING_IDS && Date.now() < this.trackUntil) {
        this.sentBeforeResume.add(notification.id);
      } else {
        this.sentBeforeResume = undefined; // bounded memory: a late resume may repeat frames
      }
    }
    this.write(notification);
  }

  private write(notification: LiveNotification | SerializedNotification): void {
    const encoded = 'frame' in notification ? notification.frame : notificationFrame(notification.json);
    if (this.sendFrame(encoded)) this.deps.metrics.messagesPushed.inc();
  }

  /**
   * Every notification after `lastId` from the database, in order, then what arrived meanwhile.
   * Per user, ids follow commit order, so reading until the end leaves no gap.
   */
  private async resume(lastId: string, atOpen = false): Promise<void> {
    if (this.catchingUp && !atOpen) throw new ClientError('bad_request', 'A resume is already running');
    this.catchingUp = true;
    const alreadySent = this.sentBeforeResume ?? new Set<string>();
    this.sentBeforeResume = undefined;
    let cursor = lastId;
    let count = 0;
    try {
      for (;;) {
        const batch = await this.deps.queries.after(this.userId, cursor, CATCH_UP_BATCH);
        for (const notification of batch) {
          cursor = notification.id;
          if (alreadySent.has(notification.id)) continue;
          // The catch-up is ours to pace: wait for the socket to drain rather than overfill it.
          await this.waitForRoom();
          if (this.closed) return;
          this.write(notification);
          count += 1;
        }
        if (batch.length < CATCH_UP_BATCH || this.closed) break;
      }
      if (BigInt(cursor) > this.lastSentId) this.lastSentId = BigInt(cursor);
    } finally {
      this.catchingUp = false;
      const held = this.held;
      this.held = [];
      for (const notification of held) this.sendNotification(notification);
    }
    this.sendFrame(
      frame({ type: 'resumed', lastId: this.lastSentId > 0n ? this.lastSentId.toString() : null, count }),
    );
  }

  private async refresh(token: string): Promise<void> {
    let next: Principal;
    try {
      next = await this.deps.verifier.verify(token);
    } catch (error) {
      throw authFailure(error as AuthError, this.deps.metrics);
    }
    if (next.subject !== this.userId) throw new ClientError('forbidden', 'The new token is for another user');
    this.principal = next;
    this.armExpiry();
  }

  private armExpiry(): void {
    for (const timer of this.expiryTimers) clearTimeout(timer);
    const expiresAt = this.principal.expiresAt * 1000;
    const warnAt = expiresAt - this.deps.settings.tokenExpiryWarningSeconds * 1000;
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
      setImmediate(() => this.flush(true));
    }
    return true;
  }

  /** Writes the queued frames; a socket that falls behind the bound is cut off (it catches up on reconnect). */
  private flush(checkBackpressure: boolean): void {
    this.flushScheduled = false;
    const frames = this.outbox;
    this.outbox = [];
    if (this.closed || frames.length === 0) return;
    this.port.sendAll(frames);
    if (checkBackpressure && this.port.bufferedAmount() > this.deps.settings.maxBufferedBytes) {
      this.deps.metrics.backpressureDrops.inc();
      this.fail(new ClientError('slow_consumer'));
    }
  }

  private async waitForRoom(): Promise<void> {
    this.flush(false);
    if (this.closed || this.port.bufferedAmount() < this.deps.settings.maxBufferedBytes / 2) return;
    await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
  }

  private sendError(error: ClientError): void {
    this.sendFrame(frame({ type: 'error', code: error.code, message: error.message }));
  }

  private fail(error: ClientError): void {
    if (this.closed) return;
    if (error.code !== 'slow_consumer') this.flush(false); // frames queued before the close go first
    this.closed = true;
    this.port.end(errorCatalog[error.code].closeCode, error.message);
  }

  /** True when the frame is over the rate limit (answered with an error, or a close past the tolerance). */
  private limited(): boolean {
    if (this.takeToken()) return false;
    this.floods += 1;
    if (this.floods > FLOOD_TOLERANCE) this.fail(new ClientError('rate_limited'));
    else this.sendError(new ClientError('rate_limited', 'Too many messages: slow down'));
    return true;
  }

  private takeToken(): boolean {
    const now = Date.now();
    const { perSecond, burst } = this.deps.settings.rateLimit;
    this.tokens = Math.min(burst, this.tokens + ((now - this.lastRefill) / 1000) * perSecond);
    this.lastRefill = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
