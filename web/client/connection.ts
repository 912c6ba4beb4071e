import { Backoff, type BackoffSettings } from './backoff.js';
import { closeActionOf } from './close-action.js';
import { subjectOf, TokenTracker } from './token.js';
import type { ClientFrame, ConnectionState, NotifyClientError, ServerFrame } from './types.js';

/** The subprotocol offered beside the token. */
export const PROTOCOL = 'normx-notify';
const WS_PATH = '/api/v1/ws';
/** A socket open this long is stable: the backoff starts over (a shorter one keeps it growing). */
const STABLE_CONNECTION_MS = 10_000;

export interface ConnectionOptions {
  /** The server (`https://…`, `wss://…`); default: the page's origin. */
  url: string | undefined;
  WebSocket: typeof WebSocket;
  getToken: () => string | Promise<string>;
  backoff: BackoffSettings;
}

/** What the connection tells the client around it. */
export interface ConnectionEvents {
  /** Before each socket: the token names `user`; returns the id to resume after (`?lastId=`), if any. */
  resumeFor(user: string): string | undefined;
  /** A socket was created; when `resuming`, a catch-up comes before the live notifications. */
  socketCreated(options: { resuming: boolean }): void;
  opened(): void;
  frame(frame: ServerFrame): void;
  /** The socket is gone (what comes next depends on its close code). */
  closed(): void;
  state(state: ConnectionState): void;
  /** A fatal error stops the connection: the client stops with it. */
  error(error: NotifyClientError): void;
}

/**
 * The connection loop: one WebSocket to `/api/v1/ws` at a time (token in `Sec-WebSocket-Protocol`,
 * never in the URL), reconnected with jittered exponential backoff after anything but a close code
 * that says reconnecting cannot help, resuming after the client's cursor (`?lastId=`).
 */
export class Connection {
  private socket: WebSocket | undefined;
  private everOpened = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** Resets the backoff once a socket has stayed open long enough (not at open). */
  private stableTimer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private readonly tokens = new TokenTracker();
  private readonly backoff: Backoff;
  private readonly wsBase: URL;

  constructor(
    private readonly options: ConnectionOptions,
    private readonly events: ConnectionEvents,
  ) {
    this.backoff = new Backoff(options.backoff);
    const base = new URL(options.url ?? globalThis.location.origin);
    this.wsBase = new URL(base.href);
    this.wsBase.protocol = base.protocol === 'https:' || base.protocol === 'wss:' ? 'wss:' : 'ws:';
  }

  /** Connects on the next microtask (the caller subscribes first), and on each `online` event. */
  start(): void {
    globalThis.addEventListener?.('online', this.online);
    queueMicrotask(() => void this.connect());
  }

  isOpen(): boolean {
    return this.socket?.readyState === this.options.WebSocket.OPEN;
  }

  send(frame: ClientFrame): void {
    this.socket?.send(JSON.stringify(frame));
  }

  /** `token_expiring`: asks getToken, and sends the token when it changed. */
  async refreshToken(): Promise<void> {
    try {
      const fresh = await this.options.getToken();
      if (this.isOpen() && this.tokens.renew(fresh)) this.send({ type: 'refresh_token', token: fresh });
    } catch (error) {
      // The server closes with 4401 at expiry; the reconnection asks getToken again.
      this.events.error({ code: 'get_token_failed', message: messageOf(error), fatal: false });
    }
  }

  /** For good: no reconnection, the socket closed with 1000. */
  stop(): void {
    this.stopped = true;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    clearTimeout(this.stableTimer);
    globalThis.removeEventListener?.('online', this.online);
    const ws = this.socket;
    this.socket = undefined;
    if (ws && ws.readyState <= this.options.WebSocket.OPEN) ws.close(1000, 'Client closed');
  }

  private async connect(): Promise<void> {
    this.retryTimer = undefined;
    if (this.stopped) return;
    this.events.state(this.everOpened ? 'reconnecting' : 'connecting');
    let token: string;
    try {
      token = await this.options.getToken();
    } catch (error) {
      this.events.error({ code: 'get_token_failed', message: messageOf(error), fatal: false });
      return this.retry();
    }
    if (this.stopped) return;
    const verdict = this.tokens.admit(token);
    if (!verdict.usable) {
      if (verdict.firstRefusal) {
        const message = 'The token has expired and no fresher one is available';
        this.events.error({ code: 'session_expired', message, fatal: false });
      }
      return this.retry();
    }
    const lastId = this.events.resumeFor(subjectOf(token) ?? 'anonymous');
    const url = new URL(WS_PATH, this.wsBase);
    if (lastId !== undefined) url.searchParams.set('lastId', lastId);
    let ws: WebSocket;
    try {
      ws = new this.options.WebSocket(url.href, [PROTOCOL, token]);
    } catch (error) {
      // A token with characters a subprotocol cannot carry: a new one may do.
      this.events.error({ code: 'unauthorized', message: messageOf(error), fatal: false });
      return this.retry();
    }
    this.socket = ws;
    this.events.socketCreated({ resuming: lastId !== undefined });
    ws.onopen = () => {
      if (this.socket !== ws) return;
      this.everOpened = true;
      this.tokens.opened();
      clearTimeout(this.stableTimer);
      this.stableTimer = setTimeout(() => {
        if (this.socket === ws) this.backoff.reset();
      }, STABLE_CONNECTION_MS);
      this.events.state('open');
      this.events.opened();
    };
    ws.onmessage = (event: MessageEvent) => {
      if (this.socket !== ws || typeof event.data !== 'string') return;
      try {
        this.events.frame(JSON.parse(event.data) as ServerFrame);
      } catch (error) {
        this.events.error({ code: 'bad_frame', message: messageOf(error), fatal: false });
      }
    };
    ws.onclose = (event: CloseEvent) => {
      if (this.socket !== ws) return;
      this.socket = undefined;
      clearTimeout(this.stableTimer);
      this.closed(event.code, event.reason, token);
    };
  }

  private closed(code: number, reason: string, usedToken: string): void {
    this.events.closed();
    if (this.stopped) return;
    // What to do is the server's error catalog's word (server/errors.ts `clientAction`).
    const decision = closeActionOf(code);
    if (decision.action === 'stop') {
      // Reconnecting cannot help: the request itself is wrong or forbidden. The client stops with it.
      this.stop();
      const message = reason || `Closed with ${code}`;
      return this.events.error({ code: decision.code, message, closeCode: code, fatal: true });
    }
    if (decision.action === 'refresh_token') {
      const message = reason || 'Token expired';
      this.events.error({ code: decision.code, message, closeCode: code, fatal: false });
      this.tokens.refused(usedToken);
      // After a stable connection, a fresher token deserves one immediate try; after a short one
      // (a token refused soon after it was accepted), the backoff grows.
      if (this.backoff.attempt === 0) return this.retry({ immediately: true });
    }
    // 1001 (server going away), 1006 (connection lost), 4503 (too slow), 4429, 1011…: resume.
    this.retry();
  }

  private retry({ immediately = false }: { immediately?: boolean } = {}): void {
    if (this.stopped) return;
    this.events.state(this.everOpened ? 'reconnecting' : 'connecting');
    const delay = this.backoff.next();
    this.retryTimer = setTimeout(() => void this.connect(), immediately ? 0 : delay);
  }

  /** The network is back: try now rather than at the end of the current delay. */
  private readonly online = (): void => {
    if (this.retryTimer === undefined || this.stopped) return;
    clearTimeout(this.retryTimer);
    void this.connect();
  };
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
