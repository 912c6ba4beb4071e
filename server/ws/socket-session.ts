import type { Subscription } from 'rxjs';
import type { Logger } from '../../config/logger.js';
import type { Principal, TokenVerifier } from '../auth/token-verifier.js';
import { ClientError, errorCatalog, invalidInput } from '../errors.js';
import type { NotificationHub } from '../hub/notification-hub.js';
import type { ServerMetrics } from '../metrics.js';
import type { NotificationQueries } from '../notifications/notification-queries.js';
import { countsFrame, frame, notificationId, type ClientMessage } from '../protocol/messages.js';
import { readClientMessage } from './client-input.js';
import type { DatabasePermits } from './database-permits.js';
import type { FlushQueue } from './flush-queue.js';
import { ExpiryTimer, type ExpirySettings } from './expiry-timer.js';
import { OrderedPush } from './ordered-push.js';
import { Outbox, type SocketPort } from './outbox.js';
import type { SerialByKey } from './serial-by-key.js';
import { SocketGone, SocketQueries } from './socket-queries.js';
import { MessageRateLimit } from './token-bucket.js';
import { refreshedPrincipal } from './token-refresh.js';

export type { SocketPort } from './outbox.js';

export interface SessionSettings extends ExpirySettings {
  /** Bounds what waits for the socket: the outbox's backlog, and live frames held during a catch-up. */
  maxBufferedBytes: number;
  rateLimit: { perSecond: number; burst: number };
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
   * Shared by every session of the process: `permits` caps the
   * sockets' database work at once (opening reads, catch-up pages, marks); `marks` runs each
   * user's marks one at a time, so a user's flood of marks holds one connection, not the pool.
   */
  database: { permits: DatabasePermits; marks: SerialByKey };
}

/**
 * One open socket of a user, composed of single-purpose units: what it is sent and how fast
 * (outbox.ts), its user's notifications in order, live and caught up on resume (ordered-push.ts),
 * its database work (socket-queries.ts), its token's lifetime (expiry-timer.ts, token-refresh.ts)
 * and its rate limit (token-bucket.ts). Here: the protocol's messages, and the socket's close.
 */
export class SocketSession {
  private subscription: Subscription | undefined;
  private release: (() => void) | undefined;
  /** The frames this iteration writes, the socket's pace, and whether it ended. */
  private readonly outbox: Outbox;
  private readonly queries: SocketQueries;
  /** The user's notifications onto the outbox, in order: live, held, caught up. */
  private readonly stream: OrderedPush;
  private readonly expiry: ExpiryTimer;
  private readonly rateLimit: MessageRateLimit;

  constructor(
    private readonly port: SocketPort,
    private principal: Principal,
    private readonly deps: SessionDependencies,
  ) {
    const { settings, metrics } = deps;
    this.outbox = new Outbox(port, {
      flushes: deps.flushes,
      maxBufferedBytes: settings.maxBufferedBytes,
      pushed: (notifications) => metrics.messagesPushed.inc(notifications),
      slow: () => this.cutOff(),
    });
    this.queries = new SocketQueries(principal.subject, deps.queries, deps.database, this.gone.signal);
    this.stream = new OrderedPush(this.outbox, {
      maxHeldBytes: settings.maxBufferedBytes,
      source: this.queries,
      cutOff: () => this.cutOff(),
    });
    this.expiry = new ExpiryTimer(settings, {
      warn: (closeAt) =>
        this.outbox.queue(frame({ type: 'token_expiring', expiresAt: new Date(closeAt).toISOString() })),
      expire: () => this.fail(new ClientError('token_expired')),
    });
    this.rateLimit = new MessageRateLimit(settings.rateLimit);
  }

  /** Aborted when the socket is gone (closed by its peer or by the server). */
  private readonly gone = new AbortController();

  get userId(): string {
    return this.principal.subject;
  }

