import { BehaviorSubject, distinctUntilChanged, filter, Subject, type Observable } from 'rxjs';

/**
 * The browser client of normx-notify: one typed ES module, no framework, RxJS only.
 *
 * It keeps one WebSocket to `/api/v1/ws` (token in `Sec-WebSocket-Protocol`, never in the URL),
 * reconnects with jittered exponential backoff, and resumes after the last notification it saw
 * (`?lastId=`), so a reconnect misses nothing and repeats nothing. The wire format is the
 * server's (`server/protocol/messages.ts`); `web/client/protocol-check.ts` keeps the two equal.
 */

import type { NotificationType } from '../../domain/notification-types.js';

export type { NotificationType };

/** A notification as the server sends it (WebSocket frames and REST lists alike). */
export interface NotifyNotification {
  /** Digits, increasing per user: the resume cursor. */
  id: string;
  userId: string;
  type: NotificationType;
  kind: string;
  dossierId: string | null;
  title: string;
  body: string;
  data: Record<string, unknown>;
  createdAt: string;
  readAt: string | null;
}

/** Frames the server sends. */
export type ServerFrame =
  | { type: 'notification'; notification: NotifyNotification }
  | { type: 'unread_count'; count: number }
  | { type: 'resumed'; lastId: string | null; count: number }
  | { type: 'cursor_reset'; lastId: string | null }
  | { type: 'token_expiring'; expiresAt: string }
  | { type: 'marked'; ref: string }
  | { type: 'error'; code: string; message: string; ref?: string | undefined };

/** Frames the client sends. */
export type ClientFrame =
  | { type: 'resume'; lastId: string }
  | { type: 'mark_read'; ids: string[]; ref?: string | undefined }
  | { type: 'mark_all_read'; ref?: string | undefined }
  | { type: 'refresh_token'; token: string };

export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** Something went wrong; `fatal` errors stop the client (its state becomes `closed`). */
export interface NotifyClientError {
  /**
   * The server's error code (`forbidden`, `validation_failed`…), or the client's own:
   * `get_token_failed`; `session_expired` (the server refused the token as expired and getToken
   * gives none fresher: the client waits, asking getToken again at growing intervals, without
   * connecting; a page should tell its user); `mark_failed` (marks the server refused for good).
   */
  code: string;
  message: string;
  /** The WebSocket close code, when the error closed the socket. */
  closeCode?: number;
  fatal: boolean;
}

/** Notifications marked read, by this tab or by another tab of the same user. */
export type ReadMark = { ids: string[] } | { all: true };

export interface NotifyClientOptions {
  /** The server, `https://notify.example` (or `wss://…`); default: the page's origin. */
  url?: string;
  /**
   * Returns a valid token (a JWT whose `sub` is the user). Called before every connection and
   * reconnection, and when the server says the current one is expiring: return a fresh one.
   */
  getToken: () => string | Promise<string>;
  /** Where the last seen id is kept, per user; default `localStorage`; `null` keeps it in memory only. */
  storage?: Pick<Storage, 'getItem' | 'setItem'> | null;
  /**
   * Resume after this id on the first connection, typically the newest one you loaded over REST.
   * Default: the last id this browser saw for the user (storage); without one, live only.
   */
  lastId?: string;
  /** Reconnection delays: from `initialMs` doubling up to `maxMs`, each drawn in [delay/2, delay]. */
  backoff?: { initialMs?: number; maxMs?: number };
  /** The WebSocket implementation; default the browser's. */
  WebSocket?: typeof WebSocket;
}

export interface NotifyClient {
  /** Each new notification, once, in order (catch-up after a reconnect included). */
  readonly notifications$: Observable<NotifyNotification>;
  /** The user's unread count: replays the current value to new subscribers once it is known. */
  readonly unreadCount$: Observable<number>;
  readonly connectionState$: Observable<ConnectionState>;
  /** Marks made here or in another tab of the same user (BroadcastChannel). */
  readonly reads$: Observable<ReadMark>;
  readonly errors$: Observable<NotifyClientError>;
  /** The id of the newest notification seen, the resume cursor. */
  readonly lastId: string | undefined;
  readonly unreadCount: number | undefined;
  readonly connectionState: ConnectionState;
  /**
   * Marks notifications read: shown at once (reads$), sent in one message per 500 ids, kept
   * until the server acknowledges them and sent again when refused or when the socket is back.
   */
  markRead(ids: readonly string[]): void;
  markAllRead(): void;
  /** Closes the socket for good and completes every Observable. */
  close(): void;
}

