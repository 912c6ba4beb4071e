import { BehaviorSubject, distinctUntilChanged, filter, Subject } from 'rxjs';
import { Backoff } from './backoff.js';
import { Connection } from './connection.js';
import { CursorTracker } from './cursor.js';
import { InboxMarkQueue } from './inbox-marks.js';
import type { MarkQueueOptions } from './mark-queue.js';
import { MarkBatcher } from './marks.js';
import { isNotificationId } from './notification-id.js';
import { TabChannel } from './tab-channel.js';
import type {
  ConnectionState,
  InboxChange,
  NotifyClient,
  NotifyClientError,
  NotifyClientOptions,
  NotifyNotification,
  ReadMark,
  ServerFrame,
} from './types.js';
import { UnreadCountTracker } from './unread-count.js';
import type { ClientFrame } from './wire.js';

/**
 * The browser client of normx-notify: typed ES modules, no framework, RxJS only.
 *
 * It keeps one WebSocket to `/api/v1/ws` (token in `Sec-WebSocket-Protocol`, never in the URL),
 * reconnects with jittered exponential backoff, and resumes after the last notification it saw
 * (`?lastId=`), so a reconnect misses nothing and repeats nothing. The wire format is the
 * server's (`server/protocol/messages.ts`); `web/client/protocol-check.ts` keeps the two equal.
 *
 * This module composes the parts, each in its own module: the connection loop (`connection.ts`,
 * with the tokens of `token.ts` and the delays of `backoff.ts`), the resume cursor (`cursor.ts`),
 * the unread count (`unread-count.ts`), the marks (`mark-queue.ts`, one queue for read marks in
 * `marks.ts`, one for archive, unarchive and seen in `inbox-marks.ts`) and the other tabs of the
 * user (`tab-channel.ts`).
 */

export type {
  ClientFrame,
  ConnectionState,
  InboxChange,
  InboxCounts,
  NotificationType,
  NotifyClient,
  NotifyClientError,
  NotifyClientOptions,
  NotifyNotification,
  ReadMark,
  ServerFrame,
} from './types.js';
export { PROTOCOL } from './connection.js';
export {
  fetchCounts,
  fetchNotifications,
  fetchPreferences,
  RestError,
  savePreferences,
  snoozeNotification,
  type KindPreference,
  type Preferences,
  type PreferencesChange,
  type SnoozeWhen,
} from './rest.js';
export { expiryOf, subjectOf } from './token.js';
export { isNotificationId } from './notification-id.js';