  /** Subscribes to the user's stream, sends the unread count, and resumes when asked to. */
  async open(resumeFrom: string | undefined): Promise<void> {
    const { hub } = this.deps;
    // The upgrade checks it too; checked here as well, so that a cursor the database cannot
    // read is a 4400 naming it, never a failed open (1001, which clients retry for ever).
    const cursor = resumeFrom === undefined ? undefined : notificationId.safeParse(resumeFrom);
    if (cursor?.success === false) return this.fail(invalidInput(cursor.error, { at: 'lastId' }));
    // Resuming: live frames wait for the catch-up from the start, so they come after it.
    if (resumeFrom !== undefined) this.stream.resumingAtOpen();
    const subscription = hub.connect(this.userId);
    this.release = subscription.release;
    this.subscription = subscription.notifications.subscribe((batch) => this.stream.push(batch));
    this.expiry.arm(this.principal.expiresAt);
    const { counts, date } = await this.queries.summary();
    // The counts' date: the user's newest id, or a newer one the retention removed (no newer exists).
    const latestId = date.latestId;
    hub.noteLatest(this.userId, latestId);
    this.outbox.queue(countsFrame(counts, date));
    this.stream.countWentOut();
    if (resumeFrom !== undefined) await this.stream.resume(resumeFrom, { atOpen: true, latestId });
  }

  /** A binary frame: not part of the protocol, but counted by the rate limit like any other. */
  receiveBinary(): void {
    if (this.limited()) return;
    this.sendError(new ClientError('bad_request', 'Send JSON text frames'));
  }

  /** A text frame from the client. */
  async receive(text: string): Promise<void> {
    if (this.limited()) return;
    const input = readClientMessage(text);
    if ('error' in input) return this.sendError(input.error, input.ref);
    const { message } = input;
    const ref = 'ref' in message ? message.ref : undefined;
    try {
      await this.handle(message);
    } catch (error) {
      if (error instanceof SocketGone) return;
      if (error instanceof ClientError) return this.sendError(error, ref);
      this.deps.logger.error({ err: error, userId: this.userId }, 'Socket message failed');
      this.sendError(new ClientError('internal'), ref);
    }
  }

  /** The socket drained: a paused catch-up may go on. */
  drained(): void {
    this.outbox.drained();
  }

  /** The socket is gone: stop everything it held. */
  closedByPeer(): void {
    this.gone.abort(new SocketGone());
    this.outbox.close();
    this.subscription?.unsubscribe();
    this.release?.();
    this.expiry.cancel();
    this.outbox.drained();
  }

  /** Server shutdown. */
  goAway(): void {
    this.fail(new ClientError('shutting_down'));
  }

  private async handle(message: ClientMessage): Promise<void> {
    switch (message.type) {
      case 'resume':
        return this.stream.resume(message.lastId);
      // The new count comes back through the user's stream, to this tab and all the others.
      // A mark with a ref is acknowledged once stored: the client sends again what is not.
      case 'mark_read':
        return this.marked(message.ref, this.queries.markRead(message.ids));
      case 'mark_all_read':
        return this.marked(message.ref, this.queries.markAllRead());
      case 'mark_seen':
        return this.marked(message.ref, this.queries.markSeen(message.lastId));
      case 'archive':
        return this.marked(message.ref, this.queries.archive(message.ids));
      case 'unarchive':
        return this.marked(message.ref, this.queries.unarchive(message.ids));
      case 'refresh_token':
        return this.refresh(message.token);
    }
  }

  /** A mark stored: acknowledged when it has a ref (its counts come through the user's stream). */
  private async marked(ref: string | undefined, mark: Promise<void>): Promise<void> {
    await mark;
    if (ref !== undefined) this.outbox.queue(frame({ type: 'marked', ref }));
  }

  /** A fresh token for the same user: the socket lives on until it expires. */
  private async refresh(token: string): Promise<void> {
    this.principal = await refreshedPrincipal(token, this.principal, this.deps);
    this.expiry.arm(this.principal.expiresAt);
  }

  private sendError(error: ClientError, ref?: string): void {
    this.outbox.queue(
      frame({ type: 'error', code: error.code, message: error.message, ...(ref !== undefined && { ref }) }),
    );
  }

  /** The socket dropped a frame or fell behind: cut off, its client catches up on reconnect. */
  private cutOff(): void {
    this.deps.metrics.backpressureDrops.inc();
    this.fail(new ClientError('slow_consumer'));
  }

  private fail(error: ClientError): void {
    if (this.outbox.closed) return;
    // Frames queued before the close go first; writing them may cut the socket off instead.
    if (error.code !== 'slow_consumer') this.outbox.write({ checkBackpressure: false });
    if (this.outbox.closed) return;
    this.outbox.close();
    this.gone.abort(new SocketGone());
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