/** The subprotocol offered beside the token. */
export const PROTOCOL = 'normx-notify';
const WS_PATH = '/api/v1/ws';
/** The server takes at most this many ids per `mark_read`. */
const MARK_READ_BATCH = 500;
/** Close codes after which reconnecting cannot help: the request itself is wrong or forbidden. */
const FATAL_CLOSE_CODES: Record<number, string> = {
  1009: 'payload_too_large',
  4400: 'bad_request',
  4403: 'forbidden',
};
const TOKEN_CLOSE_CODE = 4401;
/** A socket open this long is stable: the backoff starts over (a shorter one keeps it growing). */
const STABLE_CONNECTION_MS = 10_000;
/** A mark not acknowledged within this is sent again (a lost answer; a server without acks). */
const MARK_ACK_TIMEOUT_MS = 10_000;
/** Error codes after which a mark is worth sending again. */
const RETRY_MARK_CODES = new Set(['rate_limited', 'internal', 'unavailable', 'server_busy', 'shutting_down']);

/** A batch of marks waiting for its `marked`. */
interface MarkBatch {
  ref: string;
  ids: string[];
  all: boolean;
}

type ChannelMessage =
  { kind: 'read'; ids: string[] } | { kind: 'read_all' } | { kind: 'count'; count: number };