export function createNotifyClient(options: NotifyClientOptions): NotifyClient {
  const backoff = {
    initialMs: options.backoff?.initialMs ?? 500,
    maxMs: options.backoff?.maxMs ?? 30_000,
  };
  const storage = options.storage === undefined ? defaultStorage() : options.storage;

  const notifications = new Subject<NotifyNotification>();
  const state = new BehaviorSubject<ConnectionState>('connecting');
  const reads = new Subject<ReadMark>();
  const inboxChanges = new Subject<InboxChange>();
  const errors = new Subject<NotifyClientError>();
  let stopped = false;

  const cursor = new CursorTracker(storage, options.lastId);
  const unread = new UnreadCountTracker();
  const tabs = new TabChannel({
    read: (mark) => {
      if (!stopped) reads.next(mark);
    },
    count: (frame) => {
      if (!stopped) unread.fromOtherTab(frame);
    },
    inbox: (change) => {
      if (!stopped) inboxChanges.next(change);
    },
  });
  // Both kinds of marks go on the socket, counted as sent (their counts come back as an
  // `unread_count`, shared between them), and are reported alike; each queue backs off on its own.
  const markQueueOptions = (): MarkQueueOptions<ClientFrame> => ({
    canSend: () => connection.isOpen(),
    send: (frame) => {
      unread.markSent();
      connection.send(frame);
    },
    fail: (message) => report({ code: 'mark_failed', message, fatal: false }),
    backoff: new Backoff(backoff),
  });
  const marks = new MarkBatcher(markQueueOptions());
  // Archive, unarchive, seen.
  const inboxMarks = new InboxMarkQueue(markQueueOptions());
  const connection = new Connection(
    {
      url: options.url,
      WebSocket: options.WebSocket ?? globalThis.WebSocket,
      getToken: options.getToken,
      backoff,
    },
    {
      resumeFor(user) {
        if (cursor.switchTo(user)) {
          unread.forget();
          tabs.join(user);
        }
        return cursor.lastId;
      },
      socketCreated: (socket) => unread.connecting(socket),
      opened: () => {
        marks.flush();
        inboxMarks.flush();
      },
      frame: handle,
      closed() {
        unread.closed();
        // The batch in flight may or may not have been stored: it goes again on the next socket.
        marks.requeue();
        inboxMarks.requeue();
      },
      state: (next) => state.next(next),
      error(error) {
        report(error);
        if (error.fatal) stop();
      },
    },
  );

  function handle(frame: ServerFrame): void {
    switch (frame.type) {
      case 'notification':
        return receive(frame.notification);
      case 'unread_count':
        if (unread.counted(frame)) tabs.shareCount(frame);
        return settleCount();
      case 'resumed':
        unread.resumed();
        return settleCount();
      case 'token_expiring':
        void connection.refreshToken();
        return;
      case 'cursor_reset':
        return cursor.reset(frame.lastId);
      case 'marked':
        marks.acknowledged(frame.ref);
        return inboxMarks.acknowledged(frame.ref);
      case 'error':
        report({ code: frame.code, message: frame.message, fatal: false });
        marks.refused(frame.code, frame.ref);
        return inboxMarks.refused(frame.code, frame.ref);
    }
  }

  function receive(notification: NotifyNotification): void {
    if (!cursor.advance(BigInt(notification.id))) return;
    unread.received(notification);
    notifications.next(notification);
  }

  /** Asks for a fresh count when one is due (the protocol has no count request: see takeRecount). */
  function settleCount(): void {
    if (connection.isOpen() && unread.takeRecount()) connection.send({ type: 'mark_read', ids: ['0'] });
  }

  function report(error: NotifyClientError): void {
    errors.next(error);
  }

  /**
   * The server refuses a whole batch for one id it cannot take: such an id must never join one
   * (it blocked every mark, resent for ever). Reported, not sent.
   */
  function validIds(ids: readonly string[]): string[] {
    const invalid = ids.filter((id) => !isNotificationId(id));
    if (invalid.length > 0) {
      const what = invalid.map((id) => JSON.stringify(id)).join(', ');
      report({ code: 'mark_failed', message: `Not notification ids: ${what}`, fatal: false });
    }
    return ids.filter(isNotificationId);
  }

  /** An inbox change made here: shown at once, and told to the other tabs. */
  function inbox(change: InboxChange): void {
    inboxChanges.next(change);
    tabs.shareInbox(change);
  }

  function stop(): void {
    stopped = true;
    connection.stop();
    marks.stop();
    inboxMarks.stop();
    tabs.close();
    state.next('closed');
    for (const subject of [notifications, state, reads, inboxChanges, errors]) subject.complete();
    unread.complete();
  }

  connection.start();

  return {
    notifications$: notifications.asObservable(),
    unreadCount$: unread.count$.pipe(
      filter((count): count is number => count !== undefined),
      distinctUntilChanged(),
    ),
    connectionState$: state.pipe(distinctUntilChanged()),
    reads$: reads.asObservable(),
    counts$: unread.counts$.pipe(filter((counts) => counts !== undefined)),
    inboxChanges$: inboxChanges.asObservable(),
    errors$: errors.asObservable(),
    get lastId() {
      return cursor.lastId;
    },
    get unreadCount() {
      return unread.value;
    },
    get counts() {
      return unread.counts$.value;
    },
    get connectionState() {
      return state.value;
    },
    markRead(ids) {
      if (stopped) return;
      const valid = validIds(ids);
      if (valid.length === 0) return;
      reads.next({ ids: valid });
      tabs.shareRead(valid);
      marks.add(valid);
    },
    markAllRead() {
      if (stopped) return;
      reads.next({ all: true });
      tabs.shareReadAll();
      marks.addAll();
    },
    markSeen(lastId) {
      if (stopped || validIds([lastId]).length === 0) return;
      inbox({ seenUpTo: lastId });
      inboxMarks.add({ type: 'mark_seen', lastId });
    },
    archive(ids) {
      const valid = stopped ? [] : validIds(ids);
      if (valid.length === 0) return;
      inbox({ archived: valid });
      inboxMarks.add({ type: 'archive', ids: valid });
    },
    unarchive(ids) {
      const valid = stopped ? [] : validIds(ids);
      if (valid.length === 0) return;
      inbox({ unarchived: valid });
      inboxMarks.add({ type: 'unarchive', ids: valid });
    },
    close() {
      if (!stopped) stop();
    },
  };
}

function defaultStorage(): Pick<Storage, 'getItem' | 'setItem'> | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    // Storage disabled (privacy settings): memory only.
    return null;
  }
}
