import { Subject, type Observable } from 'rxjs';
import { countsDateBefore, type CountsDate, type InboxCounts } from '../notifications/inbox-counts.js';
import type { SerializedNotification } from '../notifications/notification-queries.js';
import { countsFrame, notificationFrame } from '../protocol/messages.js';

/** A notification on its way to sockets: its id parsed, framed and UTF-8 encoded once, for all of them. */
export interface LiveNotification {
  id: string;
  seq: bigint;
  frame: Buffer;
}

/** The user's counts changed (a mark, on any server process; the retention): the frame, built once. */
export interface CountsChange {
  counts: InboxCounts;
  frame: string;
}

export type LiveEvent = LiveNotification | CountsChange;

/** What a user's stream emits: the user's events of one event-loop iteration, in order (ids increasing). */
export type LiveBatch = readonly LiveEvent[];

interface UserStream {
  subject: Subject<LiveBatch>;
  sockets: number;
  /** Published in this event-loop iteration, emitted together at its end. */
  pending: LiveEvent[];
  /** Highest id published to this user: a catch-up never publishes twice. */
  published: bigint;
  /** Where a catch-up after a LISTEN outage starts for this user; -1 until a socket told. */
  catchUpFrom: bigint;
  /** The date of the newest counts published. */
  countsDate: CountsDate | undefined;
}

export interface HubSubscription {
  notifications: Observable<LiveBatch>;
  release(): void;
}

/**
 * One RxJS Subject per connected user, created with the user's first socket and released with
 * the last, so memory follows the sockets. The LISTEN feed publishes into it; every open tab
 * of the user subscribes. A user's notifications of one event-loop iteration go out as one
 * batch: each tab then handles them in one call and one write, whatever their number.
 */
export class NotificationHub {
  private readonly streams = new Map<string, UserStream>();
  /** Streams with notifications pending in this iteration. */
  private readonly dirty = new Set<UserStream>();
  private emitScheduled = false;

  /** Subscribes one socket of a user. */
  connect(userId: string): HubSubscription {
    let stream = this.streams.get(userId);
    if (!stream) {
      stream = {
        subject: new Subject(),
        sockets: 0,
        pending: [],
        published: 0n,
        catchUpFrom: -1n,
        countsDate: undefined,
      };
      this.streams.set(userId, stream);
    }
    stream.sockets += 1;
    let released = false;
    const owner = stream;
    return {
      notifications: owner.subject.asObservable(),
      release: () => {
        if (released) return;
        released = true;
        owner.sockets -= 1;
        if (owner.sockets === 0 && this.streams.get(userId) === owner) {
          owner.subject.complete();
          this.streams.delete(userId);
          this.dirty.delete(owner);
        }
      },
    };
  }

  /**
   * Publishes to the user's sockets, if any; ids at or below the last published are dropped.
   * So each user's stream carries ids in increasing order, and without gaps as long as the feed
   * has none: sessions rely on this to know which ids they sent live.
   */
  publish(userId: string, notification: SerializedNotification): void {
    const stream = this.streams.get(userId);
    if (!stream) return;
    const seq = BigInt(notification.id);
    if (seq <= stream.published) return;
    stream.published = seq;
    if (seq > stream.catchUpFrom) stream.catchUpFrom = seq;
    this.enqueue(stream, {
      id: notification.id,
      seq,
      frame: Buffer.from(notificationFrame(notification.json)),
    });
  }

  /**
   * Publishes a user's new counts to the user's sockets, if any, in order with the notifications.
   * `date` (the user's newest id and the version of their marks when counted) orders them: counts
   * older than what the user's tabs already have are dropped (counts held during a LISTEN gap
   * went out after the catch-up's fresher ones, and the tabs kept stale ones). Older means they
   * miss a notification already published (the tabs counted it on top), or come before the last
   * counts published in the user's order of changes (an unarchive raises the unread count with
   * no new notification: only the version tells it is newer). Undated counts are published.
   */
  publishCounts(userId: string, counts: InboxCounts, date?: CountsDate): void {
    const stream = this.streams.get(userId);
    if (!stream) return;
    if (date !== undefined) {
      if (date.latestId < stream.published) return;
      if (stream.countsDate && countsDateBefore(date, stream.countsDate)) return;
      stream.countsDate = date;
    }
    this.enqueue(stream, { counts, frame: countsFrame(counts, date) });
  }

  private enqueue(stream: UserStream, event: LiveEvent): void {
    stream.pending.push(event);
    if (stream.pending.length > 1) return;
    this.dirty.add(stream);
    if (!this.emitScheduled) {
      this.emitScheduled = true;
      setImmediate(this.emitPending);
    }
  }

  private readonly emitPending = (): void => {
    this.emitScheduled = false;
    const streams = [...this.dirty];
    this.dirty.clear();
    for (const stream of streams) {
      const batch = stream.pending;
      stream.pending = [];
      stream.subject.next(batch);
    }
  };

  /**
   * The newest id the database had for a user when a socket opened: where a catch-up after a
   * LISTEN outage starts when nothing was published to the user yet. A position already known
   * stays: moving it up would skip, for the user's other sockets, what committed during the outage.
   */
  noteLatest(userId: string, latestId: bigint): void {
    const stream = this.streams.get(userId);
    if (stream && stream.catchUpFrom < 0n) stream.catchUpFrom = latestId;
  }

  /** Users online whose position is known, and where each one's catch-up starts. */
  catchUpCursors(): Array<{ userId: string; after: bigint }> {
    return [...this.streams]
      .filter(([, stream]) => stream.catchUpFrom >= 0n)
      .map(([userId, stream]) => ({ userId, after: stream.catchUpFrom }));
  }

  get usersOnline(): number {
    return this.streams.size;
  }

  /** Ends every stream (shutdown). */
  close(): void {
    for (const stream of this.streams.values()) stream.subject.complete();
    this.streams.clear();
    this.dirty.clear();
  }
}
