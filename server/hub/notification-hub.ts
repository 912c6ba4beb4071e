import { Subject, type Observable } from 'rxjs';
import type { SerializedNotification } from '../notifications/notification-queries.js';
import { notificationFrame } from '../protocol/messages.js';

/** A notification on its way to sockets: framed and UTF-8 encoded once, for all of them. */
export interface LiveNotification extends SerializedNotification {
  frame: Buffer;
}

interface UserStream {
  subject: Subject<LiveNotification>;
  sockets: number;
  /** Highest id published to this user: a catch-up never publishes twice. */
  published: bigint;
  /** Where a catch-up after a LISTEN outage starts for this user; -1 until a socket told. */
  catchUpFrom: bigint;
}

export interface HubSubscription {
  notifications: Observable<LiveNotification>;
  release(): void;
}

/**
 * One RxJS Subject per connected user, created with the user's first socket and released with
 * the last, so memory follows the sockets. The LISTEN feed publishes into it; every open tab
 * of the user subscribes.
 */
export class NotificationHub {
  private readonly streams = new Map<string, UserStream>();

  /** Subscribes one socket of a user. */
  connect(userId: string): HubSubscription {
    let stream = this.streams.get(userId);
    if (!stream) {
      stream = { subject: new Subject(), sockets: 0, published: 0n, catchUpFrom: -1n };
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
        }
      },
    };
  }

  /** Publishes to the user's sockets, if any; ids at or below the last published are dropped. */
  publish(userId: string, notification: SerializedNotification): void {
    const stream = this.streams.get(userId);
    if (!stream) return;
    const id = BigInt(notification.id);
    if (id <= stream.published) return;
    stream.published = id;
    if (id > stream.catchUpFrom) stream.catchUpFrom = id;
    stream.subject.next({ ...notification, frame: Buffer.from(notificationFrame(notification.json)) });
  }

  /** The newest id the database had for a user when a socket opened: a catch-up never starts before it. */
  noteLatest(userId: string, latestId: bigint): void {
    const stream = this.streams.get(userId);
    if (stream && latestId > stream.catchUpFrom) stream.catchUpFrom = latestId;
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
  }
}
