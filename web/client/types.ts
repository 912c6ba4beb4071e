import type { Observable } from 'rxjs';
import type { InboxCounts, NotifyNotification } from './wire.js';

/** The client library's public types (the wire format's are in `wire.ts`). */

export type { ClientFrame, InboxCounts, NotificationType, NotifyNotification, ServerFrame } from './wire.js';

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

/** Archived, unarchived, or seen up to an id, by this tab or by another tab of the same user. */
export type InboxChange = { archived: string[] } | { unarchived: string[] } | { seenUpTo: string };

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
  /** The counts per inbox state, replayed to new subscribers once known (a server with inbox states). */
  readonly counts$: Observable<InboxCounts>;
  /** Archives, unarchives and seen marks made here or in another tab of the same user. */
  readonly inboxChanges$: Observable<InboxChange>;
  readonly errors$: Observable<NotifyClientError>;
  /** The id of the newest notification seen, the resume cursor. */
  readonly lastId: string | undefined;
  readonly unreadCount: number | undefined;
  readonly counts: InboxCounts | undefined;
  readonly connectionState: ConnectionState;
  /**
   * Marks notifications read: shown at once (reads$), sent in one message per 500 ids, kept
   * until the server acknowledges them and sent again when refused or when the socket is back.
   */
  markRead(ids: readonly string[]): void;
  markAllRead(): void;
  /**
   * The list was opened and showed everything up to `lastId` (its newest id): those are seen.
   * Like the marks: shown at once (inboxChanges$), kept until acknowledged, sent again.
   */
  markSeen(lastId: string): void;
  /** Archives notifications (out of the inbox and the unread count), as the marks are sent. */
  archive(ids: readonly string[]): void;
  /** Brings archived notifications back to the inbox. */
  unarchive(ids: readonly string[]): void;
  /** Closes the socket for good and completes every Observable. */
  close(): void;
}