export function createNotifyClient(options: NotifyClientOptions): NotifyClient {
  const WebSocketImpl = options.WebSocket ?? globalThis.WebSocket;
  const base = new URL(options.url ?? globalThis.location.origin);
  const wsBase = new URL(base.href);
  wsBase.protocol = base.protocol === 'https:' || base.protocol === 'wss:' ? 'wss:' : 'ws:';
  const initialDelay = options.backoff?.initialMs ?? 500;
  const maxDelay = options.backoff?.maxMs ?? 30_000;
  const storage = options.storage === undefined ? defaultStorage() : options.storage;

  const notifications = new Subject<NotifyNotification>();
  const unread = new BehaviorSubject<number | undefined>(undefined);
  const state = new BehaviorSubject<ConnectionState>('connecting');
  const reads = new Subject<ReadMark>();
  const errors = new Subject<NotifyClientError>();

  let socket: WebSocket | undefined;
  let token: string | undefined;
  let userId: string | undefined;
  /**
   * Every notification up to this id has been delivered: the resume point. It moves with each
   * notification, those of a catch-up included (issue 11, review defect 4: moved only at `resumed`,
   * a connection cut mid-catch-up restarted the same catch-up, and a flaky network never got past
   * it). That is right because this client resumes only by `?lastId=`: the server then holds the
   * live frames until the catch-up is over, so ids arrive in strictly increasing order. (A `resume`
   * message on a socket already open could follow live frames with older ids; this client sends none.)
   */
  let cursor: bigint | undefined;
  let channel: BroadcastChannel | undefined;
  let attempt = 0;
  let everOpened = false;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** Resets the backoff once a socket has stayed open long enough (not at open: issue 11, defect 3). */
  let stableTimer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  /**
   * The token the server last refused as expired (4401). A token from getToken is used only if it
   * is fresher (a later `exp`; without one readable, a different token): an equal one would be
   * refused again, and reconnecting with it looped (issue 11, defect 3).
   */
  let expiredToken: { token: string; exp: number | undefined } | undefined;
  let sessionExpiredReported = false;
  /**
   * Marks not acknowledged yet (issue 11, defect 6): ids waiting to be sent (`markAll`: a mark of
   * everything is), and the one batch in flight. One batch at a time, each with its `ref`: what is
   * refused or lost with the socket goes back to the waiting ones, nothing is dropped silently.
   */
  const waitingMarks = new Set<string>();
  let waitingMarkAll = false;
  let markInFlight: MarkBatch | undefined;
  let markTimer: ReturnType<typeof setTimeout> | undefined;
  let markAttempt = 0;
  let markSequence = 0;
  /** Per connection: has the server sent the count yet, is a catch-up running. */
  let countSynced = false;
  let resuming = false;
  /** A notification came before the count or during the catch-up: the count may not include it. */
  let countUncertain = false;
  /** `unread_count` frames still owed for our own marks: those are shared with the other tabs. */
  let marksAwaitingCount = 0;

  const storageKey = (user: string): string => `normx-notify:lastId:${user}`;

  function adoptUser(user: string): void {
    if (user === userId) return;
    const first = userId === undefined;
    userId = user;
    unread.next(undefined);
    const stored = readId(storage?.getItem(storageKey(user)));
    cursor = first && options.lastId !== undefined ? readId(options.lastId) : stored;
    channel?.close();
    channel =
      typeof BroadcastChannel === 'function' ? new BroadcastChannel(`normx-notify:${user}`) : undefined;
    if (channel) channel.onmessage = (event: MessageEvent<ChannelMessage>) => fromOtherTab(event.data);
  }

  function fromOtherTab(message: ChannelMessage): void {
    if (stopped) return;
    if (message.kind === 'read') reads.next({ ids: message.ids });
    else if (message.kind === 'read_all') reads.next({ all: true });
    else unread.next(message.count);
  }

  function remember(id: bigint): void {
    cursor = id;
    if (!storage || userId === undefined) return;
    try {
      // Another tab may have seen further: keep the newest.
      const stored = readId(storage.getItem(storageKey(userId)));
      if (stored === undefined || stored < id) storage.setItem(storageKey(userId), id.toString());
    } catch {
      // Storage full or forbidden: the cursor stays in memory.
    }
  }

  async function connect(): Promise<void> {
    retryTimer = undefined;
    if (stopped) return;
    state.next(everOpened ? 'reconnecting' : 'connecting');
    try {
      token = await options.getToken();
    } catch (error) {
      report({ code: 'get_token_failed', message: messageOf(error), fatal: false });
      return retry();
    }
    if (stopped) return;
    if (expiredToken && !isFresher(token, expiredToken)) {
      // The server refused this token as expired: connecting with it again would be refused too.
      if (!sessionExpiredReported) {
        sessionExpiredReported = true;
        report({
          code: 'session_expired',
          message: 'The token has expired and no fresher one is available',
          fatal: false,
        });
      }
      return retry();
    }
    adoptUser(subjectOf(token) ?? 'anonymous');
    const url = new URL(WS_PATH, wsBase);
    if (cursor !== undefined) url.searchParams.set('lastId', cursor.toString());
    let ws: WebSocket;
    try {
      ws = new WebSocketImpl(url.href, [PROTOCOL, token]);
    } catch (error) {
      // A token with characters a subprotocol cannot carry: a new one may do.
      report({ code: 'unauthorized', message: messageOf(error), fatal: false });
      return retry();
    }
    socket = ws;
    const usedToken = token;
    countSynced = false;
    countUncertain = false;
    resuming = cursor !== undefined;
    ws.onopen = () => {
      if (socket !== ws) return;
      everOpened = true;
      sessionExpiredReported = false;
      clearTimeout(stableTimer);
      stableTimer = setTimeout(() => {
        if (socket === ws) attempt = 0;
      }, STABLE_CONNECTION_MS);
      state.next('open');
      sendMarks();
    };
    ws.onmessage = (event: MessageEvent) => {
      if (socket !== ws || typeof event.data !== 'string') return;
      try {
        handle(JSON.parse(event.data) as ServerFrame);
      } catch (error) {
        report({ code: 'bad_frame', message: messageOf(error), fatal: false });
      }
    };
    ws.onclose = (event: CloseEvent) => {
      if (socket !== ws) return;
      socket = undefined;
      clearTimeout(stableTimer);
      closed(event.code, event.reason, usedToken);
    };
  }

  function closed(code: number, reason: string, usedToken: string): void {
    marksAwaitingCount = 0;
    // The batch in flight may or may not have been stored: it goes again on the next socket.
    requeueMarks();
    if (stopped) return;
    const fatal = FATAL_CLOSE_CODES[code];
    if (fatal) {
      report({ code: fatal, message: reason || `Closed with ${code}`, closeCode: code, fatal: true });
      return stop();
    }
    if (code === TOKEN_CLOSE_CODE) {
      report({ code: 'unauthorized', message: reason || 'Token expired', closeCode: code, fatal: false });
      expiredToken = { token: usedToken, exp: expiryOf(usedToken) };
      // After a stable connection, a fresher token deserves one immediate try; after a short one
      // (a token refused soon after it was accepted), the backoff grows.
      if (attempt === 0) return retry(0);
    }
    // 1001 (server going away), 1006 (connection lost), 4503 (too slow), 4429, 1011…: resume.
    retry();
  }

  function retry(delay?: number): void {
    if (stopped) return;
    state.next(everOpened ? 'reconnecting' : 'connecting');
    const ceiling = Math.min(maxDelay, initialDelay * 2 ** attempt);
    attempt += 1;
    retryTimer = setTimeout(() => void connect(), delay ?? ceiling / 2 + (Math.random() * ceiling) / 2);
  }

  /** The network is back: try now rather than at the end of the current delay. */
  const online = (): void => {
    if (retryTimer === undefined || stopped) return;
    clearTimeout(retryTimer);
    void connect();
  };
  globalThis.addEventListener?.('online', online);

  function handle(frame: ServerFrame): void {
    switch (frame.type) {
      case 'notification':
        return receive(frame.notification);
      case 'unread_count':
        countSynced = true;
        unread.next(frame.count);
        if (marksAwaitingCount > 0) {
          marksAwaitingCount -= 1;
          channel?.postMessage({ kind: 'count', count: frame.count } satisfies ChannelMessage);
        }
        return settleCount();
      case 'resumed':
        resuming = false;
        return settleCount();
      case 'token_expiring':
        void refreshToken();
        return;
      case 'cursor_reset': {
        // The cursor is past the user's newest id (restored database): start over from the server's.
        const reset = readId(frame.lastId) ?? 0n;
        cursor = reset;
        try {
          if (storage && userId !== undefined) storage.setItem(storageKey(userId), reset.toString());
        } catch {
          // Storage full or forbidden: the cursor stays in memory.
        }
        return;
      }
      case 'marked':
        return acknowledged(frame.ref);
      case 'error':
        report({ code: frame.code, message: frame.message, fatal: false });
        return markRefused(frame.code, frame.ref);
    }
  }

  /** Sends the waiting marks as one batch (all, or up to 500 ids), when none is in flight. */
  function sendMarks(): void {
    if (markInFlight || markTimer !== undefined || socket?.readyState !== WebSocketImpl.OPEN) return;
    if (!waitingMarkAll && waitingMarks.size === 0) return;
    markSequence += 1;
    const ref = String(markSequence);
    let frame: ClientFrame;
    if (waitingMarkAll) {
      waitingMarkAll = false;
      markInFlight = { ref, ids: [], all: true };
      frame = { type: 'mark_all_read', ref };
    } else if (waitingMarks.size > 0) {
      const ids = [...waitingMarks].slice(0, MARK_READ_BATCH);
      for (const id of ids) waitingMarks.delete(id);
      markInFlight = { ref, ids, all: false };
      frame = { type: 'mark_read', ids, ref };
    } else {
      return;
    }
    marksAwaitingCount += 1;
    socket.send(JSON.stringify(frame));
    markTimer = setTimeout(() => {
      markTimer = undefined;
      requeueMarks();
      sendMarks();
    }, MARK_ACK_TIMEOUT_MS);
  }

  function acknowledged(ref: string): void {
    if (markInFlight?.ref !== ref) return;
    markInFlight = undefined;
    markAttempt = 0;
    clearTimeout(markTimer);
    markTimer = undefined;
    sendMarks();
  }

  /**
   * An error while a batch is in flight: its own (same ref), or a `rate_limited` without ref (the
   * server refuses a frame over the limit unread, so it cannot name it). Retryable: sent again
   * after a growing delay; otherwise reported as `mark_failed` with the ids.
   */
  function markRefused(code: string, ref: string | undefined): void {
    const batch = markInFlight;
    if (!batch || (ref !== undefined ? ref !== batch.ref : code !== 'rate_limited')) return;
    clearTimeout(markTimer);
    markTimer = undefined;
    if (!RETRY_MARK_CODES.has(code)) {
      markInFlight = undefined;
      const what = batch.all ? 'all' : batch.ids.join(', ');
      report({ code: 'mark_failed', message: `Marks refused (${code}): ${what}`, fatal: false });
      return sendMarks();
    }
    requeueMarks();
    const ceiling = Math.min(maxDelay, initialDelay * 2 ** markAttempt);
    markAttempt += 1;
    markTimer = setTimeout(
      () => {
        markTimer = undefined;
        sendMarks();
      },
      ceiling / 2 + (Math.random() * ceiling) / 2,
    );
  }

  /** The batch in flight goes back to the waiting marks (they are idempotent: a repeat is harmless). */
  function requeueMarks(): void {
    const batch = markInFlight;
    markInFlight = undefined;
    clearTimeout(markTimer);
    markTimer = undefined;
    if (!batch) return;
    if (batch.all) waitingMarkAll = true;
    else for (const id of batch.ids) waitingMarks.add(id);
  }

  function receive(notification: NotifyNotification): void {
    const id = BigInt(notification.id);
    // Anything at or below the cursor was already delivered. Catch-up then live, ids only go up.
    if (cursor !== undefined && id <= cursor) return;
    remember(id);
    // The count frame covers what was committed before it: add the live notifications that
    // follow it. One that came before it or during the catch-up may or may not be in it.
    const count = unread.value;
    if (!countSynced || resuming || count === undefined) countUncertain = true;
    else if (notification.readAt === null) unread.next(count + 1);
    notifications.next(notification);
  }

  /**
   * Once the count has come and the catch-up is over, asks for a fresh count if a notification
   * arrived in between. The protocol has no count request: a `mark_read` of no notification
   * (id 0 does not exist) marks nothing and is answered with the count.
   */
  function settleCount(): void {
    if (!countUncertain || !countSynced || resuming || socket?.readyState !== WebSocketImpl.OPEN) return;
    countUncertain = false;
    socket.send(JSON.stringify({ type: 'mark_read', ids: ['0'] } satisfies ClientFrame));
  }

  async function refreshToken(): Promise<void> {
    try {
      const fresh = await options.getToken();
      if (fresh !== token && socket?.readyState === WebSocketImpl.OPEN) {
        token = fresh;
        socket.send(JSON.stringify({ type: 'refresh_token', token: fresh } satisfies ClientFrame));
      }
    } catch (error) {
      // The server closes with 4401 at expiry; the reconnection asks getToken again.
      report({ code: 'get_token_failed', message: messageOf(error), fatal: false });
    }
  }

  function report(error: NotifyClientError): void {
    errors.next(error);
  }

  function stop(): void {
    stopped = true;
    if (retryTimer !== undefined) clearTimeout(retryTimer);
    retryTimer = undefined;
    clearTimeout(stableTimer);
    clearTimeout(markTimer);
    globalThis.removeEventListener?.('online', online);
    const ws = socket;
    socket = undefined;
    if (ws && ws.readyState <= WebSocketImpl.OPEN) ws.close(1000, 'Client closed');
    channel?.close();
    state.next('closed');
    for (const subject of [notifications, state, reads, errors, unread]) subject.complete();
  }

  queueMicrotask(() => void connect());

  return {
    notifications$: notifications.asObservable(),
    unreadCount$: unread.pipe(
      filter((count): count is number => count !== undefined),
      distinctUntilChanged(),
    ),
    connectionState$: state.pipe(distinctUntilChanged()),
    reads$: reads.asObservable(),
    errors$: errors.asObservable(),
    get lastId() {
      return cursor?.toString();
    },
    get unreadCount() {
      return unread.value;
    },
    get connectionState() {
      return state.value;
    },
    markRead(ids) {
      if (stopped) return;
      // The server refuses a whole batch for one id it cannot take: such an id must never join
      // one (issue 11, review defect 5b: it blocked every mark, resent for ever). Reported, not sent.
      const valid = ids.filter(isNotificationId);
      const invalid = ids.filter((id) => !isNotificationId(id));
      if (invalid.length > 0) {
        const what = invalid.map((id) => JSON.stringify(id)).join(', ');
        report({ code: 'mark_failed', message: `Not notification ids: ${what}`, fatal: false });
      }
      if (valid.length === 0) return;
      reads.next({ ids: valid });
      channel?.postMessage({ kind: 'read', ids: valid } satisfies ChannelMessage);
      for (const id of valid) waitingMarks.add(id);
      sendMarks();
    },
    markAllRead() {
      if (stopped) return;
      reads.next({ all: true });
      channel?.postMessage({ kind: 'read_all' } satisfies ChannelMessage);
      // Everything, ids marked before included.
      waitingMarks.clear();
      waitingMarkAll = true;
      sendMarks();
    },
    close() {
      if (!stopped) stop();
    },
  };
}

/** One page of a user's notifications over REST, newest first. */
export async function fetchNotifications(options: {
  url?: string;
  token: string;
  limit?: number;
  /** The previous page's `nextCursor`. */
  before?: string;
  unreadOnly?: boolean;
}): Promise<{ items: NotifyNotification[]; nextCursor: string | null }> {
  const url = new URL('/api/v1/users/me/notifications', options.url ?? globalThis.location.origin);
  url.protocol = url.protocol === 'wss:' ? 'https:' : url.protocol === 'ws:' ? 'http:' : url.protocol;
  if (options.limit !== undefined) url.searchParams.set('limit', String(options.limit));
  if (options.before !== undefined) url.searchParams.set('before', options.before);
  if (options.unreadOnly) url.searchParams.set('unread', 'true');
  const response = await fetch(url, { headers: { authorization: `Bearer ${options.token}` } });
  if (!response.ok) {
    const body = (await response.json().catch(() => undefined)) as
      { error?: { message?: string } } | undefined;
    throw new Error(body?.error?.message ?? `HTTP ${response.status}`);
  }
  return (await response.json()) as { items: NotifyNotification[]; nextCursor: string | null };
}

/** The token's `sub`, read without verifying (the server verifies): it names the storage key. */
export function subjectOf(token: string): string | undefined {
  const sub = claimsOf(token)?.sub;
  return typeof sub === 'string' && sub !== '' ? sub : undefined;
}

/** The token's `exp` (epoch seconds), read without verifying; undefined when unreadable. */
export function expiryOf(token: string): number | undefined {
  const exp = claimsOf(token)?.exp;
  return typeof exp === 'number' && Number.isFinite(exp) ? exp : undefined;
}

/**
 * True when `token` may succeed where `expired` was refused: a later `exp` (compared between
 * tokens, never with this machine's clock, which may be off), or a different token when either
 * has no readable `exp`.
 */
function isFresher(token: string, expired: { token: string; exp: number | undefined }): boolean {
  const exp = expiryOf(token);
  if (exp !== undefined && expired.exp !== undefined) return exp > expired.exp;
  return token !== expired.token;
}

function claimsOf(token: string): { sub?: unknown; exp?: unknown } | undefined {
  try {
    const payload = token.split('.')[1];
    if (!payload) return undefined;
    const binary = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const json = new TextDecoder().decode(Uint8Array.from(binary, (char) => char.charCodeAt(0)));
    const claims = JSON.parse(json) as unknown;
    return typeof claims === 'object' && claims !== null
      ? (claims as { sub?: unknown; exp?: unknown })
      : undefined;
  } catch {
    return undefined;
  }
}

/** The largest notification id: PostgreSQL's bigint maximum, as `server/protocol/messages.ts` has it. */
const MAX_NOTIFICATION_ID = 9223372036854775807n;

/**
 * The server's rule for a notification id (`notificationId` in `server/protocol/messages.ts`):
 * digits without leading zeros, at most the bigint maximum. A copy, so that this module stays
 * alone (the server's is a zod schema); test/notify-client-ids.test.ts keeps the two equal.
 */
export function isNotificationId(value: unknown): value is string {
  return (
    typeof value === 'string' && /^(?:0|[1-9]\d{0,18})$/.test(value) && BigInt(value) <= MAX_NOTIFICATION_ID
  );
}

function readId(value: string | null | undefined): bigint | undefined {
  return isNotificationId(value) ? BigInt(value) : undefined;
}

function defaultStorage(): Pick<Storage, 'getItem' | 'setItem'> | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    // Storage disabled (privacy settings): memory only.
    return null;
  }
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
